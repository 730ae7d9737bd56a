// The master key: with it on, a customer tenant's private key and signing key
// exist only on its holders' devices, each copy sealed (HPKE) to one holder's
// key-agreement key. The server stores the sealed copies and cannot open them.
// A holder's phone does every private-key operation: it opens its copy, does
// the work, and sends back only results.
//
//   holder copy     info "latchkey tenant key holder v1"
//                   aad  "latchkey-tenant-key-holder-v1|<tenantId>|<epoch>|<holder id>"
//                   plaintext JSON { privateKey: raw X25519 b64url, signingKey: Ed25519 PKCS#8 b64url }
//   operation copy  a secret the server hands to the phone that works on it (turning the key on:
//                   every sealed secret, opened from the escrow one last time)
//                   info "latchkey key operation secret v1"
//                   aad  "latchkey-key-operation-secret-v1|<operation id>|<kind>|<secret id>|<version>"
//   evidence        what a holder signs with its device key for every use of the key:
//                   "latchkey-key-use-v1\n<tenantId>\n<epoch>\n<purpose>\n<operation id>\n<signed at, ISO 8601>\n<SHA-256 of the new statement, base64url>"
import { fromBase64url, toBase64url } from "./base64url.ts";
import { generateTenantKeyPair, openWithKey, sealToKey, type SealedSecret } from "./tenant-sealing.ts";

export const HOLDER_COPY_INFO = "latchkey tenant key holder v1";
export const HOLDER_COPY_PURPOSE = "latchkey-tenant-key-holder-v1";
export const OPERATION_SECRET_INFO = "latchkey key operation secret v1";
export const OPERATION_SECRET_PURPOSE = "latchkey-key-operation-secret-v1";
export const KEY_USE_PURPOSE = "latchkey-key-use-v1";

/** A tenant key as a holder has it: the HPKE private key and the epoch's signing key. */
export type TenantKeyMaterial = {
  /** Raw X25519 public key, base64url. */
  publicKey: string;
  /** Raw X25519 private key. */
  privateKey: Uint8Array;
  /** Raw Ed25519 public key, base64url. */
  signingKey: string;
  /** Ed25519 private key, PKCS#8 DER, base64url. */
  signingPrivateKey: string;
};

function checkPart(part: string) {
  if (part === "" || part.includes("|")) throw new Error("Binding parts must be non-empty and free of '|'");
  return part;
}

/** A fresh tenant key: HPKE key pair and Ed25519 signing key, made on the holder's device. */
export async function generateTenantKey(): Promise<TenantKeyMaterial> {
  const pair = await generateTenantKeyPair();
  const signing = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return {
    ...pair,
    signingKey: toBase64url(new Uint8Array(await crypto.subtle.exportKey("raw", signing.publicKey))),
    signingPrivateKey: toBase64url(new Uint8Array(await crypto.subtle.exportKey("pkcs8", signing.privateKey))),
  };
}

/** Signs a statement (or a hand-over) with an epoch's signing key; base64url. */
export async function signWithTenantKey(material: Pick<TenantKeyMaterial, "signingPrivateKey">, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("pkcs8", new Uint8Array(fromBase64url(material.signingPrivateKey)), { name: "Ed25519" }, false, ["sign"]);
  return toBase64url(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, new TextEncoder().encode(text))));
}

export type HolderBinding = { tenantId: string; epoch: number; holderId: string };

function holderAssociatedData(binding: HolderBinding) {
  return [HOLDER_COPY_PURPOSE, checkPart(binding.tenantId), String(binding.epoch), checkPart(binding.holderId)].join("|");
}

/** One holder's copy of the tenant key, sealed to its key-agreement key. */
export async function wrapForHolder(input: HolderBinding & { holderKey: string; material: TenantKeyMaterial }): Promise<SealedSecret> {
  const body = JSON.stringify({ privateKey: toBase64url(input.material.privateKey), signingPrivateKey: input.material.signingPrivateKey });
  return sealToKey(input.holderKey, HOLDER_COPY_INFO, holderAssociatedData(input), new TextEncoder().encode(body));
}

