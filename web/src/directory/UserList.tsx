"use client";

import { useCallback, useEffect, useId, useState } from "react";
import { useQuery } from "urql";
import { graphql } from "@/gql";
import type { DirectoryUserFieldsFragment } from "@/gql/graphql";
import { ApprovePhoneButton, approveLabel } from "@/team/ApprovePhoneButton";
import { ROLE_LABEL } from "./CreateUserForm";
import { UserActions } from "./UserActions";

const DirectoryUsersQuery = graphql(`
  query DirectoryUsers($tenantId: ID!, $first: Int!, $search: String) {
    users(tenantId: $tenantId, first: $first, search: $search) {
      totalCount
      edges {
        node {
          ...DirectoryUserFields
        }
      }
    }
  }
`);

const PAGE_SIZE = 100;
const SEARCH_DELAY_MS = 250;

const lockTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A customer's directory: every user with what an admin can do to them. */
export function UserList(props: {
  tenantId: string;
  tenantName: string;
  viewerId: string;
}) {
  const { tenantId, tenantName, viewerId } = props;
  const [searchInput, setSearchInput] = useState("");
  const [search, setSearch] = useState("");
  const [notice, setNotice] = useState("");
  const searchId = useId();

  useEffect(() => {
    const timer = setTimeout(() => setSearch(searchInput.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [searchInput]);

  // An edited user updates in place; a user added or deleted drops every cached search of this
  // list (see portal-cache.ts), so it is asked again.
  const [{ data, error }, refetch] = useQuery({
    query: DirectoryUsersQuery,
    variables: { tenantId, first: PAGE_SIZE, search: search || null },
  });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading users…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load the users: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else if (data && !data.users) {
    body = <p className="table-status">Only admins of {tenantName} see its users.</p>;
  } else {
    const users = data?.users?.edges.map((edge) => edge.node) ?? [];
    const total = data?.users?.totalCount ?? users.length;
    body =
      users.length === 0 ? (
        <p className="table-status" role="status">
          {search ? `No user matches “${search}”.` : "No users yet. Add the first one with the form."}
        </p>
      ) : (
        <>
          <ul className="user-list" aria-label={`Users of ${tenantName}`}>
            {users.map((user) => (
              <UserItem key={user.id} user={user} isViewer={user.id === viewerId} onNotice={setNotice} />
            ))}
          </ul>
          {total > users.length && (
            <p className="muted">
              Showing the first {users.length} of {total} users. Search to find the others.
            </p>
          )}
        </>
      );
  }

  return (
    <section className="card" aria-labelledby="users-title">
      <div className="section-head">
        <h2 id="users-title">Users</h2>
        <div className="field field-inline">
          <label htmlFor={searchId}>Search users</label>
          <input
            id={searchId}
            type="search"
            placeholder="Name, username or email"
            value={searchInput}
            onChange={(event) => setSearchInput(event.target.value)}
          />
        </div>
      </div>
      <p className="form-success" role="status">
        {notice}
      </p>
      {body}
    </section>
  );
}

function UserItem(props: {
  user: DirectoryUserFieldsFragment;
  isViewer: boolean;
  onNotice: (message: string) => void;
}) {
  const { user } = props;
  const nameId = useId();
  const name = `${user.firstName} ${user.lastName}`;
  const phones = user.linkedAuthenticators;
  const waiting = (phones?.edges.map((edge) => edge.node) ?? []).filter((phone) => phone.status === "PENDING_APPROVAL");
  const linked = (phones?.totalCount ?? 0) - waiting.length;
  return (
    <li className="user-item" aria-labelledby={nameId}>
      <div className="user-item-head">
        <div>
          <h3 id={nameId} className="user-name">
            {name}
            {props.isViewer && <span className="muted"> (you)</span>}
          </h3>
          <p className="user-details">
            <code>{user.username}</code> · {user.email}
            {user.personalEmail && <> · personal: {user.personalEmail}</>}
          </p>
        </div>
        <p className="team-member-tags">
          <span className="tag">{ROLE_LABEL[user.role]}</span>
          {user.status === "DISABLED" && <span className="tag tag-danger">Disabled</span>}
          {user.locked && <span className="tag tag-danger">Locked</span>}
          {!user.hasPassword && <span className="tag">Passwordless</span>}
          {user.mustChangePassword && <span className="tag">Must change password</span>}
          {phones && (linked > 0 || waiting.length === 0) && (
            <span className={linked > 0 ? "tag tag-success" : "tag"}>
              {linked === 0 ? "No phone" : linked === 1 ? "Phone linked" : `${linked} phones linked`}
            </span>
          )}
          {waiting.length > 0 && <span className="tag tag-warning">{waiting.length === 1 ? "Phone waiting for approval" : `${waiting.length} phones waiting for approval`}</span>}
        </p>
      </div>
      {waiting.length > 0 && (
        <div className="phone-approvals">
          {waiting.map((phone) => (
            <p key={phone.id}>
              <span className="muted">{phone.name} approves nothing until it is approved. </span>
              {phone.viewerCanApprove && (
                <ApprovePhoneButton
                  phone={phone}
                  accessibleLabel={approveLabel(name, phone, waiting.length)}
                  whose={props.isViewer ? "your" : `${name}'s`}
                  onApproved={() => props.onNotice(`Approved ${phone.name} of ${name}.`)}
                />
              )}
            </p>
          ))}
        </div>
      )}
      {user.locked && user.lockedUntil && (
        <p className="user-lock muted">
          Locked for unrecognised devices{user.lockedAt && <> since {lockTime.format(new Date(user.lockedAt))}</>} until{" "}
          {lockTime.format(new Date(user.lockedUntil))}, after too many wrong passwords. Devices they used before and
          their phone still sign them in.
        </p>
      )}
      {user.viewerCanManage && (
        <UserActions user={user} roles={["ADMIN", "USER"]} onNotice={props.onNotice} />
      )}
    </li>
  );
}
