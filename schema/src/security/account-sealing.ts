// A password handed to a workstation travels sealed to that workstation's
// enrolled key-agreement key with HPKE (RFC 9180, mode base): only the agent
// holding the private key can open it, and only for the attempt it was sealed
// for. The associated data binds the box to the workstation, the attempt and
// the expiry, so a box replayed to another workstation or attempt, or with a
// later expiry, does not open.
//
//   KEM   DHKEM(X25519, HKDF-SHA256) or DHKEM(P-256, HKDF-SHA256), by the enrolled key
//   KDF   HKDF-SHA256          AEAD  AES-256-GCM
//   info  "latchkey account instruction v1"
//   aad   "latchkey-account-v1|<workstationId>|<attemptId>|<expiresAt as ISO-8601>"
//   wire  enc and ciphertext as base64url without padding
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import type { KeyAgreementAlgorithm } from "./workstation-credential.ts";

export const ACCOUNT_INSTRUCTION_INFO = "latchkey account instruction v1";
export const ACCOUNT_ASSOCIATED_DATA_PURPOSE = "latchkey-account-v1";

export const HPKE_SUITE_NAMES: Record<KeyAgreementAlgorithm, string> = {
  X25519: "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
  P256: "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
};

/** The GraphQL `SealedSecret`. */
export type SealedSecret = { suite: string; enc: string; ciphertext: string };

export type SealPasswordInput = {
  keyAgreementAlgorithm: KeyAgreementAlgorithm;
  /** The workstation's enrolled key-agreement key: SPKI DER, base64. */
  keyAgreementPublicKey: string;
  workstationId: string;
  attemptId: string;
  expiresAt: Date;
  password: string;
};

const WEBCRYPTO_PARAMS: Record<KeyAgreementAlgorithm, AlgorithmIdentifier | EcKeyImportParams> = {
  X25519: { name: "X25519" },
  P256: { name: "ECDH", namedCurve: "P-256" },
};

/** The HPKE suite for a key-agreement algorithm; the agent opens with the same one. */
export function hpkeSuite(algorithm: KeyAgreementAlgorithm): CipherSuite {
  const kem = algorithm === "X25519" ? new DhkemX25519HkdfSha256() : new DhkemP256HkdfSha256();
  return new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

/**
 * The associated data of one instruction. `expiresAt` is written exactly as the
 * instruction carries it (`Date.toISOString()`), so the agent can rebuild the
 * same string from the fields it received.
 */
export function accountAssociatedData(input: { workstationId: string; attemptId: string; expiresAt: Date | string }): string {
  const expiresAt = typeof input.expiresAt === "string" ? input.expiresAt : input.expiresAt.toISOString();
  for (const part of [input.workstationId, input.attemptId, expiresAt]) {
    // The separator must not occur inside a part, or two different triples could share one string.
    if (part === "" || part.includes("|")) throw new Error("Account associated data parts must be non-empty and free of '|'");
  }
  return [ACCOUNT_ASSOCIATED_DATA_PURPOSE, input.workstationId, input.attemptId, expiresAt].join("|");
}

/**
 * Seals `password` to the workstation's key-agreement key for one attempt.
 * Throws when the enrolled key cannot be imported as the named algorithm.
 */
export async function sealPassword(input: SealPasswordInput): Promise<SealedSecret> {
  const encoder = new TextEncoder();
  const recipientPublicKey = await crypto.subtle.importKey(
    "spki",
    new Uint8Array(Buffer.from(input.keyAgreementPublicKey, "base64")),
    WEBCRYPTO_PARAMS[input.keyAgreementAlgorithm],
    true,
    [],
  );
  const sender = await hpkeSuite(input.keyAgreementAlgorithm).createSenderContext({
    recipientPublicKey,
    info: encoder.encode(ACCOUNT_INSTRUCTION_INFO),
  });
  const ciphertext = await sender.seal(encoder.encode(input.password), encoder.encode(accountAssociatedData(input)));
  return {
    suite: HPKE_SUITE_NAMES[input.keyAgreementAlgorithm],
    enc: Buffer.from(sender.enc).toString("base64url"),
    ciphertext: Buffer.from(ciphertext).toString("base64url"),
  };
}
