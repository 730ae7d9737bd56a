// API key secrets: `lk_`, 64 hex digits of randomness (256 bits), then the
// CRC-32 of those digits as 8 hex digits. The fixed prefix and the checksum let
// secret scanners recognise a leaked key without false positives, and let the
// API refuse a mistyped one without a database lookup. Stored as SHA-256 only,
// like session tokens. Recognised by API_KEY_PATTERN (documented in docs/integrating.md).
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

export const API_KEY_PATTERN = /^lk_[0-9a-f]{72}$/;

/** Characters of the secret shown afterwards, so people can tell keys apart: `lk_` and 8 hex digits. */
export const API_KEY_PREFIX_LENGTH = 11;

function checksum(random: string) {
  return crc32(random).toString(16).padStart(8, "0");
}

export function newApiKeySecret(): string {
  const random = randomBytes(32).toString("hex");
  return `lk_${random}${checksum(random)}`;
}

/** True for a well-formed key whose checksum holds (it may still be unknown or revoked). */
export function looksLikeApiKey(token: string): boolean {
  if (!API_KEY_PATTERN.test(token)) return false;
  return checksum(token.slice(3, 67)) === token.slice(67);
}

/** Any bearer token that claims to be an API key: it is never tried as a session. */
export function claimsToBeApiKey(token: string): boolean {
  return token.startsWith("lk_");
}
