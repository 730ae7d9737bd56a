// Webhooks: a tenant's (or an MSP's, covering its customers) https endpoints
// subscribed to event types. Managed by the tenant's admins and by API keys
// holding MANAGE_WEBHOOKS; an MSP key limited to some customers cannot manage
// MSP-wide webhooks, which would carry every customer's events.
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import type { Prisma } from "@latchkey/db";
import { z } from "zod";
import { administeredTenants } from "../../access.ts";
import type { Context } from "../../context.ts";
import { NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { refusedTarget, type TargetAllowance } from "../../security/network-ranges.ts";
import { newWebhookSecret, sealWebhookSecret } from "../../security/webhook-signing.ts";
import { hasNul, isUuid, parseInput } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { DELIVERY_WINDOW_MS, webhookEventTypeNames } from "./webhook-events.ts";

/** Most webhooks one tenant may have. */
export const MAX_WEBHOOKS_PER_TENANT = 20;

const NONE = { id: { in: [] as string[] } };

/** Tenants whose webhooks the viewer manages. */
function webhookTenants(ctx: Pick<Context, "viewer">): Prisma.TenantWhereInput {
  const viewer = ctx.viewer;
  if (!viewer || viewer.role !== "ADMIN") return NONE;
  const reach = administeredTenants(viewer);
  // An MSP key naming some customers: not the MSP's own (MSP-wide) webhooks.
  if (viewer.apiKey?.customerIds) return { AND: [reach, { kind: "CUSTOMER" }] };
  return reach;
}

/** The webhooks the viewer manages: spread into every query, so others answer NOT_FOUND. */
export function managedWebhooks(ctx: Pick<Context, "viewer">): Prisma.WebhookWhereInput {
  return { tenant: webhookTenants(ctx) };
}

/** `tenantId` if the viewer manages its webhooks, else null. */
export async function webhookTenant(ctx: Context, tenantId: string): Promise<string | null> {
  if (!isUuid(tenantId)) return null;
  const tenant = await ctx.db.tenant.findFirst({ where: { AND: [{ id: tenantId }, webhookTenants(ctx)] }, select: { id: true } });
  return tenant?.id ?? null;
}

/** Why a webhook URL is refused, or null. Addresses are checked again, resolved, at every delivery. */
export function urlProblem(raw: string, allowance: TargetAllowance): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Enter a full URL, such as https://hooks.example.com/latchkey";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowance.allowPrivate)) return "Use an https URL";
  if (url.username || url.password) return "Put no credentials in the URL; verify the signature instead";
  if (url.hash) return "Leave out the #fragment";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) return "The URL needs a host";
  if (isIP(host)) {
    const refused = refusedTarget(host, allowance);
    if (refused) return `Webhooks cannot be delivered to ${host}: it is not a public address`;
  } else if (host === "localhost" || host.endsWith(".localhost")) {
    if (!allowance.allowPrivate) return "Webhooks cannot be delivered to localhost";
  }
  return null;
}

const url = z.string().trim().min(1, "Required").max(2048, "Use at most 2048 characters");
const events = z.array(z.enum(webhookEventTypeNames as [string, ...string[]])).min(1, "Choose at least one event type");
const description = z
  .string()
  .trim()
  .max(200, "Use at most 200 characters")
  .refine((value) => !hasNul(value), "The NUL character (U+0000) is not allowed");

const createInput = z.object({ tenantId: z.string(), url, events, description: description.nullish() });

/** Refuses a URL that is malformed or whose host does not resolve to allowed addresses now. */
async function checkUrl(ctx: Context, value: string) {
  const problem = urlProblem(value, ctx.config.webhookTargets) ?? (await ctx.webhookSender.check(value));
  if (problem) throw ValidationError.field("url", problem);
}

