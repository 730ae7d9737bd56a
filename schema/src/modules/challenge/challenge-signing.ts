// What a phone signs to approve, deny or onboard, and how the server checks it.
//
// Canonical bytes: UTF-8 of these lines joined by "\n":
//   latchkey-challenge-v1
//   <tenant id>
//   <challenge id>
//   <base64url(SHA-256(UTF-8 QR secret)), no padding>
//   <decision: APPROVE | DENY | ONBOARD>
//   <authenticator (device) id>
// P-256: ECDSA with SHA-256, signature in IEEE P1363 form (r||s, 64 bytes) as
// WebCrypto produces it; Node's crypto.verify expects DER unless told, hence
// dsaEncoding below. Ed25519: the raw 64-byte signature. Both base64url.
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";

export const SIGNING_PURPOSE = "latchkey-challenge-v1";

export type Decision = "APPROVE" | "DENY" | "ONBOARD";

export function qrSecretHash(secret: string) {
  return createHash("sha256").update(secret, "utf8").digest("base64url");
}

export function signingBytes(input: { tenantId: string; challengeId: string; secretHash: string; decision: Decision; deviceId: string }) {
  return Buffer.from(
    [SIGNING_PURPOSE, input.tenantId, input.challengeId, input.secretHash, input.decision, input.deviceId].join("\n"),
    "utf8",
  );
}

/** Parses an enrolled public key (SPKI DER, base64) for the named algorithm, or returns null. */
export function parsePublicKey(publicKey: string, algorithm: "P256" | "ED25519"): KeyObject | null {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey, "base64"), format: "der", type: "spki" });
    if (algorithm === "ED25519" && key.asymmetricKeyType === "ed25519") return key;
    if (algorithm === "P256" && key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return key;
    return null;
  } catch {
    return null;
  }
}

/** How a decision's `signature` argument is made, in the words of the schema's descriptions. */
export function signatureDescription(decision: Decision) {
  return (
    "This phone's signature, base64url: ECDSA P-256 in IEEE P1363 form (r‖s, 64 bytes) or Ed25519, as its key is, over the UTF-8 lines " +
    `\`${SIGNING_PURPOSE}\`, tenant id, challenge id, base64url SHA-256 of the QR secret (no padding), \`${decision}\` and the authenticator id, joined by newlines.`
  );
}

export function verifySignature(
  device: { publicKey: string; algorithm: "P256" | "ED25519" },
  bytes: Buffer,
  signature: string,
): boolean {
  const key = parsePublicKey(device.publicKey, device.algorithm);
  if (!key || signature.length > 256) return false;
  const raw = Buffer.from(signature, "base64url");
  try {
    return device.algorithm === "ED25519"
      ? verify(null, bytes, key, raw)
      : verify("sha256", bytes, { key, dsaEncoding: "ieee-p1363" }, raw);
  } catch {
    return false;
  }
}
