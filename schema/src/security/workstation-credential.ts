// How a workstation proves itself: a short-lived JWT it mints and signs with its
// own enrolled signing key (Ed25519 as EdDSA, or P-256 as ES256), sent as the
// Bearer token. The server keeps only the public key, so a database dump holds
// no workstation secret, and removing the workstation's row ends its access at once.
//
//   header  { alg: "EdDSA" | "ES256", typ: "JWT" }
//   claims  { iss: <workstation id>, sub: <workstation id>, aud: "latchkey", iat, exp, jti }
//           exp - iat <= 300 s; by the server's clock a credential is accepted
//           only from 240 s before its exp until 60 s after it (300 s in all, with
//           room for an agent's clock being a minute off either way), and each
//           jti only once (see ReplayGuard)
import { createPublicKey, type KeyObject } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { isUuid } from "../validation.ts";

export const WORKSTATION_CREDENTIAL_AUDIENCE = "latchkey";
/** The longest lifetime (exp - iat) a workstation may give its credential. */
export const MAX_CREDENTIAL_LIFETIME_SECONDS = 300;
export const CREDENTIAL_CLOCK_TOLERANCE_SECONDS = 60;
/** Longest accepted jti: the agent sends 22 characters (16 random bytes). */
const MAX_JTI_LENGTH = 64;

/** A credential that passed every check: who signed it, and what its single use is remembered by. */
export type VerifiedCredential = { workstationId: string; jti: string; exp: number };

export type SigningAlgorithm = "ED25519" | "P256";
export type KeyAgreementAlgorithm = "X25519" | "P256";

/** What the server holds about a workstation to check its credential. */
export type WorkstationSigningKey = { signingAlgorithm: SigningAlgorithm; signingPublicKey: string };

const JWS_ALGORITHM: Record<SigningAlgorithm, "EdDSA" | "ES256"> = { ED25519: "EdDSA", P256: "ES256" };

// A real credential is a few hundred characters; anything far longer is not
// one, and is refused before any decoding.
const MAX_CREDENTIAL_LENGTH = 2048;
// SPKI DER of an Ed25519/X25519 key is 44 bytes, of a P-256 key 91; base64 of
// 512 characters leaves room without letting anyone hand us a large blob.
const MAX_SPKI_BASE64_LENGTH = 512;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Whether `token` has the shape of a workstation credential: three base64url
 * parts whose header names EdDSA or ES256. Session and device tokens (one
 * base64url string, no dots) never match, so the API can tell them apart
 * without a database lookup. Says nothing about validity.
 */
export function looksLikeWorkstationCredential(token: string): boolean {
  if (token.length > MAX_CREDENTIAL_LENGTH || !JWT_SHAPE.test(token)) return false;
  try {
    const { alg } = decodeProtectedHeader(token);
    return alg === "EdDSA" || alg === "ES256";
  } catch {
    return false;
  }
}

/**
 * The workstation that signed `jwt`, or null for anything that is not a valid,
 * current credential of an enrolled workstation. `sub` is read
 * unverified only to find the workstation; `lookup` returns its enrolled
 * signing key (null when there is no such workstation), and the signature,
 * audience, issuer, expiry and lifetime are then checked against it. Never
 * throws for a bad token; errors from `lookup` itself propagate.
 */
export async function verifyWorkstationCredential(
  jwt: string,
  lookup: (workstationId: string) => Promise<WorkstationSigningKey | null>,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<VerifiedCredential | null> {
  if (!looksLikeWorkstationCredential(jwt)) return null;
  let workstationId: unknown;
  try {
    workstationId = decodeJwt(jwt).sub;
  } catch {
    return null;
  }
  // Ids are UUIDs; checking here keeps arbitrary strings away from the database.
  if (typeof workstationId !== "string" || !isUuid(workstationId)) return null;

  const workstation = await lookup(workstationId);
  if (!workstation) return null;
  const key = signingKeyObject(workstation.signingPublicKey, workstation.signingAlgorithm);
  if (!key) return null;
  try {
    const { payload } = await jwtVerify(jwt, key, {
      // Only the enrolled key's own algorithm: no "none", no HS256 with the public key as secret.
      algorithms: [JWS_ALGORITHM[workstation.signingAlgorithm]],
      audience: WORKSTATION_CREDENTIAL_AUDIENCE,
      issuer: workstationId,
      subject: workstationId,
      clockTolerance: CREDENTIAL_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowSeconds * 1000),
      // Requires iat and refuses one in the future (beyond the tolerance).
      maxTokenAge: MAX_CREDENTIAL_LIFETIME_SECONDS,
      requiredClaims: ["exp", "iat", "jti"],
    });
    if (typeof payload.exp !== "number" || typeof payload.iat !== "number") return null;
    if (typeof payload.jti !== "string" || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) return null;
    if (payload.exp - payload.iat > MAX_CREDENTIAL_LIFETIME_SECONDS) return null;
    // Whatever iat and exp its signer chose, the server accepts it for 300 s of its own time at most.
    if (payload.exp - nowSeconds > MAX_CREDENTIAL_LIFETIME_SECONDS - CREDENTIAL_CLOCK_TOLERANCE_SECONDS) return null;
    return { workstationId, jti: payload.jti, exp: payload.exp };
  } catch {
    return null;
  }
}

/**
 * Checks a workstation's signing public key (SPKI DER, base64) at enrollment.
 * The algorithm it is, or null for anything but Ed25519 or P-256 (RSA, Ed448,
 * P-384, X25519, garbage).
 */
export function parseSigningKey(base64Spki: string): SigningAlgorithm | null {
  const key = parseSpki(base64Spki);
  if (!key) return null;
  if (key.asymmetricKeyType === "ed25519") return "ED25519";
  if (isP256(key)) return "P256";
  return null;
}

/**
 * Checks a workstation's key-agreement public key (SPKI DER, base64) at
 * enrollment. The algorithm it is, or null for anything but X25519 or P-256.
 */
export function parseKeyAgreementKey(base64Spki: string): KeyAgreementAlgorithm | null {
  const key = parseSpki(base64Spki);
  if (!key) return null;
  if (key.asymmetricKeyType === "x25519") return "X25519";
  if (isP256(key)) return "P256";
  return null;
}

function signingKeyObject(base64Spki: string, algorithm: SigningAlgorithm): KeyObject | null {
  const key = parseSpki(base64Spki);
  if (!key) return null;
  if (algorithm === "ED25519" && key.asymmetricKeyType === "ed25519") return key;
  if (algorithm === "P256" && isP256(key)) return key;
  return null;
}

function parseSpki(base64Spki: string): KeyObject | null {
  if (typeof base64Spki !== "string" || base64Spki.length > MAX_SPKI_BASE64_LENGTH || !BASE64.test(base64Spki)) return null;
  try {
    return createPublicKey({ key: Buffer.from(base64Spki, "base64"), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

function isP256(key: KeyObject) {
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}
