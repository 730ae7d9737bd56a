// Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is
// `whsec_` + base64 of 32 random bytes; each request carries webhook-id,
// webhook-timestamp (seconds) and webhook-signature `v1,<base64 HMAC-SHA256 of
// "<id>.<timestamp>.<body>" under the secret's bytes>`. HMAC from node:crypto.
// The secret is kept encrypted under the tenant's data key, bound to its webhook.
import { createHmac, randomBytes } from "node:crypto";
import { decryptUnder, encryptUnder } from "./key-hierarchy.ts";

export const WEBHOOK_SECRET_PREFIX = "whsec_";

export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString("base64");
}

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), "base64");
}

export function webhookSignatureHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = createHmac("sha256", secretBytes(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${signature}`,
  };
}

function secretAssociatedData(tenantId: string, webhookId: string) {
  return `latchkey-webhook-secret-v1|${tenantId}|${webhookId}`;
}

export function sealWebhookSecret(dataKey: Buffer, tenantId: string, webhookId: string, secret: string): string {
  return encryptUnder(dataKey, Buffer.from(secret, "utf8"), secretAssociatedData(tenantId, webhookId));
}

export function openWebhookSecret(dataKey: Buffer, tenantId: string, webhookId: string, sealed: string): string {
  return decryptUnder(dataKey, sealed, secretAssociatedData(tenantId, webhookId)).toString("utf8");
}