/** PKCS#8 DER of an X25519 private key is this prefix and the 32 raw bytes (RFC 8410). */
const X25519_PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20];

async function publicHalf(pkcs8: Uint8Array, algorithm: "X25519" | "Ed25519"): Promise<string> {
  const usages: KeyUsage[] = algorithm === "X25519" ? ["deriveBits"] : ["sign"];
  const key = await crypto.subtle.importKey("pkcs8", new Uint8Array(pkcs8), { name: algorithm }, true, usages);
  return (await crypto.subtle.exportKey("jwk", key)).x!;
}

/** The public half (raw, base64url) of a raw X25519 private key. */
export function x25519PublicKey(privateKey: Uint8Array): Promise<string> {
  return publicHalf(Uint8Array.from([...X25519_PKCS8_PREFIX, ...privateKey]), "X25519");
}

/**
 * Opens a holder's copy with the holder's key-agreement private key (raw), and
 * checks it is the key of the verified statement (`publicKey`, `signingKey`):
 * anyone can seal a copy to a holder's public key, so a copy of another key
 * is refused here rather than used.
 */
export async function openAsHolder(
  input: HolderBinding & { holderPrivateKey: Uint8Array; sealed: SealedSecret; publicKey: string; signingKey: string },
): Promise<TenantKeyMaterial> {
  const plain = await openWithKey(input.holderPrivateKey, HOLDER_COPY_INFO, holderAssociatedData(input), input.sealed);
  const body = JSON.parse(new TextDecoder().decode(plain)) as { privateKey: string; signingPrivateKey: string };
  const privateKey = fromBase64url(body.privateKey);
  const derived = [
    await x25519PublicKey(privateKey),
    await publicHalf(fromBase64url(body.signingPrivateKey), "Ed25519"),
  ];
  if (derived[0] !== input.publicKey || derived[1] !== input.signingKey) throw new Error("The holder's copy is not the key of the statement");
  return { publicKey: input.publicKey, privateKey, signingKey: input.signingKey, signingPrivateKey: body.signingPrivateKey };
}

export type OperationSecretBinding = { operationId: string; kind: string; id: string; version: number };

function operationSecretAssociatedData(binding: OperationSecretBinding) {
  return [OPERATION_SECRET_PURPOSE, checkPart(binding.operationId), checkPart(binding.kind), checkPart(binding.id), String(binding.version)].join("|");
}

/** A secret handed to the phone that works on an operation, sealed to that phone's key-agreement key. */
export async function sealForOperation(input: OperationSecretBinding & { phoneKey: string; secret: string }): Promise<SealedSecret> {
  return sealToKey(input.phoneKey, OPERATION_SECRET_INFO, operationSecretAssociatedData(input), new TextEncoder().encode(input.secret));
}

export async function openForOperation(input: OperationSecretBinding & { phonePrivateKey: Uint8Array; sealed: SealedSecret }): Promise<string> {
  const plain = await openWithKey(input.phonePrivateKey, OPERATION_SECRET_INFO, operationSecretAssociatedData(input), input.sealed);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

/**
 * One use of the tenant key. `subject` names what a use that makes no new
 * epoch worked on (a reveal: the box and the browser key it sealed to).
 */
export type KeyUse = { tenantId: string; epoch: number; purpose: string; operationId: string; signedAt: string; statement: string; subject?: string };

/** The bytes a holder signs with its device key for one use of the tenant key. */
export async function keyUseEvidence(use: KeyUse): Promise<Uint8Array<ArrayBuffer>> {
  const statementHash = toBase64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(use.statement))));
  const lines = [KEY_USE_PURPOSE, use.tenantId, String(use.epoch), use.purpose, use.operationId, use.signedAt, statementHash];
  return new TextEncoder().encode([...lines, ...(use.subject ? [use.subject] : [])].join("\n"));
}
