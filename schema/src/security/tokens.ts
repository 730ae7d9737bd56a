// Session and API tokens: 256 random bits, shown once, stored only as SHA-256.
// A fast hash is right here: the input is already full-entropy, unlike a password.
import { createHash, randomBytes } from "node:crypto";

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
