// A customer user's password reaches a workstation through the user's own
// phone. Whoever sets the password seals it to the tenant's key and also to
// each of the user's phones (their key-agreement keys, each checked against
// the phone's own signature over it). At a QR login the approving phone opens
// its copy and re-seals it to the workstation, bound to the workstation, the
// login's challenge, the password version and an expiry: the server only
// carries the boxes, with the master key on or off.
//
//   phone copy   info "latchkey phone password v1"
//                aad  "latchkey-phone-password-v1|<tenantId>|<userId>|<passwordVersion>|<authenticatorId>|<SHA-256 of the record, hex>"
//   delivery     suite DHKEM(X25519 or P-256, HKDF-SHA256)/HKDF-SHA256/AES-256-GCM, by the workstation's enrolled key
//                info "latchkey phone delivery v1"
//                aad  "latchkey-phone-delivery-v1|<workstationId>|<challengeId>|<passwordVersion>|<expiresAt, ISO 8601>"
//   key-agreement key certification (a phone's own signature over its key):
//                "latchkey-key-agreement-key-v1\n<authenticatorId>\n<suite>\n<raw X25519 public key, base64url>"
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { fromBase64url, toBase64url } from "./base64url.ts";
import { openWithKey, sealToKey, TENANT_PASSWORD_SUITE, tenantPasswordAssociatedData, type SealedPasswordBinding, type SealedSecret } from "./tenant-sealing.ts";

export const KEY_AGREEMENT_PURPOSE = "latchkey-key-agreement-key-v1";
export const PHONE_PASSWORD_INFO = "latchkey phone password v1";
export const PHONE_PASSWORD_PURPOSE = "latchkey-phone-password-v1";
export const PHONE_DELIVERY_INFO = "latchkey phone delivery v1";
export const PHONE_DELIVERY_PURPOSE = "latchkey-phone-delivery-v1";

/** The bytes a phone signs to vouch for its key-agreement key. */
export function keyAgreementKeyBytes(authenticatorId: string, publicKey: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode([KEY_AGREEMENT_PURPOSE, authenticatorId, TENANT_PASSWORD_SUITE, publicKey].join("\n"));
}

/** A phone as the API hands it to whoever seals to it. */
export type SealablePhone = {
  authenticatorId: string;
  algorithm: "P256" | "ED25519";
  /** The phone's signing key, SPKI DER, base64. */
  publicKey: string;
  keyAgreementKey: string;
  keyAgreementSignature: string;
};

const VERIFY_PARAMS = {
  P256: { import: { name: "ECDSA", namedCurve: "P-256" } as EcKeyImportParams, verify: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams },
  ED25519: { import: { name: "Ed25519" } as Algorithm, verify: { name: "Ed25519" } as Algorithm },
} as const;

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** Whether the phone itself signed its key-agreement key: one the server swapped in would not verify. */
export async function phoneVouchesForKey(phone: SealablePhone): Promise<boolean> {
  try {
    const params = VERIFY_PARAMS[phone.algorithm];
    const key = await crypto.subtle.importKey("spki", base64Bytes(phone.publicKey), params.import, false, ["verify"]);
    return await crypto.subtle.verify(params.verify, key, new Uint8Array(fromBase64url(phone.keyAgreementSignature)), keyAgreementKeyBytes(phone.authenticatorId, phone.keyAgreementKey));
  } catch {
    return false;
  }
}

function phoneCopyAssociatedData(binding: SealedPasswordBinding & { authenticatorId: string }) {
  // The tenant binding's own checks, and the same record hash, with the phone added.
  const [, tenantId, userId, version, recordHash] = tenantPasswordAssociatedData(binding).split("|");
  if (binding.authenticatorId === "" || binding.authenticatorId.includes("|")) throw new Error("A phone id is non-empty and free of '|'");
  return [PHONE_PASSWORD_PURPOSE, tenantId, userId, version, binding.authenticatorId, recordHash].join("|");
}

