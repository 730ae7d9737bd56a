// Whoever registers a customer user's password also seals it to the tenant's
// public key (HPKE, RFC 9180, base mode), so that a workstation can later be
// handed the password for a QR login. The associated data binds the box to the
// tenant, the user, the password version and the registration record it was
// made with: copied to another user, left over from an earlier password, or
// paired with another record, it does not open.
//
//   KEM   DHKEM(X25519, HKDF-SHA256)   KDF HKDF-SHA256   AEAD AES-256-GCM
//   info  "latchkey tenant password v1"
//   aad   "latchkey-tenant-password-v1|<tenantId>|<userId>|<passwordVersion>|<SHA-256 of the record's bytes, hex>"
//   wire  the tenant key (raw, 32 bytes), enc and ciphertext as base64url without padding
import { createHash } from "node:crypto";
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { fromBase64url, toBase64url } from "./base64url.ts";

export const TENANT_PASSWORD_INFO = "latchkey tenant password v1";
export const TENANT_PASSWORD_PURPOSE = "latchkey-tenant-password-v1";
export const TENANT_PASSWORD_SUITE = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM";

/** The GraphQL `SealedSecret` / `SealedSecretInput`. */
export type SealedSecret = { suite: string; enc: string; ciphertext: string };

export type SealedPasswordBinding = { tenantId: string; userId: string; passwordVersion: number; record: string };

export function tenantSuite(): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

export function tenantPasswordAssociatedData(binding: SealedPasswordBinding): string {
  for (const part of [binding.tenantId, binding.userId, binding.record]) {
    if (part === "" || part.includes("|")) throw new Error("Sealed password binding parts must be non-empty and free of '|'");
  }
  if (!Number.isInteger(binding.passwordVersion) || binding.passwordVersion < 1) throw new Error("A password version is a positive integer");
  const recordHash = createHash("sha256").update(fromBase64url(binding.record)).digest("hex");
  return [TENANT_PASSWORD_PURPOSE, binding.tenantId, binding.userId, String(binding.passwordVersion), recordHash].join("|");
}

/** Seals `plaintext` to a raw X25519 public key (base64url) with `info` and associated data `aad`. */
export async function sealToKey(publicKey: string, info: string, aad: string, plaintext: Uint8Array): Promise<SealedSecret> {
  const suite = tenantSuite();
  const recipientPublicKey = await suite.kem.deserializePublicKey(fromBase64url(publicKey));
  const encoder = new TextEncoder();
  const sender = await suite.createSenderContext({ recipientPublicKey, info: encoder.encode(info) });
  const ciphertext = await sender.seal(plaintext, encoder.encode(aad));
  return { suite: TENANT_PASSWORD_SUITE, enc: toBase64url(new Uint8Array(sender.enc)), ciphertext: toBase64url(new Uint8Array(ciphertext)) };
}

/** Opens what sealToKey sealed, with the raw private key; throws when the key, info, aad or a byte differs. */
export async function openWithKey(privateKey: Uint8Array, info: string, aad: string, sealed: SealedSecret): Promise<Uint8Array> {
  if (sealed.suite !== TENANT_PASSWORD_SUITE) throw new Error(`Unknown sealing suite "${sealed.suite}"`);
  const suite = tenantSuite();
  const recipientKey = await suite.kem.deserializePrivateKey(privateKey);
  const encoder = new TextEncoder();
  const recipient = await suite.createRecipientContext({ recipientKey, enc: fromBase64url(sealed.enc), info: encoder.encode(info) });
  return new Uint8Array(await recipient.open(fromBase64url(sealed.ciphertext), encoder.encode(aad)));
}

/** Seals `password` to the tenant's public key (raw X25519, base64url), bound as above. */
export async function sealToTenant(input: SealedPasswordBinding & { tenantPublicKey: string; password: string }): Promise<SealedSecret> {
  return sealToKey(input.tenantPublicKey, TENANT_PASSWORD_INFO, tenantPasswordAssociatedData(input), new TextEncoder().encode(input.password));
}

/** Opens a sealed password with the tenant's private key (raw, 32 bytes); throws when key, binding or a byte differs. */
export async function openFromTenant(input: SealedPasswordBinding & { tenantPrivateKey: Uint8Array; sealed: SealedSecret }): Promise<string> {
  const plain = await openWithKey(input.tenantPrivateKey, TENANT_PASSWORD_INFO, tenantPasswordAssociatedData(input), input.sealed);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

/** A fresh tenant key pair, raw: the public key as base64url, the private key as bytes. */
export async function generateTenantKeyPair(): Promise<{ publicKey: string; privateKey: Uint8Array }> {
  const suite = tenantSuite();
  const pair = await suite.kem.generateKeyPair();
  const publicKey = toBase64url(new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
  const privateKey = new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey));
  return { publicKey, privateKey };
}
