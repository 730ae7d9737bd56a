// The QR code carries `lk1.<challenge id>.<secret>`: enough for a phone to find
// the challenge and prove it saw this very code. The secret is 256 random bits.
// Where the phone seals something to the requester, a fourth part carries the
// SHA-256 of the requester's key (base64url): a key operation's browser key
// (added here), a desktop login's workstation key-agreement key (added by the
// agent that shows the code). The phone reads it off the screen, not from the
// server, and seals to no other key.
import { randomBytes } from "node:crypto";
import { isUuid } from "../../validation.ts";

const PREFIX = "lk1";

export function newQrSecret() {
  return randomBytes(32).toString("base64url");
}

export function formatQrPayload(challengeId: string, secret: string, keyHash?: string | null) {
  return [PREFIX, challengeId, secret, ...(keyHash ? [keyHash] : [])].join(".");
}

export function parseQrPayload(payload: string): { challengeId: string; secret: string } | null {
  if (payload.length > 250) return null;
  const [prefix, challengeId, secret, keyHash, ...rest] = payload.trim().split(".");
  if (prefix !== PREFIX || rest.length || !challengeId || !secret || !isUuid(challengeId)) return null;
  if (keyHash !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(keyHash)) return null;
  if (!/^[A-Za-z0-9_-]{22,}$/.test(secret)) return null;
  return { challengeId, secret };
}
