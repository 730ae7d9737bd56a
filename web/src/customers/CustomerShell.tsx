"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { createContext, useContext, type ReactNode } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "@/gql";
import type { CustomerTenantQuery } from "@/gql/graphql";
import { PortalHeader } from "@/session/PortalHeader";
import { SignedIn, type Viewer } from "@/session/SignedIn";
import { useTenantAddress } from "@/session/tenant-address";
import { useWebSocketReconnected } from "@/urql/UrqlProvider";

const CustomerTenantQueryDocument = graphql(`
  query CustomerTenant($id: ID!) {
    tenant(id: $id) {
      id
      slug
      name
      displayName
      kind
      userSource
      auditRetentionDays
      signInRequiresPhone
      status
      suspendedAt
      userCount
      adminCount
      technicianCount
      workstationCount
      successfulLoginsLast24h
      failedLoginsLast24h
      viewerCanManageUsers
      viewerCanEditSettings
      viewerCanManageDelegations
      parent {
        id
        displayName
      }
    }
  }
`);

// What moves the figures while the page is open, whoever causes it: desktop logins and
// workstations enrolling or leaving. The events themselves are not shown here; the cache
// (portal-cache.ts) drops the figures they change, and the page asks for them again.
const CustomerLoginsLiveDocument = graphql(`
  subscription CustomerLoginsLive($tenantId: ID!) {
    loginEventAdded(tenantId: $tenantId) {
      id
    }
  }
`);

const CustomerWorkstationsLiveDocument = graphql(`
  subscription CustomerWorkstationsLive($tenantId: ID!) {
    workstationChanged(tenantId: $tenantId) {
      workstationId
      change
    }
  }
`);

export type Customer = NonNullable<CustomerTenantQuery["tenant"]>;

type CustomerPage = {
  viewer: Viewer;
  customer: Customer;
};

const CustomerContext = createContext<CustomerPage | null>(null);

/** The signed-in viewer and the customer whose page this is, for the page's sections. */
export function useCustomerPage(): CustomerPage {
  const page = useContext(CustomerContext);
  if (!page) throw new Error("useCustomerPage must be used inside <CustomerShell>");
  return page;
}

/**
 * What every page of one customer shares: the portal header, the customer's name and
 * figures, and the links between its sections. Each section has its own URL.
 */
export function CustomerShell({ id, children }: { id: string; children: ReactNode }) {
  return (
    <SignedIn>
      {(viewer) => (
        <>
          <PortalHeader viewer={viewer} />
          <main className="page">
            <CustomerFrame id={id} viewer={viewer}>
              {children}
            </CustomerFrame>
          </main>
        </>
      )}
    </SignedIn>
  );
}

