import type { ChallengeKind, ChallengeScan } from "./authenticator.ts";

const KIND_LABELS: Record<ChallengeKind, string> = {
  PORTAL_LOGIN: "portal sign-in",
  DESKTOP_LOGIN: "desktop login",
  ELEVATED_ACCESS: "elevated access to a workstation",
  DEVICE_ONBOARDING: "device onboarding",
  BREAK_GLASS_REVEAL: "break-glass password reveal (only you, from your own portal session)",
  KEY_OPERATION: "work with the customer's master key on this phone",
};

// The requester chooses its name and user agent: a line break or a terminal
// escape in them could forge a line of this very report ("IP address: matches")
// and bidirectional overrides could reorder what is shown. Show them as text only.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text from the API as one harmless line; empty or missing reads "(not given)". */
export function printable(text: string | null): string {
  return text === null || text === "" ? "(not given)" : text.replace(UNSAFE_CHARACTERS, "\uFFFD");
}

function timestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? printable(iso) : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function span(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return seconds < 172_800 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} days`;
}

/** How long ago the request was made; a few seconds either way (clock skew) reads as "just now". */
function ago(iso: string, now: Date): string {
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(seconds)) return "";
  return seconds < 5 ? " (just now)" : ` (${span(seconds)} ago)`;
}

function until(iso: string, now: Date): string {
  const seconds = Math.round((new Date(iso).getTime() - now.getTime()) / 1000);
  if (Number.isNaN(seconds)) return "";
  return seconds > 0 ? ` (in ${span(seconds)})` : ` (expired ${span(-seconds)} ago)`;
}

/** What an elevation grants: the technician signs all of it by approving. */
function describeElevation(elevation: NonNullable<ChallengeScan["elevation"]>): string[] {
  const mode = elevation.mode === "IN_SESSION" ? "inside the running Windows session (like UAC)" : "sign-in at the login screen";
  return [
    `Workstation: ${printable(elevation.workstationName)}`,
    `Account:    ${printable(elevation.account)} (local administrator)`,
    `Mode:       ${mode}`,
    `Minutes:    ${elevation.minutes}`,
    ...(elevation.mode === "IN_SESSION"
      ? [`Signed in:  ${printable(elevation.sessionUser)} (${elevation.sessionRemote ? "remote session" : "at the console"})`]
      : []),
  ];
}

/**
 * Who is asking, as readable lines for the person deciding: the context that
 * lets them notice a relayed QR code (a tenant, requester or IP they do not
 * recognise) before approving.
 */
export function describeScan(scan: ChallengeScan, now: Date = new Date()): string[] {
  const ip = scan.requesterIp
    ? `${printable(scan.requesterIp)}, ${scan.ipMatches ? "matches this phone's IP" : "does NOT match this phone's IP: approve only if you started this request yourself"}`
    : "(unknown)";
  return [
    `Tenant:     ${printable(scan.tenant.displayName)} (${printable(scan.tenant.slug)})`,
    `Request:    ${KIND_LABELS[scan.challenge.kind] ?? printable(scan.challenge.kind)}`,
    `Requester:  ${printable(scan.requesterName)} (${printable(scan.requesterKind.toLowerCase().replace(/_/g, " "))})`,
    // A workstation enrolled minutes ago asking for a login deserves a second look.
    ...(scan.requesterEnrolledAt ? [`Enrolled:   ${timestamp(scan.requesterEnrolledAt)}${ago(scan.requesterEnrolledAt, now)}`] : []),
    ...(scan.elevation ? describeElevation(scan.elevation) : []),
    `IP address: ${ip}`,
    `User agent: ${printable(scan.userAgent)}`,
    `Requested:  ${timestamp(scan.createdAt)}${ago(scan.createdAt, now)}`,
    `Expires:    ${timestamp(scan.expiresAt)}${until(scan.expiresAt, now)}`,
    `Challenge:  ${printable(scan.challenge.id)} (${printable(scan.challenge.status)})`,
  ];
}
