"use client";

import { useCallback, useMemo, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "@/gql";
import type { LoginEventFieldsFragment } from "@/gql/graphql";
import { useCustomerPage } from "@/customers/CustomerShell";
import { useWebSocketReconnected } from "@/urql/UrqlProvider";

export const LoginEventFields = graphql(`
  fragment LoginEventFields on LoginEvent {
    id
    username
    loginPseudonym
    workstationId
    workstationName
    method
    outcome
    reason
    accountOutcome
    accountDetail
    ip
    createdAt
  }
`);

/**
 * A directory user by username; a login that matched nobody only as "Unknown
 * user" with a short pseudonym, so repeated attempts can be told apart (what
 * was typed is not kept: it may have been a password).
 */
function LoginName({ event }: { event: Pick<LoginEventFieldsFragment, "username" | "loginPseudonym"> }) {
  if (event.username) return <code>{event.username}</code>;
  return (
    <span className="muted">
      Unknown user{event.loginPseudonym ? <> <code title="The same for repeated attempts with the same login">#{event.loginPseudonym.slice(0, 8)}</code></> : null}
    </span>
  );
}

const LoginHistoryQuery = graphql(`
  query LoginHistory($tenantId: ID!, $first: Int!) {
    loginEvents(tenantId: $tenantId, first: $first) {
      edges {
        node {
          ...LoginEventFields
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

const LoginEventsLiveSubscription = graphql(`
  subscription LoginEventsLive($tenantId: ID!) {
    loginEventAdded(tenantId: $tenantId) {
      ...LoginEventFields
    }
  }
`);

/** Logins shown at first, and how many more "Show older logins" adds. */
const HISTORY_PAGE = 50;

const REASON_TEXT: Record<string, string> = {
  WRONG_PASSWORD: "wrong password",
  UNKNOWN_USER: "unknown user",
  ACCOUNT_DISABLED: "account disabled",
  ACCOUNT_LOCKED: "account locked",
  DESKTOP_LOGIN_DISABLED: "desktop login is off",
  PASSWORD_LOGIN_NOT_ALLOWED: "password login not allowed",
  WORKSTATION_PENDING: "workstation not approved yet",
  TENANT_SUSPENDED: "organisation suspended",
  DENIED: "denied on the phone",
};

const ACCOUNT_TEXT: Record<string, string> = {
  CREATED: "Created the local account",
  TAKEN_OVER: "Took over the local account",
  REFUSED: "Refused the local account",
  PASSWORD_REJECTED: "Windows rejected the password",
};

const time = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

export function LoginFeedScreen() {
  const { customer } = useCustomerPage();
  return <LoginFeed tenantId={customer.id} tenantName={customer.displayName} />;
}

/**
 * Desktop logins on the customer's workstations, newest first: the history from the API,
 * and each new attempt (and its account report) pushed over the WebSocket as it happens.
 * The history is asked again whenever the WebSocket reconnects, since pushes sent while it
 * was down are gone, and on every visit, since logins made while the page was closed were
 * never pushed to it. Each pushed event also drops the customer's login figures from the
 * cache (see portal-cache.ts), so the header above asks for them again.
 */
function LoginFeed({ tenantId, tenantName }: { tenantId: string; tenantName: string }) {
  const [limit, setLimit] = useState(HISTORY_PAGE);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: LoginHistoryQuery,
    variables: { tenantId, first: limit },
    requestPolicy: "cache-and-network",
  });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  useWebSocketReconnected(reload);

  const [live] = useSubscription(
    { query: LoginEventsLiveSubscription, variables: { tenantId } },
    (received: LoginEventFieldsFragment[] = [], event) => [event.loginEventAdded, ...received].slice(0, HISTORY_PAGE),
  );

  // One row per attempt: a pushed update (the account report) replaces the older copy. The
  // cache updates a listed attempt in place too; pushed attempts the history has not seen are
  // kept here.
  const events = useMemo(() => {
    const byId = new Map<string, LoginEventFieldsFragment>();
    for (const edge of data?.loginEvents?.edges ?? []) byId.set(edge.node.id, edge.node);
    for (const event of [...(live.data ?? [])].reverse()) byId.set(event.id, event);
    return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }, [data, live.data]);
  const hasOlder = data?.loginEvents?.pageInfo.hasNextPage ?? false;
  const newest = live.data?.[0];

  let body;
  if (!data && !error) {
    body = (
      <p className="table-status" role="status">
        Loading the login history…
      </p>
    );
  } else if (error) {
    body = (
      <p className="table-status" role="alert">
        Could not load the login history: {error.message}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  } else if (events.length === 0) {
    body = <p className="table-status">No desktop logins yet. They appear here as they happen.</p>;
  } else {
    body = (
      <>
        {/* Focusable, so that keyboard users can scroll the rows sideways on a phone (nothing in them takes focus). */}
        <div className="table-scroll" role="region" aria-label="Login history" tabIndex={0}>
          <table className="customer-table login-table">
            <caption className="visually-hidden">Desktop logins at {tenantName}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Workstation</th>
                <th scope="col">Method</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id} data-outcome={event.outcome}>
                  <td>
                    <time dateTime={event.createdAt}>{time.format(new Date(event.createdAt))}</time>
                  </td>
                  <th scope="row">
                    <LoginName event={event} />
                  </th>
                  <td>{event.workstationName ?? "—"}</td>
                  <td>{event.method === "QR" ? "Phone (QR)" : "Password"}</td>
                  <td>
                    <Outcome event={event} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {hasOlder && (
          <p className="table-more">
            <button type="button" className="button-secondary" onClick={() => setLimit((current) => current + HISTORY_PAGE)} disabled={fetching}>
              {fetching ? "Loading…" : "Show older logins"}
            </button>
          </p>
        )}
      </>
    );
  }

  return (
    <section className="card" aria-labelledby="login-feed-title">
      <div className="section-head">
        <h2 id="login-feed-title">Login feed</h2>
        <p className="muted live-indicator">
          {live.error ? (
            <span role="alert">Live updates stopped: {live.error.message}</span>
          ) : (
            <>
              <span className="live-dot" aria-hidden="true" /> Updates live
            </>
          )}
        </p>
      </div>
      {/* Says each pushed login once, without reading the whole table again. */}
      <p className="visually-hidden" role="status">
        {newest ? `New login: ${newest.username ?? "unknown user"} on ${newest.workstationName ?? "a workstation"}, ${newest.outcome === "SUCCEEDED" ? "succeeded" : "failed"}.` : ""}
      </p>
      {body}
    </section>
  );
}

function Outcome({ event }: { event: LoginEventFieldsFragment }) {
  const succeeded = event.outcome === "SUCCEEDED";
  return (
    <>
      <span className={succeeded ? "tag tag-success" : "tag tag-danger"}>
        {succeeded ? "Succeeded" : "Failed"}
        {!succeeded && event.reason ? `: ${REASON_TEXT[event.reason] ?? event.reason.toLowerCase().replaceAll("_", " ")}` : ""}
      </span>
      {event.accountOutcome && (
        <span className="account-outcome muted">
          {" "}
          {ACCOUNT_TEXT[event.accountOutcome] ?? event.accountOutcome}
          {event.accountDetail ? ` (${event.accountDetail})` : ""}
        </span>
      )}
    </>
  );
}
