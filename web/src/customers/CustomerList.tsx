"use client";

import Link from "next/link";
import { useEffect, useState, type ReactNode } from "react";
import { useQuery } from "urql";
import { graphql } from "@/gql";

const CustomersQuery = graphql(`
  query Customers($first: Int!, $after: String, $search: String) {
    customers(first: $first, after: $after, search: $search) {
      edges {
        cursor
        node {
          id
          slug
          name
          displayName
          status
          userCount
          adminCount
          technicianCount
          workstationCount
          successfulLoginsLast24h
          failedLoginsLast24h
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const PAGE_SIZE = 25;
const COLUMN_COUNT = 7;
const SEARCH_DELAY_MS = 250;

/** `canCreate`: the viewer may create customers (an empty list then points at the form). */
export function CustomerList({ canCreate }: { canCreate: boolean }) {
  const [searchInput, setSearchInput] = useState("");
  const [search, setSearch] = useState("");

  useEffect(() => {
    const timer = setTimeout(() => setSearch(searchInput.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [searchInput]);

  return (
    <section className="card" aria-labelledby="customers-title">
      <div className="section-head">
        <h2 id="customers-title">Your customers</h2>
        <div className="field field-inline">
          <label htmlFor="customer-search">Search</label>
          <input
            id="customer-search"
            type="search"
            placeholder="Name or slug"
            value={searchInput}
            onChange={(event) => setSearchInput(event.target.value)}
          />
        </div>
      </div>
      {/* A new search starts again from the first page. */}
      <CustomerTable key={search} search={search} canCreate={canCreate} />
    </section>
  );
}

function CustomerTable({ search, canCreate }: { search: string; canCreate: boolean }) {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  return (
    <div className="table-scroll">
      <table className="customer-table">
        <caption className="visually-hidden">
          Customers{search ? ` matching “${search}”` : ""}, with their users, admins, technicians, workstations and the
          last 24 hours&apos; desktop logins
        </caption>
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col" className="number">
              Users
            </th>
            <th scope="col" className="number">
              Admins
            </th>
            <th scope="col" className="number">
              Technicians
            </th>
            <th scope="col" className="number">
              Workstations
            </th>
            <th scope="col" className="number">
              Successful logins (24 h)
            </th>
            <th scope="col" className="number">
              Failed logins (24 h)
            </th>
          </tr>
        </thead>
        {cursors.map((after, index) => (
          <CustomerRows
            key={after ?? "first"}
            search={search}
            after={after}
            isFirstPage={index === 0}
            canCreate={canCreate}
            isLastPage={index === cursors.length - 1}
            onLoadMore={(endCursor) => setCursors((current) => [...current, endCursor])}
          />
        ))}
      </table>
    </div>
  );
}

function CustomerRows(props: {
  search: string;
  after: string | null;
  isFirstPage: boolean;
  canCreate: boolean;
  isLastPage: boolean;
  onLoadMore: (endCursor: string) => void;
}) {
  // A new customer drops every cached page of this list (see portal-cache.ts), so it is asked again.
  const [{ data, error }, refetch] = useQuery({
    query: CustomersQuery,
    variables: { first: PAGE_SIZE, after: props.after, search: props.search || null },
    // The figures move while the portal is open (logins, workstations): show the cached
    // page at once and bring it up to date.
    requestPolicy: "cache-and-network",
  });

  if (!data && !error) {
    return <StatusRow>Loading customers…</StatusRow>;
  }
  if (error) {
    return (
      <StatusRow alert>
        Could not load customers: {error.message}{" "}
        <button type="button" className="button-link" onClick={() => refetch({ requestPolicy: "network-only" })}>
          Try again
        </button>
      </StatusRow>
    );
  }
  if (data && !data.customers) {
    return (
      <StatusRow alert>
        Your session has ended. <Link href="/login">Sign in again</Link>
      </StatusRow>
    );
  }
  const edges = data?.customers?.edges ?? [];
  const pageInfo = data?.customers?.pageInfo;
  const nextCursor = props.isLastPage && pageInfo?.hasNextPage ? pageInfo.endCursor : null;
  if (props.isFirstPage && edges.length === 0) {
    return (
      <StatusRow>
        {props.search
          ? `No customer matches “${props.search}”.`
          : props.canCreate
            ? "No customers yet. Create the first one with the form."
            : "No customers delegated to you yet. An admin of your MSP grants access to customers."}
      </StatusRow>
    );
  }

  return (
    <tbody>
      {edges.map(({ node }) => (
        <tr key={node.id}>
          <th scope="row">
            <Link href={`/customers/${node.id}`}>{node.displayName}</Link>
            {node.status === "SUSPENDED" && <span className="tag tag-danger">Suspended</span>}
            <code className="customer-slug">{node.slug}</code>
          </th>
          <td className="number">{node.userCount}</td>
          <td className="number">{node.adminCount}</td>
          <td className="number">{node.technicianCount}</td>
          <td className="number">{node.workstationCount}</td>
          <td className="number">{node.successfulLoginsLast24h}</td>
          <td className={node.failedLoginsLast24h > 0 ? "number figure-alarm" : "number"}>{node.failedLoginsLast24h}</td>
        </tr>
      ))}
      {nextCursor && (
        <tr>
          <td colSpan={COLUMN_COUNT} className="table-more">
            <button
              type="button"
              className="button-secondary"
              onClick={() => props.onLoadMore(nextCursor)}
            >
              Load more customers
            </button>
          </td>
        </tr>
      )}
    </tbody>
  );
}

function StatusRow({ children, alert }: { children: ReactNode; alert?: boolean }) {
  return (
    <tbody>
      <tr>
        <td colSpan={COLUMN_COUNT} className="table-status" role={alert ? "alert" : "status"}>
          {children}
        </td>
      </tr>
    </tbody>
  );
}
