// The workstation's two key pairs, generated on the workstation and never sent
// anywhere but their public halves: a signing key that authenticates every
// request (see workstation-credential.ts) and a key-agreement key the API seals
// passwords to (see account-instruction.ts). Separate keys, so a flaw in one
// use cannot be turned against the other.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { AgentError } from "./agent-error.ts";

/** The API's `DeviceKeyAlgorithm` for the signing key. */
export type SigningAlgorithm = "ED25519" | "P256";
/** The API's `KeyAgreementAlgorithm`. */
export type KeyAgreementAlgorithm = "X25519" | "P256";
/** What `--keys` chooses: Ed25519 + X25519 (the default) or P-256 for both. */
export type KeyFamily = "ed25519" | "p256";

export const KEY_FAMILIES: readonly KeyFamily[] = ["ed25519", "p256"];

/** A key pair as the state file keeps it. */
export interface StoredKeyPair<Algorithm extends string> {
  algorithm: Algorithm;
  /** SPKI DER, base64: what the API receives at enrollment. */
  publicKey: string;
  /** PKCS8 PEM. Secret: the reason the state file is 0600. */
  privateKey: string;
}

export interface StoredWorkstationKeys {
  signingKey: StoredKeyPair<SigningAlgorithm>;
  keyAgreementKey: StoredKeyPair<KeyAgreementAlgorithm>;
}

export function generateWorkstationKeys(family: KeyFamily = "ed25519"): StoredWorkstationKeys {
  if (!KEY_FAMILIES.includes(family)) {
    throw new AgentError("INVALID_KEYS", `unknown key family "${family}"; use ${KEY_FAMILIES.join(" or ")}`);
  }
  const signing = family === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const agreement = family === "ed25519" ? generateKeyPairSync("x25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    signingKey: { algorithm: family === "ed25519" ? "ED25519" : "P256", ...exportPair(signing) },
    keyAgreementKey: { algorithm: family === "ed25519" ? "X25519" : "P256", ...exportPair(agreement) },
  };
}

function exportPair(pair: { publicKey: KeyObject; privateKey: KeyObject }) {
  return {
    publicKey: pair.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    privateKey: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

/** The signing private key as a KeyObject (what `jose` signs with), checked against its stored algorithm and public half. */
export function signingPrivateKey(stored: StoredKeyPair<SigningAlgorithm>): KeyObject {
  const key = importPrivateKey(stored, "signing");
  const matches = stored.algorithm === "ED25519" ? key.asymmetricKeyType === "ed25519" : isP256(key);
  if (!matches) throw new AgentError("INVALID_STATE", `the state file's signing key is not an ${stored.algorithm} key`);
  return key;
}

/**
 * The key-agreement private key as a WebCrypto key for @hpke/core. Extractable
 * on purpose: @hpke/core 1.9 derives the recipient's public key by exporting
 * the private key, and its fallback for a non-extractable P-256 key picks the
 * wrong sign of the point about half the time, so sealed boxes would fail to
 * open. (The key is in the state file anyway.)
 */
export async function keyAgreementPrivateKey(stored: StoredKeyPair<KeyAgreementAlgorithm>): Promise<CryptoKey> {
  const key = importPrivateKey(stored, "key-agreement");
  const matches = stored.algorithm === "X25519" ? key.asymmetricKeyType === "x25519" : isP256(key);
  if (!matches) throw new AgentError("INVALID_STATE", `the state file's key-agreement key is not an ${stored.algorithm} key`);
  const params = stored.algorithm === "X25519" ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  const pkcs8 = new Uint8Array(key.export({ format: "der", type: "pkcs8" }));
  return crypto.subtle.importKey("pkcs8", pkcs8, params, true, ["deriveBits"]);
}

/** The key-agreement public key as a WebCrypto key, for sealing to itself. */
export async function keyAgreementPublicKey(stored: StoredKeyPair<KeyAgreementAlgorithm>): Promise<CryptoKey> {
  const params = stored.algorithm === "X25519" ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  return crypto.subtle.importKey("spki", new Uint8Array(Buffer.from(stored.publicKey, "base64")), params, true, []);
}

function importPrivateKey(stored: StoredKeyPair<string>, use: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: stored.privateKey, format: "pem" });
  } catch (cause) {
    throw new AgentError("INVALID_STATE", `the state file's ${use} private key is not a PKCS8 PEM key`, { cause });
  }
  // The private key must be the one whose public half the API knows, or every request would fail in ways hard to explain.
  const derived = createPublicKey(key).export({ format: "der", type: "spki" }).toString("base64");
  if (derived !== stored.publicKey) throw new AgentError("INVALID_STATE", `the state file's ${use} private key does not match its public key`);
  return key;
}

function isP256(key: KeyObject) {
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}