export async function createWebhook(ctx: Context, input: z.input<typeof createInput>) {
  if (!ctx.viewer) throw new UnauthenticatedError();
  const data = parseInput(createInput, input);
  const tenantId = await webhookTenant(ctx, data.tenantId);
  if (!tenantId) throw new NotFoundError("Tenant");
  await checkUrl(ctx, data.url);
  if ((await ctx.db.webhook.count({ where: { tenantId } })) >= MAX_WEBHOOKS_PER_TENANT) {
    throw ValidationError.field("tenantId", `A tenant has at most ${MAX_WEBHOOKS_PER_TENANT} webhooks`);
  }
  const secret = newWebhookSecret();
  const id = randomUUID();
  const webhook = await auditedChange(ctx, async (tx) => {
    const dataKey = await ctx.keyring.dataKeyFor(tx, tenantId);
    const webhook = await tx.webhook.create({
      data: {
        id,
        tenantId,
        url: data.url,
        events: [...new Set(data.events)],
        description: data.description ?? "",
        secretCiphertext: sealWebhookSecret(dataKey, tenantId, id, secret),
      },
    });
    return {
      result: webhook,
      audit: { tenantId, action: "webhook.created", targetType: "Webhook", targetId: id, data: { url: webhook.url, events: webhook.events } },
    };
  });
  return { webhook, secret };
}

async function findManaged(ctx: Context, id: string) {
  if (!ctx.viewer) throw new UnauthenticatedError();
  if (!isUuid(id)) throw new NotFoundError("Webhook");
  const webhook = await ctx.db.webhook.findFirst({ where: { AND: [{ id }, managedWebhooks(ctx)] } });
  if (!webhook) throw new NotFoundError("Webhook");
  return webhook;
}

const updateInput = z.object({
  id: z.string(),
  url: url.nullish(),
  events: events.nullish(),
  description: description.nullish(),
  enabled: z.boolean().nullish(),
});

export async function updateWebhook(ctx: Context, input: z.input<typeof updateInput>) {
  const data = parseInput(updateInput, input);
  const webhook = await findManaged(ctx, data.id);
  if (data.url != null) await checkUrl(ctx, data.url);
  const enabling = data.enabled === true && !webhook.enabled;
  return auditedChange(ctx, async (tx) => {
    const updated = await tx.webhook.update({
      where: { id: webhook.id },
      data: {
        ...(data.url != null ? { url: data.url } : {}),
        ...(data.events != null ? { events: [...new Set(data.events)] } : {}),
        ...(data.description != null ? { description: data.description } : {}),
        ...(data.enabled != null ? { enabled: data.enabled } : {}),
        // Enabled again: its failure streak starts afresh.
        ...(enabling ? { disabledReason: null, failingSince: null, consecutiveFailures: 0 } : {}),
      },
    });
    return {
      result: updated,
      audit: {
        tenantId: webhook.tenantId,
        action: "webhook.updated",
        targetType: "Webhook",
        targetId: webhook.id,
        data: { url: updated.url, events: updated.events, enabled: updated.enabled },
      },
    };
  });
}

export async function deleteWebhook(ctx: Context, id: string) {
  const webhook = await findManaged(ctx, id);
  await auditedChange(ctx, async (tx) => {
    await tx.webhook.delete({ where: { id: webhook.id } });
    return { result: null, audit: { tenantId: webhook.tenantId, action: "webhook.deleted", targetType: "Webhook", targetId: webhook.id, data: { url: webhook.url } } };
  });
  return webhook.id;
}

/**
 * Sends a delivery again, with the same webhook-id and body, from a fresh
 * attempt with a new day of retries. Not while an attempt is queued.
 */
export async function redeliverWebhook(ctx: Context, deliveryId: string) {
  if (!ctx.viewer) throw new UnauthenticatedError();
  if (!isUuid(deliveryId)) throw new NotFoundError("Webhook delivery");
  const delivery = await ctx.db.webhookDelivery.findFirst({ where: { id: deliveryId, webhook: managedWebhooks(ctx) }, include: { webhook: true } });
  if (!delivery) throw new NotFoundError("Webhook delivery");
  if (!delivery.webhook.enabled) throw ValidationError.field("deliveryId", "Enable the webhook before replaying its deliveries");
  const now = ctx.clock.now();
  return auditedChange(ctx, async (tx) => {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, status: { not: "PENDING" } },
      data: { status: "PENDING", nextAttemptAt: null, firstAttemptAt: null, queue: ctx.jobs.schema, giveUpAt: new Date(now + DELIVERY_WINDOW_MS) },
    });
    if (count === 1) await ctx.jobs.enqueue("webhook.deliver", { deliveryId: delivery.id }, { tx });
    return {
      result: await tx.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } }),
      audit: {
        tenantId: delivery.webhook.tenantId,
        action: "webhook.redelivered",
        targetType: "WebhookDelivery",
        targetId: delivery.id,
        data: { webhookId: delivery.webhookId, eventType: delivery.eventType },
      },
    };
  });
}
