import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { WebhookConnection, WebhookDeliveryConnection } from "../../connections.ts";
import { cursorIsInside } from "../../pagination.ts";
import { isUuid } from "../../validation.ts";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType as EventTypeName } from "./webhook-events.ts";
import { managedWebhooks, webhookTenant } from "./webhook.service.ts";

export const WebhookEventType = builder.enumType("WebhookEventType", {
  description: "What a webhook can subscribe to. The request body is `{ type, timestamp, data }` with `type` one of these.",
  values: Object.fromEntries(Object.entries(WEBHOOK_EVENT_TYPES).map(([name, description]) => [name, { description }])) as {
    [K in EventTypeName]: { description: string };
  },
});

export const WebhookDeliveryStatus = builder.enumType("WebhookDeliveryStatus", {
  description: "Where a delivery stands.",
  values: {
    PENDING: { description: "An attempt is queued or under way." },
    RETRYING: { description: "The last attempt failed; the next is at `nextAttemptAt` (backoff from 30 s, doubling, for a day)." },
    SUCCEEDED: { description: "The receiver answered 2xx." },
    FAILED: { description: "Given up: a day of failed attempts, or the webhook was disabled. `redeliverWebhook` sends it again." },
  },
});

export const Webhook = builder.prismaObject("Webhook", {
  interfaces: [NodeInterface],
  description: "An endpoint that receives a tenant's events, signed per Standard Webhooks. An MSP's webhook also receives its customers' events.",
  authScopes: (webhook) => ({ tenantAdmin: webhook.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The webhook's id." }),
    url: t.exposeString("url", { description: "Where events are POSTed (https)." }),
    description: t.exposeString("description", { description: "What it is for." }),
    events: t.field({
      type: [WebhookEventType],
      description: "The event types it receives.",
      resolve: (webhook) => webhook.events as EventTypeName[],
    }),
    enabled: t.exposeBoolean("enabled", { description: "Whether it receives events; switched off after a day of failed deliveries." }),
    disabledReason: t.exposeString("disabledReason", { nullable: true, description: "Why the service switched it off, if it did." }),
    failingSince: t.expose("failingSince", { type: "DateTime", nullable: true, description: "Since when every attempt has failed; null after a success." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it last changed." }),
    tenant: t.relation("tenant", { description: "The tenant it belongs to." }),
  }),
});

export const WebhookDelivery = builder.prismaObject("WebhookDelivery", {
  interfaces: [NodeInterface],
  description: "One event sent (or being sent) to one webhook, with its attempts. Its id is the `webhook-id` header, the same on every attempt.",
  authScopes: (delivery) => ({ tenantAdmin: delivery.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The delivery's id, sent as `webhook-id`." }),
    eventType: t.field({ type: WebhookEventType, description: "The event's type.", resolve: (delivery) => delivery.eventType as EventTypeName }),
    eventTenantId: t.exposeID("eventTenantId", { description: "The tenant the event happened in (a customer, for an MSP's webhook)." }),
    payload: t.expose("payload", { type: "JSON", description: "The request body sent, as JSON." }),
    status: t.expose("status", { type: WebhookDeliveryStatus, description: "Where it stands." }),
    attempts: t.exposeInt("attempts", { description: "Attempts made so far." }),
    responseCode: t.exposeInt("responseCode", { nullable: true, description: "The HTTP status of the last attempt, if the receiver answered." }),
    lastError: t.exposeString("lastError", { nullable: true, description: "Why the last attempt failed, if it did." }),
    lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true, description: "When the last attempt was made." }),
    nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime", nullable: true, description: "When the next attempt is due, while RETRYING." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the event happened." }),
    webhook: t.relation("webhook", { description: "The webhook it was sent to." }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.prismaConnection(
    {
      type: "Webhook",
      cursor: "id",
      nullable: true,
      description:
        "A tenant's webhooks, newest first. Pages hold 20 by default and at most 100 (more is refused). Null when the viewer does not manage the tenant's webhooks.",
      args: { tenantId: t.arg.id({ required: true, description: "The tenant (an MSP for its MSP-wide webhooks)." }) },
      // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
      authScopes: async (_root, args, ctx) => (await webhookTenant(ctx, String(args.tenantId))) !== null,
      unauthorizedResolver: () => null,
      totalCount: (_parent, args, ctx) => ctx.db.webhook.count({ where: { tenantId: String(args.tenantId) } }),
      resolve: async (query, _root, args, ctx) => {
        const where = { tenantId: String(args.tenantId) };
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.webhook.count({ where: { ...where, id } })) > 0);
        if (!inside) return [];
        return ctx.db.webhook.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      },
    }, WebhookConnection),
  webhookDeliveries: t.prismaConnection(
    {
      type: "WebhookDelivery",
      cursor: "id",
      nullable: true,
      description:
        "A webhook's delivery log, newest first. Pages hold 20 by default and at most 100 (more is refused). Null for a webhook the viewer does not manage.",
      args: { webhookId: t.arg.id({ required: true, description: "The webhook." }) },
      authScopes: async (_root, args, ctx) => {
        const id = String(args.webhookId);
        return isUuid(id) && (await ctx.db.webhook.count({ where: { AND: [{ id }, managedWebhooks(ctx)] } })) > 0;
      },
      unauthorizedResolver: () => null,
      totalCount: (_parent, args, ctx) => ctx.db.webhookDelivery.count({ where: { webhookId: String(args.webhookId) } }),
      resolve: async (query, _root, args, ctx) => {
        const where = { webhookId: String(args.webhookId) };
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.webhookDelivery.count({ where: { ...where, id } })) > 0);
        if (!inside) return [];
        return ctx.db.webhookDelivery.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      },
    }, WebhookDeliveryConnection),
}));
