// The phone's key-agreement key: the HPKE key (DHKEM X25519) that secrets meant
// for this phone are sealed to. Generated here; only the public half leaves the
// phone, with the phone's own signature over it (the certification bytes
// below), so that whoever seals to it can tell that the phone chose it.
//
// Certification bytes: UTF-8 of these lines joined by "\n":
//   latchkey-key-agreement-key-v1
//   <authenticator (device) id>
//   DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM
//   <public key: raw X25519, base64url without padding>
import { KEY_AGREEMENT_PURPOSE, keyAgreementKeyBytes, TENANT_PASSWORD_SUITE } from "@latchkey/passwords/sealing";
import { AuthenticatorError } from "./authenticator-error.ts";

export { KEY_AGREEMENT_PURPOSE, keyAgreementKeyBytes };
export const KEY_AGREEMENT_SUITE = TENANT_PASSWORD_SUITE;

/** A key-agreement key pair as the state file keeps it. */
export interface StoredKeyAgreementKey {
  /** Raw X25519, base64url without padding: what the API receives. */
  publicKey: string;
  /** PKCS8 DER, base64. Secret, like the signing key. */
  privateKey: string;
}

export async function generateKeyAgreementKey(): Promise<StoredKeyAgreementKey> {
  // Extractable, because the reference authenticator keeps its keys in a state file;
  // a real phone would keep the private key non-extractable in its keystore.
  const pair = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
  const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", pair.privateKey);
  return { publicKey: Buffer.from(raw).toString("base64url"), privateKey: Buffer.from(pkcs8).toString("base64") };
}

/** Checks a state file's key pair: a private X25519 key whose public half is the one stored. */
export async function checkKeyAgreementKey(stored: StoredKeyAgreementKey): Promise<void> {
  try {
    const privateKey = await crypto.subtle.importKey("pkcs8", Buffer.from(stored.privateKey, "base64"), { name: "X25519" }, true, ["deriveBits"]);
    const jwk = await crypto.subtle.exportKey("jwk", privateKey);
    if (jwk.x === stored.publicKey) return;
  } catch {
    // Reported below.
  }
  throw new AuthenticatorError("INVALID_STATE", "the state file's key-agreement key is not a valid X25519 key pair");
}

/** The raw 32-byte private key, as HPKE takes it. */
export async function keyAgreementPrivateKeyBytes(stored: StoredKeyAgreementKey): Promise<Uint8Array> {
  const privateKey = await crypto.subtle.importKey("pkcs8", Buffer.from(stored.privateKey, "base64"), { name: "X25519" }, true, ["deriveBits"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  return new Uint8Array(Buffer.from(jwk.d!, "base64url"));
}