function CustomerFrame({ id, viewer, children }: { id: string; viewer: Viewer; children: ReactNode }) {
  // The figures change with every login and every user, delegation or workstation added or
  // removed: writes and the events below drop them from the cache (see portal-cache.ts), the
  // page asks again at once, and so does each visit.
  const [{ data, error }, refetch] = useQuery({
    query: CustomerTenantQueryDocument,
    variables: { id },
    requestPolicy: "cache-and-network",
  });
  const live = { variables: { tenantId: id }, pause: data?.tenant?.kind !== "CUSTOMER" };
  useSubscription({ query: CustomerLoginsLiveDocument, ...live });
  useSubscription({ query: CustomerWorkstationsLiveDocument, ...live });
  // Events sent while the WebSocket was down are gone: the figures are asked again.
  useWebSocketReconnected(() => refetch({ requestPolicy: "network-only" }));

  if (!data && !error) {
    return (
      <p className="page-status" role="status">
        Loading the customer…
      </p>
    );
  }
  if (error) {
    return (
      <div className="page-status" role="alert">
        <p>Could not load this customer: {error.message}</p>
        <button type="button" onClick={() => refetch({ requestPolicy: "network-only" })}>
          Try again
        </button>
      </div>
    );
  }
  const customer = data?.tenant;
  // The API answers null alike for a missing id and for a customer the viewer may not reach.
  if (!customer || customer.kind !== "CUSTOMER") {
    return (
      <div className="card">
        <h1>Customer not found</h1>
        <p>There is no customer here that you have access to.</p>
        {viewer.tenant.kind === "MSP" ? <Link href="/customers">Back to customers</Link> : <Link href="/account">Your account</Link>}
      </div>
    );
  }
  // A customer's own users see their tenant but administer nothing of it.
  if (viewer.tenant.kind === "CUSTOMER" && !customer.viewerCanManageUsers) {
    return (
      <div className="card">
        <h1>{customer.displayName}</h1>
        <p>Only your organisation&apos;s admins manage its directory.</p>
        <Link href="/account">Your account</Link>
      </div>
    );
  }

  return (
    <CustomerContext.Provider value={{ viewer, customer }}>
      <div className="customer-head">
        {viewer.tenant.kind === "MSP" && (
          <p className="breadcrumb">
            <Link href="/customers">Customers</Link> <span aria-hidden="true">›</span>
          </p>
        )}
        <h1>
          {customer.displayName} {customer.status === "SUSPENDED" && <span className="tag tag-danger">Suspended</span>}
        </h1>
        <p className="muted">
          <code>{customer.slug}</code>
          {viewer.tenant.kind === "MSP" && <OwnAddressLink customer={customer} />}
        </p>
        <CustomerFigures customer={customer} />
      </div>
      <CustomerSections customer={customer} />
      {children}
    </CustomerContext.Provider>
  );
}

/**
 * The customer's own portal. An MSP session stays on the MSP's address (its cookie belongs
 * to that host), so the customer's address asks for a sign-in, and MSP staff have no
 * password there: the link opens its phone sign-in.
 */
function OwnAddressLink({ customer }: { customer: Customer }) {
  const address = useTenantAddress(customer.slug);
  if (!address) return null;
  return (
    <>
      {" · "}
      <a href={`${address}/login/phone`} target="_blank" rel="noopener">
        Open at its own address
      </a>
    </>
  );
}

function CustomerFigures({ customer }: { customer: Customer }) {
  const figures = [
    { label: "Users", value: customer.userCount },
    { label: "Admins", value: customer.adminCount },
    { label: "Delegated technicians", value: customer.technicianCount },
    { label: "Workstations", value: customer.workstationCount },
    { label: "Successful logins, last 24 h", value: customer.successfulLoginsLast24h },
    { label: "Failed logins, last 24 h", value: customer.failedLoginsLast24h, alarming: customer.failedLoginsLast24h > 0 },
  ];
  return (
    <dl className="figures">
      {figures.map((figure) => (
        <div key={figure.label} className={figure.alarming ? "figure figure-danger" : "figure"}>
          <dt>{figure.label}</dt>
          <dd>{figure.value}</dd>
        </div>
      ))}
    </dl>
  );
}

function CustomerSections({ customer }: { customer: Customer }) {
  const pathname = usePathname();
  const base = `/customers/${customer.id}`;
  const sections = [
    { href: base, label: "Users" },
    { href: `${base}/desktop`, label: "Desktop login" },
    { href: `${base}/workstations`, label: "Workstations" },
    { href: `${base}/accounts`, label: "Accounts" },
    { href: `${base}/elevations`, label: "Elevations" },
    { href: `${base}/logins`, label: "Login feed" },
    ...(customer.viewerCanEditSettings ? [{ href: `${base}/audit`, label: "Audit log" }] : []),
    { href: `${base}/settings`, label: "Settings and access" },
  ];
  return (
    <nav className="section-tabs" aria-label={`${customer.displayName} sections`}>
      <ul>
        {sections.map((section) => (
          <li key={section.href}>
            <Link href={section.href} aria-current={pathname === section.href ? "page" : undefined}>
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
