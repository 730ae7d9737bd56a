"use client";

import { useCallback, useRef, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import type { TechnicianSessionFieldsFragment } from "@/gql/graphql";
import { actionProblem } from "@/forms/form-errors";
import { useWebSocketReconnected } from "@/urql/UrqlProvider";
import { EndTechnicianSessionMutation, TechnicianSessionChangedSubscription, TechnicianSessionsQuery } from "./elevation-operations";

type Session = TechnicianSessionFieldsFragment;

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

const REASONS: Record<string, string> = {
  EXPIRED: "expired",
  ENDED_BY_TECHNICIAN: "ended by the technician",
  ENDED_BY_ADMIN: "ended by an admin",
  REVOKED: "revoked (access withdrawn)",
  ENDED_ON_WORKSTATION: "ended on the workstation",
  NOT_APPROVED: "not approved",
};

function duration(seconds: number | null | undefined) {
  if (seconds === null || seconds === undefined) return "—";
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/**
 * Technician sessions of one customer, or (with the MSP's id) of every customer the viewer
 * reaches: the ones open now, with "End now", and the history with a filter. Every change is
 * pushed while the page is open; the lists are then asked for again.
 */
export function ElevationsScreen(props: { tenantId: string; mspWide: boolean }) {
  const [filter, setFilter] = useState<"all" | "ended">("all");
  const [workstationId, setWorkstationId] = useState("");
  const [technicianId, setTechnicianId] = useState("");
  const [active, refetchActive] = useQuery({ query: TechnicianSessionsQuery, variables: { tenantId: props.tenantId, active: true, first: 100 }, requestPolicy: "cache-and-network" });
  const [history, refetchHistory] = useQuery({
    query: TechnicianSessionsQuery,
    variables: { tenantId: props.tenantId, active: filter === "ended" ? false : null, first: 50, workstationId: workstationId || null, technicianId: technicianId || null },
    requestPolicy: "cache-and-network",
  });
  const reload = useCallback(() => {
    refetchActive({ requestPolicy: "network-only" });
    refetchHistory({ requestPolicy: "network-only" });
  }, [refetchActive, refetchHistory]);
  useWebSocketReconnected(reload);
  const [live] = useSubscription({ query: TechnicianSessionChangedSubscription, variables: { tenantId: props.tenantId } }, (_previous, event) => {
    // A new session is not in the lists yet, and one that ended leaves "active now": ask again.
    reload();
    return event;
  });

  const activeSessions = (active.data?.technicianSessions?.edges ?? []).map((edge) => edge.node);
  const historySessions = (history.data?.technicianSessions?.edges ?? []).map((edge) => edge.node);
  // The filters offer every workstation and technician seen on this page so far.
  const seen = useRef({ workstations: new Map<string, string>(), technicians: new Map<string, string>() });
  for (const session of [...activeSessions, ...historySessions]) {
    seen.current.workstations.set(session.workstationId, session.workstationName);
    if (session.technicianId) seen.current.technicians.set(session.technicianId, session.technicianName ?? session.technicianId);
  }
  return (
    <div className="elevations-layout">
      <section className="card" aria-labelledby="active-elevations-title">
        <div className="section-head">
          <h2 id="active-elevations-title">Active now</h2>
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
        {active.error && <p role="alert">Could not load the sessions: {active.error.message}</p>}
        {activeSessions.length === 0 ? (
          <p className="table-status">No technician is elevated right now.</p>
        ) : (
          <ul className="user-list" aria-label="Active technician sessions">
            {activeSessions.map((session) => (
              <ActiveSession key={session.id} session={session} mspWide={props.mspWide} onEnded={reload} />
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="elevation-history-title">
        <div className="section-head">
          <h2 id="elevation-history-title">History</h2>
          <div className="section-actions">
            <label>
              Show{" "}
              <select value={filter} onChange={(event) => setFilter(event.target.value as "all" | "ended")}>
                <option value="all">All sessions</option>
                <option value="ended">Ended sessions</option>
              </select>
            </label>
            <label>
              Workstation{" "}
              <select value={workstationId} onChange={(event) => setWorkstationId(event.target.value)}>
                <option value="">Any</option>
                {[...seen.current.workstations].map(([id, name]) => (
                  <option key={id} value={id}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Technician{" "}
              <select value={technicianId} onChange={(event) => setTechnicianId(event.target.value)}>
                <option value="">Any</option>
                {[...seen.current.technicians].map(([id, name]) => (
                  <option key={id} value={id}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
          </div>
        </div>
        <div className="table-scroll" role="region" aria-label="Technician session history (scrolls)" tabIndex={0}>
        <table className="customer-table login-table" aria-label="Technician session history">
          <thead>
            <tr>
              <th scope="col">Requested</th>
              <th scope="col">Technician</th>
              {props.mspWide && <th scope="col">Customer</th>}
              <th scope="col">Workstation</th>
              <th scope="col">Account</th>
              <th scope="col">Mode</th>
              <th scope="col">Requested / actual</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {historySessions.map((session) => (
              <tr key={session.id}>
                <td>{when.format(new Date(session.createdAt))}</td>
                <td>{session.technicianName ?? "—"}</td>
                {props.mspWide && <td>{session.customer.displayName}</td>}
                <td>{session.workstationName}</td>
                <td>{session.accountName ?? "—"}</td>
                <td>{session.mode === "IN_SESSION" ? `in ${session.sessionUser ?? "?"}'s ${session.sessionRemote ? "remote" : "console"} session` : "sign-in"}</td>
                <td>
                  {session.requestedMinutes} min / {duration(session.actualSeconds)}
                </td>
                <td>
                  {session.status === "ENDED"
                    ? `${REASONS[session.endReason ?? ""] ?? session.endReason}${session.endedByName ? ` by ${session.endedByName}` : ""}${session.endNote ? `: ${session.endNote}` : ""}`
                    : session.status.toLowerCase()}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      </section>
    </div>
  );
}

function ActiveSession(props: { session: Session; mspWide: boolean; onEnded: () => void }) {
  const { session } = props;
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, end] = useMutation(EndTechnicianSessionMutation);

  async function endNow() {
    const result = await end({ input: { id: session.id, reason: "ended from the portal" } });
    const failed = actionProblem(result.error, result.data?.endTechnicianSession, "EndTechnicianSessionPayload");
    setProblem(failed);
    if (!failed) props.onEnded();
  }

  const label = `${session.technicianName ?? "A technician"} on ${session.workstationName}`;
  return (
    <li className="user-item" aria-label={label}>
      <div className="user-item-head">
        <div>
          <h3 className="user-name">{label}</h3>
          <p className="user-details">
            {props.mspWide && <>{session.customer.displayName} · </>}
            as <code>{session.accountName}</code> · {session.mode === "IN_SESSION" ? `inside ${session.sessionUser}'s session` : "signed in"} ·{" "}
            {session.status === "STARTED" ? "started" : "approved"}
            {session.endsAt && <> · until {when.format(new Date(session.endsAt))}</>}
          </p>
        </div>
        <button type="button" className="button-danger button-small" onClick={endNow} disabled={fetching} aria-label={`End now: ${label}`}>
          {fetching ? "Ending…" : "End now"}
        </button>
      </div>
      {problem && <p role="alert">{problem}</p>}
    </li>
  );
}
