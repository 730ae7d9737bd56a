// The topics API instances exchange. Payloads carry ids only: subscribers
// re-read the row so the client's selection and authorization are honoured,
// and no secret ever travels through Redis.
import type { PubSub } from "graphql-yoga";
import type { Logger } from "./context.ts";

export type Topics = {
  /** A new audit event in a tenant; routed by tenant id. */
  "auditEvent:added": [tenantId: string, payload: { id: string }];
  /** A session ended (log out, revocation, expiry of the user's access); routed by session id. */
  "session:ended": [sessionId: string, payload: { reason: string }];
  /** The same, unrouted: every instance drops those sessions from its cache of recent lookups. */
  "sessions:ended": [payload: { sessionIds: string[] }];
  /** A challenge changed state; routed by challenge id. */
  "challenge:updated": [challengeId: string, payload: { id: string }];
  /** A desktop login attempt was recorded or its account outcome reported; routed by tenant id. */
  "loginEvent:changed": [tenantId: string, payload: { id: string }];
  /** A tenant's workstation enrolled, was approved, renamed or removed; routed by tenant id. */
  "workstation:changed": [tenantId: string, payload: { id: string; change: "ENROLLED" | "APPROVED" | "RENAMED" | "REMOVED" }];
  /** A workstation was removed: its agent's subscriptions end; routed by workstation id. */
  "workstation:removed": [workstationId: string, payload: { reason: string }];
  /** A technician session changed (requested, approved, started, ended); routed by its customer's id and by its MSP's id. */
  "technicianSession:changed": [tenantId: string, payload: { id: string; tenantId: string }];
  /** A workstation has a new command to carry out; routed by workstation id. */
  "workstationCommand:added": [workstationId: string, payload: { id: string }];
  /** What a user may reach changed (delegation withdrawn, role changed); routed by user id. */
  "user:accessChanged": [userId: string, payload: { reason: string }];
};

export type AppPubSub = PubSub<Topics>;

/**
 * Publishes a hint after its change has committed. A failure is logged, never
 * thrown to the caller whose change already succeeded: subscribers re-read the
 * database (waiters also poll), so a lost hint only delays a live view.
 */
export function publishHint(log: Logger, topic: keyof Topics, publish: () => void) {
  try {
    publish();
  } catch (error) {
    log.error("publish failed", { topic, error: String(error) });
  }
}
