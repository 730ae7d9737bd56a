// The failures particular to elevated access. Registered as GraphQL types in
// elevation.types.ts and listed on the fields that can raise them.
import { AppError } from "../../errors.ts";

/** Another technician holds this workstation's account: who, and until when. */
export class ElevationBusyError extends AppError {
  constructor(
    readonly holder: string,
    readonly endsAt: Date | null,
    readonly sessionId: string,
  ) {
    super(`${holder} is elevated on this workstation${endsAt ? ` until ${endsAt.toISOString()}` : ""}`, "ELEVATION_BUSY");
  }
}

export type ElevationRefusal = "ELEVATION_NOT_CONFIGURED" | "WORKSTATION_PENDING" | "AGENT_OUTDATED" | "MINUTES_NOT_ALLOWED";

const REFUSALS: Record<ElevationRefusal, string> = {
  ELEVATION_NOT_CONFIGURED: "Elevated access is not configured for this organisation: an admin must choose its shared account first",
  WORKSTATION_PENDING: "This workstation is waiting for an administrator's approval",
  AGENT_OUTDATED: "This agent is older than the organisation allows for elevated access; update it",
  MINUTES_NOT_ALLOWED: "The session is longer than this organisation allows",
};

/** An elevation the tenant's settings or the workstation's state do not allow; `code` says which. */
export class ElevationRefusedError extends AppError {
  constructor(
    readonly reason: ElevationRefusal,
    message = REFUSALS[reason],
  ) {
    super(message, reason);
  }
}
