// What a technician's phone signs to approve an elevation, and what the agent
// verifies before it acts. The server checks the same bytes, but the agent's
// check is what keeps an API that was taken over from elevating anyone.
//
// Canonical bytes: UTF-8 of these lines joined by "\n", no trailing newline:
//   latchkey-elevation-v1
//   <tenant id>
//   <workstation id>
//   <challenge id>
//   <base64url(SHA-256(UTF-8 QR secret)), no padding>
//   <mode: SIGN_IN | IN_SESSION>
//   <account name>
//   <minutes, decimal>
//   <technician (user) id>
//   <authenticator (device) id>
// Signatures as for challenges: P-256 ECDSA/SHA-256 in IEEE P1363 form, or
// raw Ed25519, base64url.
export const ELEVATION_SIGNING_PURPOSE = "latchkey-elevation-v1";

export type ElevationSigningInput = {
  tenantId: string;
  workstationId: string;
  challengeId: string;
  secretHash: string;
  mode: "SIGN_IN" | "IN_SESSION";
  account: string;
  minutes: number;
  technicianId: string;
  deviceId: string;
};

export function elevationSigningBytes(input: ElevationSigningInput): Buffer {
  const parts = [
    ELEVATION_SIGNING_PURPOSE,
    input.tenantId,
    input.workstationId,
    input.challengeId,
    input.secretHash,
    input.mode,
    input.account,
    String(input.minutes),
    input.technicianId,
    input.deviceId,
  ];
  if (parts.some((part) => part.length === 0 || /[\r\n]/.test(part))) throw new Error("elevation signing input has an empty or multi-line part");
  return Buffer.from(parts.join("\n"), "utf8");
}
