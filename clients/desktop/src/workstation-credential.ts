// The workstation credential: a JWT the agent mints and signs itself, fresh for
// every HTTP request and every WebSocket connection, so nothing long-lived is
// ever stored or sent. The API checks it against the enrolled signing key.
//
//   header  { alg: "EdDSA" (Ed25519) | "ES256" (P-256), typ: "JWT" }
//   claims  { iss: <workstation id>, sub: <workstation id>, aud: "latchkey", iat, exp, jti }
//   lifetime 120 s (the API refuses more than 300 s), jti 16 random bytes, base64url
import { randomBytes, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningAlgorithm } from "./workstation-keys.ts";

export const CREDENTIAL_AUDIENCE = "latchkey";
export const CREDENTIAL_LIFETIME_SECONDS = 120;

const JWS_ALGORITHMS: Record<SigningAlgorithm, "EdDSA" | "ES256"> = { ED25519: "EdDSA", P256: "ES256" };

export function mintWorkstationCredential(
  key: { algorithm: SigningAlgorithm; privateKey: KeyObject },
  workstationId: string,
  now: Date = new Date(),
): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: JWS_ALGORITHMS[key.algorithm], typ: "JWT" })
    .setIssuer(workstationId)
    .setSubject(workstationId)
    .setAudience(CREDENTIAL_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + CREDENTIAL_LIFETIME_SECONDS)
    .setJti(randomBytes(16).toString("base64url"))
    .sign(key.privateKey);
}
