// A phone joins the holders of a customer's key only when a holder confirms it:
// the new phone shows its fingerprint (of its id and key-agreement key) on its
// own screen, and the person at a holder's phone types it in. The server hands
// out both phones' keys, so a phone it made up, even one that signed its own
// key, would show another fingerprint than the phone in the admin's hand.
//
//   fingerprint = Crockford base32 of the first 80 bits of
//                 SHA-256("latchkey-holder-fingerprint-v1\n<authenticator id>\n<key-agreement key, raw X25519, base64url>"),
//                 16 characters in groups of four
import { base32crockford } from "@scure/base";

export const HOLDER_FINGERPRINT_PURPOSE = "latchkey-holder-fingerprint-v1";

export async function holderFingerprint(holderId: string, keyAgreementKey: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode([HOLDER_FINGERPRINT_PURPOSE, holderId, keyAgreementKey].join("\n"))));
  return base32crockford.encode(digest.slice(0, 10)).match(/.{4}/g)!.join("-");
}

/** A typed fingerprint as shown: hyphens, spaces and case do not matter, nor I/L for 1 and O for 0. */
export function normalizeFingerprint(typed: string): string {
  const text = typed.replace(/[\s-]/g, "").toUpperCase().replace(/[IL]/g, "1").replace(/O/g, "0");
  return text.match(/.{1,4}/g)?.join("-") ?? "";
}
