// Events webhooks subscribe to, and their fan-out: when an event is written,
// one delivery per subscribed webhook (the tenant's own, and its MSP's) is
// written and its first attempt enqueued, in the event's own transaction where
// there is one, so an event and its deliveries exist together or not at all.
import type { Prisma } from "@latchkey/db";
import type { Services } from "../../context.ts";

export const WEBHOOK_EVENT_TYPES = {
  LOGIN_EVENT: "A desktop login attempt at one of the tenant's workstations (`data` is the login event).",
  AUDIT_EVENT: "A new audit log entry (`data` is the audit event).",
  WORKSTATION_CHANGED: "A workstation enrolled, was approved, renamed or removed (`data` names it and the change).",
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;

export const webhookEventTypeNames = Object.keys(WEBHOOK_EVENT_TYPES) as WebhookEventType[];

/** Retries of one delivery stop this long after the event (or after a replay). */
export const DELIVERY_WINDOW_MS = 24 * 3600_000;

export type WebhookEvent = { tenantId: string; type: WebhookEventType; data: Prisma.InputJsonObject };

/**
 * Writes the deliveries of `event` and enqueues their first attempts in `tx`,
 * the transaction that writes the event.
 */
export async function enqueueWebhookEvent(tx: Prisma.TransactionClient, services: Pick<Services, "jobs" | "clock">, event: WebhookEvent) {
  // Cheap when nobody subscribed: one indexed read, nothing written.
  const webhooks = await tx.webhook.findMany({
    where: {
      enabled: true,
      events: { has: event.type },
      OR: [{ tenantId: event.tenantId }, { tenant: { kind: "MSP", customers: { some: { id: event.tenantId } } } }],
    },
    select: { id: true, tenantId: true },
  });
  if (webhooks.length === 0) return;
  const now = services.clock.now();
  for (const webhook of webhooks) {
      const delivery = await tx.webhookDelivery.create({
        data: {
          webhookId: webhook.id,
          tenantId: webhook.tenantId,
          eventTenantId: event.tenantId,
          eventType: event.type,
          // The body, fixed now: retries and replays send the same bytes.
          payload: { type: event.type, timestamp: new Date(now).toISOString(), data: { tenantId: event.tenantId, ...event.data } },
          queue: services.jobs.schema,
          giveUpAt: new Date(now + DELIVERY_WINDOW_MS),
          createdAt: new Date(now),
        },
        select: { id: true },
      });
      await services.jobs.enqueue("webhook.deliver", { deliveryId: delivery.id }, { tx });
  }
}

/** Runs the fan-out after a change has committed, logging rather than failing the change. */
export function enqueueWebhookEventAfterCommit(services: Pick<Services, "db" | "jobs" | "clock" | "log">, event: WebhookEvent) {
  void services.db.$transaction((tx) => enqueueWebhookEvent(tx, services, event)).catch((error: unknown) =>
    services.log.error("webhook deliveries could not be enqueued", { type: event.type, tenantId: event.tenantId, error: String(error) }),
  );
}
