import { AuthenticatorError } from "./authenticator-error.ts";

/**
 * A scanned Latchkey QR code: `lk1.<challengeId>.<qrSecret>`, and where the
 * phone seals something to the requester, `.<SHA-256 of the requester's key>`
 * (a browser's one-time key for a break-glass reveal, a workstation's
 * key-agreement key for a desktop login): read off the screen, so the server
 * cannot change which key the phone seals to.
 */
export interface QrPayload {
  challengeId: string;
  qrSecret: string;
  keyHash?: string;
}

export const QR_PAYLOAD_PREFIX = "lk1";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// 128 bits is 22 base64url characters; a shorter secret could be guessed, and
// the server never issues one.
const MIN_SECRET_CHARS = 22;
// Nothing legitimate comes close; refuse pasted garbage before sending it anywhere.
const MAX_PAYLOAD_CHARS = 512;

/**
 * Reads a QR code's text. Only Latchkey challenges are accepted, so a phone
 * never sends some other code's contents to the API. Surrounding whitespace is
 * ignored (a pasted payload often carries a newline); anything else off-format
 * throws an `AuthenticatorError` with code `INVALID_QR_PAYLOAD`.
 */
export function parseQrPayload(payload: string): QrPayload {
  const invalid = (why: string) =>
    new AuthenticatorError("INVALID_QR_PAYLOAD", `not a Latchkey challenge QR code (expected ${QR_PAYLOAD_PREFIX}.<challenge id>.<secret>[.<key hash>]): ${why}`);
  if (typeof payload !== "string") throw invalid("the payload is not text");
  const text = payload.trim();
  if (text.length === 0) throw invalid("the payload is empty");
  if (text.length > MAX_PAYLOAD_CHARS) throw invalid(`the payload is longer than ${MAX_PAYLOAD_CHARS} characters`);
  const parts = text.split(".");
  if (parts[0] !== QR_PAYLOAD_PREFIX) {
    throw invalid(/^lk\d+$/.test(parts[0] ?? "") ? `format version "${parts[0]}" is not supported by this authenticator` : `it does not start with "${QR_PAYLOAD_PREFIX}."`);
  }
  if (parts.length !== 3 && parts.length !== 4) throw invalid(`it has ${parts.length} dot-separated parts instead of 3 or 4`);
  const [, challengeId = "", qrSecret = "", keyHash] = parts;
  if (!UUID.test(challengeId)) throw invalid("the challenge id is not a UUID");
  if (!BASE64URL.test(qrSecret)) throw invalid("the secret is not base64url");
  if (qrSecret.length < MIN_SECRET_CHARS) throw invalid("the secret is shorter than 128 bits");
  if (keyHash !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(keyHash)) throw invalid("the key hash is not a base64url SHA-256");
  return { challengeId, qrSecret, ...(keyHash ? { keyHash } : {}) };
}
