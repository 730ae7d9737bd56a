"use client";

import { useMemo, useState, type FormEvent } from "react";
import { useQuery } from "urql";
import { graphql } from "@/gql";
import type { AuditEventFilter, AuditEventKind, AuditLogQuery } from "@/gql/graphql";
import { useApiUrl } from "@/urql/UrqlProvider";

const AuditLogQueryDocument = graphql(`
  query AuditLog($tenantId: ID!, $includeCustomers: Boolean!, $filter: AuditEventFilter, $first: Int!, $after: String) {
    auditEvents(tenantId: $tenantId, includeCustomers: $includeCustomers, filter: $filter, first: $first, after: $after) {
      totalCount
      edges {
        node {
          id
          kind
          actorId
          actorLabel
          targetType
          targetId
          ip
          createdAt
          tenant {
            id
            displayName
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

type Event = NonNullable<AuditLogQuery["auditEvents"]>["edges"][number]["node"];

/** Events per page of the table; exports are not limited by it. */
const PAGE = 50;

const time = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

/** The filter as typed in the form: dates as `YYYY-MM-DD`, empty meaning "any". */
type FilterFields = { actorId: string; action: string; targetId: string; since: string; until: string };

const NO_FILTER: FilterFields = { actorId: "", action: "", targetId: "", since: "", until: "" };

/** From the form's fields to the API's filter: "until" a day means up to the end of that day. An action is a known one (`checkedAction`). */
function toFilter(fields: FilterFields): AuditEventFilter {
  const day = (value: string, plusDays = 0) => {
    const date = new Date(`${value}T00:00:00`);
    date.setDate(date.getDate() + plusDays);
    return date.toISOString();
  };
  return {
    ...(fields.actorId ? { actorId: fields.actorId } : {}),
    ...(KIND_OF_ACTION.has(fields.action.trim()) ? { kind: KIND_OF_ACTION.get(fields.action.trim()) } : {}),
    ...(fields.targetId.trim() ? { targetId: fields.targetId.trim() } : {}),
    ...(fields.since ? { since: day(fields.since) } : {}),
    ...(fields.until ? { until: day(fields.until, 1) } : {}),
  };
}

/**
 * A tenant's audit log, or with `includeCustomers` an MSP's across the customers the
 * viewer reaches: filters, the events newest first, and exports of exactly what is
 * filtered (CSV or JSON, streamed by the API from its keyset pages).
 */
export function AuditLogScreen({ tenantId, includeCustomers, title }: { tenantId: string; includeCustomers: boolean; title: string }) {
  const apiUrl = useApiUrl();
  const [fields, setFields] = useState<FilterFields>(NO_FILTER);
  const [applied, setApplied] = useState<FilterFields>(NO_FILTER);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const [actionProblem, setActionProblem] = useState<string | null>(null);
  const filter = useMemo(() => toFilter(applied), [applied]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const action = fields.action.trim();
    if (action && !KIND_OF_ACTION.has(action)) {
      setActionProblem(`No event is called "${action}": pick one from the list`);
      return;
    }
    setActionProblem(null);
    setApplied(fields);
    setPages([null]);
  };
  const clear = () => {
    setFields(NO_FILTER);
    setApplied(NO_FILTER);
    setActionProblem(null);
    setPages([null]);
  };

  // The export names an action as it writes it (`user.created`), not by its kind.
  const exportLink = (format: "csv" | "json") => {
    const params = new URLSearchParams({ tenantId, ...(includeCustomers ? { includeCustomers: "true" } : {}) });
    const { kind, ...rest } = filter;
    if (kind) params.set("action", ACTION_NAMES[kind]);
    for (const [key, value] of Object.entries(rest)) if (value) params.set(key, String(value));
    return `${apiUrl}/audit-events.${format}?${params}`;
  };

  return (
    <section className="card" aria-labelledby="audit-log-title">
      <div className="section-head">
        <h2 id="audit-log-title">{title}</h2>
        <p className="section-actions">
          <a className="button-secondary" href={exportLink("csv")} download>
            Export CSV
          </a>
          <a className="button-secondary" href={exportLink("json")} download>
            Export JSON
          </a>
        </p>
      </div>
      <AuditChainStatus tenantId={tenantId} />
      <form className="audit-filters" onSubmit={apply} aria-label="Filter the audit log">
        <label>
          Action
          <input
            name="action"
            value={fields.action}
            onChange={(event) => setFields({ ...fields, action: event.target.value })}
            placeholder="e.g. user.created"
            list="audit-actions"
            aria-invalid={actionProblem ? true : undefined}
            aria-describedby={actionProblem ? "audit-action-problem" : undefined}
          />
          {actionProblem && (
            <span id="audit-action-problem" className="field-error" role="alert">
              {actionProblem}
            </span>
          )}
        </label>
        <label>
          Actor id
          <input name="actorId" value={fields.actorId} onChange={(event) => setFields({ ...fields, actorId: event.target.value.trim() })} placeholder="Anyone" />
        </label>
        <label>
          Target id
          <input name="targetId" value={fields.targetId} onChange={(event) => setFields({ ...fields, targetId: event.target.value })} placeholder="Anything" />
        </label>
        <label>
          From
          <input type="date" name="since" value={fields.since} onChange={(event) => setFields({ ...fields, since: event.target.value })} />
        </label>
        <label>
          To
          <input type="date" name="until" value={fields.until} onChange={(event) => setFields({ ...fields, until: event.target.value })} />
        </label>
        <div className="audit-filter-actions">
          <button type="submit">Filter</button>
          <button type="button" className="button-link" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      {pages.map((after, index) => (
        <AuditPage
          key={`${JSON.stringify(filter)}:${after ?? "first"}`}
          variables={{ tenantId, includeCustomers, filter, first: PAGE, after }}
          showTenant={includeCustomers}
          isLast={index === pages.length - 1}
          isFirst={index === 0}
          onMore={(cursor) => setPages((current) => [...current, cursor])}
          onActor={(actorId) => {
            const next = { ...fields, actorId };
            setFields(next);
            setApplied(next);
            setPages([null]);
          }}
        />
      ))}
      <datalist id="audit-actions">
        {Object.values(ACTION_NAMES).map((action) => (
          <option key={action} value={action} />
        ))}
      </datalist>
    </section>
  );
}

/**
 * Each kind of audit event by the name people know it by: the one the table shows, the filter
 * takes, and exports and webhooks carry. Typed against the schema's enum, so a kind the API adds
 * fails the portal's typecheck until it is named here.
 */
const ACTION_NAMES: Record<AuditEventKind, string> = {
  SESSION_LOGGED_IN: "session.loggedIn",
  SESSION_LOG_IN_FAILED: "session.logInFailed",
  SESSION_PASSWORD_PROVED: "session.passwordProved",
  SESSION_REVOKED: "session.revoked",
  USER_CREATED: "user.created",
  USER_UPDATED: "user.updated",
  USER_INVITED: "user.invited",
  USER_PASSWORD_SET: "user.passwordSet",
  USER_PASSWORD_CHANGED: "user.passwordChanged",
  USER_PASSWORD_CHANGE_FAILED: "user.passwordChangeFailed",
  USER_PASSWORD_CHANGES_REQUIRED: "user.passwordChangesRequired",
  USER_DISABLED: "user.disabled",
  USER_ENABLED: "user.enabled",
  USER_LOCKED: "user.locked",
  USER_UNLOCKED: "user.unlocked",
  USER_ROLE_CHANGED: "user.roleChanged",
  USER_DELETED: "user.deleted",
  TENANT_SIGNED_UP: "tenant.signedUp",
  TENANT_SETTINGS_UPDATED: "tenant.settingsUpdated",
  TENANT_DESKTOP_SETTINGS_UPDATED: "tenant.desktopSettingsUpdated",
  TENANT_BRANDING_IMAGE_UPLOADED: "tenant.brandingImageUploaded",
  TENANT_BRANDING_IMAGE_REMOVED: "tenant.brandingImageRemoved",
  CUSTOMER_CREATED: "customer.created",
  CUSTOMER_SUSPENDED: "customer.suspended",
  CUSTOMER_RESUMED: "customer.resumed",
  CUSTOMER_DELETED: "customer.deleted",
  DELEGATION_GRANTED: "delegation.granted",
  DELEGATION_REVOKED: "delegation.revoked",
  CHALLENGE_APPROVED: "challenge.approved",
  CHALLENGE_DENIED: "challenge.denied",
  INSTALL_TOKEN_CREATED: "installToken.created",
  INSTALL_TOKEN_REVOKED: "installToken.revoked",
  WORKSTATION_ENROLLED: "workstation.enrolled",
  WORKSTATION_ENROLLMENT_REFUSED: "workstation.enrollmentRefused",
  WORKSTATION_APPROVED: "workstation.approved",
  WORKSTATION_RENAMED: "workstation.renamed",
  WORKSTATION_REMOVED: "workstation.removed",
  AUTHENTICATOR_ENROLLED: "authenticator.enrolled",
  AUTHENTICATOR_APPROVED: "authenticator.approved",
  AUTHENTICATOR_KEY_AGREEMENT_KEY_REGISTERED: "authenticator.keyAgreementKeyRegistered",
  AUTHENTICATOR_REVOKED: "authenticator.revoked",
  TENANT_KEY_MASTER_KEY_ENABLED: "tenantKey.masterKeyEnabled",
  TENANT_KEY_ROTATED: "tenantKey.rotated",
  TENANT_KEY_RECOVERY_KIT_CREATED: "tenantKey.recoveryKitCreated",
  TENANT_KEY_RECOVERED: "tenantKey.recovered",
  ELEVATION_SETTINGS_CHANGED: "elevation.settingsChanged",
  ELEVATION_WORKSTATION_ACCOUNT_ASSIGNED: "elevation.workstationAccountAssigned",
  ELEVATION_REQUESTED: "elevation.requested",
  ELEVATION_APPROVED: "elevation.approved",
  ELEVATION_REDEEMED: "elevation.redeemed",
  ELEVATION_BREAK_GLASS_REVEALED: "elevation.breakGlassRevealed",
  TECHNICIAN_SESSION_STARTED: "technicianSession.started",
  TECHNICIAN_SESSION_ENDED: "technicianSession.ended",
  TECHNICIAN_SESSION_TERMINATED: "technicianSession.terminated",
  API_KEY_CREATED: "apiKey.created",
  API_KEY_REVOKED: "apiKey.revoked",
  WEBHOOK_CREATED: "webhook.created",
  WEBHOOK_UPDATED: "webhook.updated",
  WEBHOOK_DELETED: "webhook.deleted",
  WEBHOOK_REDELIVERED: "webhook.redelivered",
  WEBHOOK_DISABLED: "webhook.disabled",
  AUDIT_EXPORTED: "audit.exported",
  AUDIT_PURGED: "audit.purged",
};

const KIND_OF_ACTION = new Map(Object.entries(ACTION_NAMES).map(([kind, action]) => [action, kind as AuditEventKind]));

const AuditChainQuery = graphql(`
  query AuditChain($tenantId: ID!) {
    auditChain(tenantId: $tenantId) {
      intact
      length
      brokenAtEventId
      problem
    }
  }
`);

/** Whether this tenant's log is intact: its events are hash-chained, so one altered or deleted in the database shows here. */
function AuditChainStatus({ tenantId }: { tenantId: string }) {
  const [{ data }] = useQuery({ query: AuditChainQuery, variables: { tenantId }, requestPolicy: "network-only" });
  const chain = data?.auditChain;
  if (!chain) return null;
  return chain.intact ? (
    <p className="muted">
      Tamper check: the {chain.length === 1 ? "event" : `${chain.length} events`} of this log are hash-chained and intact.
    </p>
  ) : (
    <p className="field-error" role="alert">
      Tamper check failed: {chain.problem} (event {chain.brokenAtEventId}). Someone changed this log in the database.
    </p>
  );
}

function AuditPage({
  variables,
  showTenant,
  isFirst,
  isLast,
  onMore,
  onActor,
}: {
  variables: { tenantId: string; includeCustomers: boolean; filter: AuditEventFilter; first: number; after: string | null };
  showTenant: boolean;
  isFirst: boolean;
  isLast: boolean;
  onMore: (cursor: string) => void;
  onActor: (actorId: string) => void;
}) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: AuditLogQueryDocument, variables, requestPolicy: "cache-and-network" });
  if (!data && !error) {
    return (
      <p className="table-status" role="status">
        Loading the audit log…
      </p>
    );
  }
  if (error || !data?.auditEvents) {
    return (
      <p className="table-status" role="alert">
        {error ? "Could not load the audit log." : "This audit log is not yours to read."}{" "}
        {error && (
          <button type="button" className="button-link" onClick={() => refetch({ requestPolicy: "network-only" })}>
            Try again
          </button>
        )}
      </p>
    );
  }
  const { edges, pageInfo, totalCount } = data.auditEvents;
  return (
    <>
      {isFirst && (
        <p className="muted" role="status">
          {totalCount === 1 ? "1 event" : `${totalCount} events`}
        </p>
      )}
      {edges.length > 0 && (
        <div className="table-scroll" role="region" aria-label={isFirst ? "Audit events" : "More audit events"} tabIndex={0}>
          <table className="customer-table audit-table">
            <caption className="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                {showTenant && <th scope="col">Tenant</th>}
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {edges.map(({ node }) => (
                <AuditRow key={node.id} event={node} showTenant={showTenant} onActor={onActor} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {isLast && pageInfo.hasNextPage && pageInfo.endCursor && (
        <p className="table-more">
          <button type="button" className="button-secondary" disabled={fetching} onClick={() => onMore(pageInfo.endCursor!)}>
            Show older events
          </button>
        </p>
      )}
    </>
  );
}

function AuditRow({ event, showTenant, onActor }: { event: Event; showTenant: boolean; onActor: (actorId: string) => void }) {
  return (
    <tr>
      <td>
        <time dateTime={event.createdAt}>{time.format(new Date(event.createdAt))}</time>
      </td>
      {showTenant && <td>{event.tenant.displayName}</td>}
      <th scope="row">
        <code>{ACTION_NAMES[event.kind] ?? event.kind}</code>
      </th>
      <td>
        {event.actorId ? (
          <button type="button" className="button-link" title="Only this actor's events" onClick={() => onActor(event.actorId!)}>
            {event.actorLabel ?? event.actorId}
          </button>
        ) : (
          <span className="muted">{event.actorLabel ?? "—"}</span>
        )}
      </td>
      <td>{event.targetType ? `${event.targetType} ${event.targetId ?? ""}`.trim() : "—"}</td>
      <td>{event.ip ?? "—"}</td>
    </tr>
  );
}
