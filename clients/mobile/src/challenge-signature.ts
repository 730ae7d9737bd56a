import { createHash } from "node:crypto";
import { AuthenticatorError } from "./authenticator-error.ts";

/** What a signature commits the authenticator to. */
export type ChallengeDecision = "APPROVE" | "DENY" | "ONBOARD";

export const CHALLENGE_DECISIONS: readonly ChallengeDecision[] = ["APPROVE", "DENY", "ONBOARD"];

/** Purpose and version, first so a signature made for anything else never verifies as a challenge decision. */
export const CHALLENGE_SIGNING_CONTEXT = "latchkey-challenge-v1";

export interface ChallengeSigningInput {
  /** `tenant.id` from `scanChallenge`. */
  tenantId: string;
  /** `challenge.id` from `scanChallenge` (the same UUID as in the QR payload). */
  challengeId: string;
  /** The secret from the QR payload, exactly as it appears there. */
  qrSecret: string;
  decision: ChallengeDecision;
  /** This authenticator's id (`authenticator.id` from `verifyEmail`). */
  deviceId: string;
}

/**
 * The exact bytes an authenticator signs to approve, deny or onboard, and that
 * the server rebuilds to verify. This function is the specification; the
 * server implements the same encoding.
 *
 *   UTF-8( join("\n", [
 *     "latchkey-challenge-v1",
 *     tenantId,
 *     challengeId,
 *     base64url(SHA-256(UTF-8(qrSecret))),   // no padding
 *     decision,                              // APPROVE | DENY | ONBOARD
 *     deviceId,
 *   ]) )
 *
 * No trailing newline. Why each part is there:
 * - the context string keeps these signatures from being replayed as any other
 *   kind of signed message, and versions the format;
 * - tenant and challenge bind the decision to one request in one tenant;
 * - the hash of the QR secret proves the signer saw the QR code (a challenge id
 *   alone may be guessed or leaked) without putting the secret itself into
 *   anything that might be logged;
 * - the decision keeps an approval from being turned into a denial and back;
 * - the device id binds it to the device that scanned.
 *
 * Signatures: P-256 is ECDSA with SHA-256 in IEEE P1363 form (r || s, 64
 * bytes), Ed25519 is the raw 64-byte signature; both travel as base64url
 * without padding.
 *
 * Lines are separated by "\n", so no part may contain a line break (or be
 * empty): otherwise two different inputs could encode to the same bytes.
 */
export function challengeSigningBytes(input: ChallengeSigningInput): Uint8Array<ArrayBuffer> {
  const parts: [string, string][] = [
    ["tenantId", input.tenantId],
    ["challengeId", input.challengeId],
    ["qrSecret", input.qrSecret],
    ["deviceId", input.deviceId],
  ];
  for (const [name, value] of parts) {
    if (typeof value !== "string" || value.length === 0) {
      throw new AuthenticatorError("INVALID_SIGNING_INPUT", `${name} is required to sign a challenge decision`);
    }
    if (/[\r\n]/.test(value)) {
      throw new AuthenticatorError("INVALID_SIGNING_INPUT", `${name} must not contain a line break`);
    }
  }
  if (!CHALLENGE_DECISIONS.includes(input.decision)) {
    throw new AuthenticatorError("INVALID_SIGNING_INPUT", `decision must be one of ${CHALLENGE_DECISIONS.join(", ")}`);
  }
  const secretHash = createHash("sha256").update(input.qrSecret, "utf8").digest("base64url");
  const text = [CHALLENGE_SIGNING_CONTEXT, input.tenantId, input.challengeId, secretHash, input.decision, input.deviceId].join("\n");
  return new TextEncoder().encode(text);
}

/** Purpose and version of an elevation approval: a signature over anything else never verifies as one. */
export const ELEVATION_SIGNING_CONTEXT = "latchkey-elevation-v1";

export interface ElevationSigningInput {
  tenantId: string;
  workstationId: string;
  challengeId: string;
  /** The secret from the QR payload, exactly as it appears there. */
  qrSecret: string;
  mode: "SIGN_IN" | "IN_SESSION";
  /** The local admin account the technician becomes. */
  account: string;
  minutes: number;
  /** The approving technician's user id. */
  technicianId: string;
  deviceId: string;
}

/**
 * The exact bytes a technician's phone signs to approve an elevation, which
 * the API checks and the workstation's agent verifies before it acts:
 *
 *   UTF-8( join("\n", [
 *     "latchkey-elevation-v1", tenantId, workstationId, challengeId,
 *     base64url(SHA-256(UTF-8(qrSecret))), mode, account, minutes (decimal),
 *     technicianId, deviceId,
 *   ]) )
 *
 * Everything the phone showed is in it, so an instruction altered after the
 * approval (another account, more minutes, another workstation) no longer
 * verifies. Signed like challenge decisions (P1363 ECDSA or raw Ed25519).
 */
export function elevationSigningBytes(input: ElevationSigningInput): Uint8Array<ArrayBuffer> {
  const parts: [string, string][] = [
    ["tenantId", input.tenantId],
    ["workstationId", input.workstationId],
    ["challengeId", input.challengeId],
    ["qrSecret", input.qrSecret],
    ["mode", input.mode],
    ["account", input.account],
    ["minutes", String(input.minutes)],
    ["technicianId", input.technicianId],
    ["deviceId", input.deviceId],
  ];
  for (const [name, value] of parts) {
    if (typeof value !== "string" || value.length === 0) throw new AuthenticatorError("INVALID_SIGNING_INPUT", `${name} is required to sign an elevation`);
    if (/[\r\n]/.test(value)) throw new AuthenticatorError("INVALID_SIGNING_INPUT", `${name} must not contain a line break`);
  }
  if (!Number.isInteger(input.minutes) || input.minutes < 1) throw new AuthenticatorError("INVALID_SIGNING_INPUT", "minutes must be a whole number of at least 1");
  const secretHash = createHash("sha256").update(input.qrSecret, "utf8").digest("base64url");
  const text = [ELEVATION_SIGNING_CONTEXT, input.tenantId, input.workstationId, input.challengeId, secretHash, input.mode, input.account, String(input.minutes), input.technicianId, input.deviceId].join("\n");
  return new TextEncoder().encode(text);
}
