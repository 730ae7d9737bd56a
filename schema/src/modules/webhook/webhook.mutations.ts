import { builder } from "../../builder.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import { Webhook, WebhookDelivery, WebhookEventType } from "./webhook.types.ts";
import { createWebhook, deleteWebhook, redeliverWebhook, updateWebhook } from "./webhook.service.ts";

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  description: "A new webhook. Its URL must be https and resolve to public addresses only (checked again at every delivery).",
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The tenant whose events it receives; an MSP's also receives its customers' events." }),
    url: t.string({ required: true, description: "The https endpoint events are POSTed to." }),
    events: t.field({ type: [WebhookEventType], required: true, description: "The event types to receive; at least one." }),
    description: t.string({ required: false, description: "What it is for." }),
  }),
});

const CreateWebhookPayload = builder.simpleObject("CreateWebhookPayload", {
  description: "The new webhook and, this once, its signing secret.",
  fields: (t) => ({
    webhook: t.field({ type: Webhook, description: "The webhook." }),
    secret: t.string({ description: "The Standard Webhooks signing secret (`whsec_...`), shown only now." }),
  }),
});

const UpdateWebhookInput = builder.inputType("UpdateWebhookInput", {
  description: "Only the fields given change. Enabling a disabled webhook starts its failure count afresh.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The webhook." }),
    url: t.string({ required: false, description: "A new https endpoint." }),
    events: t.field({ type: [WebhookEventType], required: false, description: "The event types to receive from now on." }),
    description: t.string({ required: false, description: "What it is for." }),
    enabled: t.boolean({ required: false, description: "Whether it receives events." }),
  }),
});

const UpdateWebhookPayload = builder.simpleObject("UpdateWebhookPayload", {
  description: "The webhook as changed.",
  fields: (t) => ({ webhook: t.field({ type: Webhook, description: "The webhook." }) }),
});

const DeleteWebhookInput = builder.inputType("DeleteWebhookInput", {
  description: "The webhook to delete, with its delivery log.",
  fields: (t) => ({ id: t.id({ required: true, description: "The webhook." }) }),
});

const DeleteWebhookPayload = builder.simpleObject("DeleteWebhookPayload", {
  description: "The webhook is gone.",
  fields: (t) => ({ deletedWebhookId: t.id({ description: "Its id." }) }),
});

const RedeliverWebhookInput = builder.inputType("RedeliverWebhookInput", {
  description: "A delivery to send again, with the same `webhook-id` and body.",
  fields: (t) => ({ deliveryId: t.id({ required: true, description: "The delivery, from `webhookDeliveries`." }) }),
});

const RedeliverWebhookPayload = builder.simpleObject("RedeliverWebhookPayload", {
  description: "The delivery, queued again.",
  fields: (t) => ({ delivery: t.field({ type: WebhookDelivery, description: "The delivery, PENDING." }) }),
});

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayload,
    description: "Subscribes an https endpoint to a tenant's events and returns its signing secret once. NOT_FOUND for a tenant out of reach.",
    errors: { types: signedInErrors, union: { name: "CreateWebhookResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: "The webhook to create." }) },
    resolve: (_root, { input }, ctx) => createWebhook(ctx, { ...input, tenantId: String(input.tenantId) }),
  }),
  updateWebhook: t.field({
    type: UpdateWebhookPayload,
    description: "Changes a webhook's URL, events, description, or enables/disables it.",
    errors: { types: signedInErrors, union: { name: "UpdateWebhookResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: "What to change." }) },
    resolve: async (_root, { input }, ctx) => ({ webhook: await updateWebhook(ctx, { ...input, id: String(input.id) }) }),
  }),
  deleteWebhook: t.field({
    type: DeleteWebhookPayload,
    description: "Deletes a webhook and its delivery log; queued attempts are dropped.",
    errors: { types: signedInErrors, union: { name: "DeleteWebhookResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: DeleteWebhookInput, required: true, description: "The webhook to delete." }) },
    resolve: async (_root, { input }, ctx) => ({ deletedWebhookId: await deleteWebhook(ctx, String(input.id)) }),
  }),
  redeliverWebhook: t.field({
    type: RedeliverWebhookPayload,
    description: "Sends a delivery again (same `webhook-id` and body), with a fresh day of retries.",
    errors: { types: signedInErrors, union: { name: "RedeliverWebhookResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RedeliverWebhookInput, required: true, description: "The delivery to send again." }) },
    resolve: async (_root, { input }, ctx) => ({ delivery: await redeliverWebhook(ctx, String(input.deliveryId)) }),
  }),
}));
