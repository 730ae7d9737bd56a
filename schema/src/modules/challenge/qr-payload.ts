// The QR code carries `lk1.<challenge id>.<secret>`: enough for a phone to find
// the challenge and prove it saw this very code. The secret is 256 random bits.
import { randomBytes } from "node:crypto";
import { isUuid } from "../../validation.ts";

const PREFIX = "lk1";

export function newQrSecret() {
  return randomBytes(32).toString("base64url");
}

export function formatQrPayload(challengeId: string, secret: string) {
  return `${PREFIX}.${challengeId}.${secret}`;
}

export function parseQrPayload(payload: string): { challengeId: string; secret: string } | null {
  if (payload.length > 200) return null;
  const [prefix, challengeId, secret, ...rest] = payload.trim().split(".");
  if (prefix !== PREFIX || rest.length || !challengeId || !secret || !isUuid(challengeId)) return null;
  if (!/^[A-Za-z0-9_-]{22,}$/.test(secret)) return null;
  return { challengeId, secret };
}