/** The password sealed to each phone that vouches for its key; a phone that does not gets no copy. */
export async function sealForPhones(binding: SealedPasswordBinding, phones: SealablePhone[], password: string) {
  const copies: { authenticatorId: string; sealed: SealedSecret }[] = [];
  for (const phone of phones) {
    if (!(await phoneVouchesForKey(phone))) continue;
    const aad = phoneCopyAssociatedData({ ...binding, authenticatorId: phone.authenticatorId });
    copies.push({ authenticatorId: phone.authenticatorId, sealed: await sealToKey(phone.keyAgreementKey, PHONE_PASSWORD_INFO, aad, new TextEncoder().encode(password)) });
  }
  return copies;
}

/** A phone opens its copy with its key-agreement private key (raw). */
export async function openPhoneCopy(input: SealedPasswordBinding & { authenticatorId: string; phonePrivateKey: Uint8Array; sealed: SealedSecret }): Promise<string> {
  const plain = await openWithKey(input.phonePrivateKey, PHONE_PASSWORD_INFO, phoneCopyAssociatedData(input), input.sealed);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

export type WorkstationKeyAgreementAlgorithm = "X25519" | "P256";

export type DeliveryBinding = { workstationId: string; challengeId: string; passwordVersion: number; expiresAt: string };

export const DELIVERY_SUITE_NAMES: Record<WorkstationKeyAgreementAlgorithm, string> = {
  X25519: "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
  P256: "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
};

function deliverySuite(algorithm: WorkstationKeyAgreementAlgorithm) {
  return new CipherSuite({ kem: algorithm === "X25519" ? new DhkemX25519HkdfSha256() : new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

export function deliveryAssociatedData(binding: DeliveryBinding): string {
  for (const part of [binding.workstationId, binding.challengeId, binding.expiresAt]) {
    if (part === "" || part.includes("|")) throw new Error("Delivery binding parts must be non-empty and free of '|'");
  }
  return [PHONE_DELIVERY_PURPOSE, binding.workstationId, binding.challengeId, String(binding.passwordVersion), binding.expiresAt].join("|");
}

/**
 * The base64url SHA-256 of a workstation's key-agreement key (SPKI DER, base64):
 * the agent adds it to the QR code it shows, and the phone seals a password to
 * no other key, whatever the server hands it.
 */
export async function workstationKeyHash(keyAgreementKey: string): Promise<string> {
  return toBase64url(new Uint8Array(await crypto.subtle.digest("SHA-256", base64Bytes(keyAgreementKey))));
}

/** The phone re-seals a password to a workstation's enrolled key-agreement key (SPKI DER, base64). */
export async function sealDelivery(input: DeliveryBinding & { algorithm: WorkstationKeyAgreementAlgorithm; keyAgreementKey: string; password: string }): Promise<SealedSecret> {
  const params = input.algorithm === "X25519" ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  const recipientPublicKey = await crypto.subtle.importKey("spki", base64Bytes(input.keyAgreementKey), params, true, []);
  const encoder = new TextEncoder();
  const sender = await deliverySuite(input.algorithm).createSenderContext({ recipientPublicKey, info: encoder.encode(PHONE_DELIVERY_INFO) });
  const ciphertext = await sender.seal(encoder.encode(input.password), encoder.encode(deliveryAssociatedData(input)));
  return { suite: DELIVERY_SUITE_NAMES[input.algorithm], enc: toBase64url(new Uint8Array(sender.enc)), ciphertext: toBase64url(new Uint8Array(ciphertext)) };
}

/** The workstation opens a delivery with its own private key. */
export async function openDelivery(input: DeliveryBinding & { algorithm: WorkstationKeyAgreementAlgorithm; recipientKey: CryptoKey; sealed: SealedSecret }): Promise<string> {
  if (input.sealed.suite !== DELIVERY_SUITE_NAMES[input.algorithm]) throw new Error(`Unexpected sealing suite "${input.sealed.suite}"`);
  const encoder = new TextEncoder();
  const recipient = await deliverySuite(input.algorithm).createRecipientContext({
    recipientKey: input.recipientKey,
    enc: fromBase64url(input.sealed.enc),
    info: encoder.encode(PHONE_DELIVERY_INFO),
  });
  const plain = await recipient.open(fromBase64url(input.sealed.ciphertext), encoder.encode(deliveryAssociatedData(input)));
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}
