// One attempt at a webhook delivery, run as a job. A delivery is PENDING while
// an attempt is queued or running, RETRYING while it waits for its next attempt
// (nextAttemptAt, on the injectable clock), then SUCCEEDED, or FAILED once a
// day of backoff has passed. The next attempt is not a queue retry: the
// delivery's row holds its schedule, and enqueueDueDeliveries (every instance,
// on a timer) claims due rows with a conditional update and enqueues them, so
// the schedule survives a restart and each attempt runs once. A webhook whose
// every attempt has failed for a day is switched off and its tenant's admins
// are emailed.
import type { Prisma } from "@latchkey/db";
import type { Services } from "../../context.ts";
import type { JobServices } from "../../jobs.ts";
import { openWebhookSecret, webhookSignatureHeaders } from "../../security/webhook-signing.ts";
import { recordAudit, publishAudit } from "../audit/audit.service.ts";

export type WebhookDeliveryJob = { deliveryId: string };

/** Wait before the n-th retry: 30 s, doubling, at most 4 hours. */
export function retryDelayMs(attempts: number) {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 4 * 3600_000);
}

/** A webhook is switched off once all of its attempts have failed for this long (or a delivery gave up after its day)... */
export const DISABLE_AFTER_FAILING_MS = 24 * 3600_000;
/** ...and at least this many in a row (a single slow retry does not count as a day of failures). */
export const DISABLE_AFTER_FAILURES = 5;

/** Longest response wait and the most of an error text kept. */
const ERROR_TEXT = 300;

export async function deliverWebhook(services: JobServices, job: WebhookDeliveryJob) {
  const delivery = await services.db.webhookDelivery.findUnique({ where: { id: job.deliveryId }, include: { webhook: true } });
  // Gone with its webhook, or already attempted by an earlier run of this job.
  if (!delivery || delivery.status !== "PENDING") return;
  const webhook = delivery.webhook;
  if (!webhook.enabled) {
    await services.db.webhookDelivery.updateMany({
      where: { id: delivery.id, status: "PENDING" },
      data: { status: "FAILED", lastError: "The webhook is disabled", nextAttemptAt: null },
    });
    return;
  }
  const dataKey = await services.keyring.existingDataKey(services.db, webhook.tenantId);
  if (!dataKey) throw new Error(`Tenant ${webhook.tenantId} has a webhook but no data key`);
  const secret = openWebhookSecret(dataKey, webhook.tenantId, webhook.id, webhook.secretCiphertext);
  const body = JSON.stringify(delivery.payload);
  // The wire timestamp is the real time of sending: receivers check it against their own clocks.
  const headers = {
    "content-type": "application/json",
    "user-agent": "Latchkey-Webhooks/1",
    ...webhookSignatureHeaders(secret, delivery.id, Math.floor(Date.now() / 1000), body),
  };

  let status: number | null = null;
  let error: string | null = null;
  try {
    const answered = (await services.webhookSender.send({ url: webhook.url, headers, body })).status;
    status = answered;
    if (answered < 200 || answered > 299) error = `The receiver answered ${answered}`;
  } catch (failure) {
    error = (failure instanceof Error ? failure.message : String(failure)).slice(0, ERROR_TEXT);
  }
  const now = services.clock.now();
  const attempts = delivery.attempts + 1;
  if (!error) {
    // The webhook's row first, as deleteWebhook locks it before its deliveries: no deadlock between them.
    await services.db.$transaction([
      services.db.webhook.update({ where: { id: webhook.id }, data: { failingSince: null, consecutiveFailures: 0 } }),
      services.db.webhookDelivery.update({
        where: { id: delivery.id },
        data: {
          status: "SUCCEEDED",
          attempts,
          responseCode: status,
          lastError: null,
          firstAttemptAt: delivery.firstAttemptAt ?? new Date(now),
          lastAttemptAt: new Date(now),
          nextAttemptAt: null,
        },
      }),
    ]);
    return;
  }
  const next = now + retryDelayMs(attempts);
  const givesUp = next > delivery.giveUpAt.getTime();
  const firstAttemptAt = delivery.firstAttemptAt?.getTime() ?? now;
  const audited = await services.db.$transaction(async (tx: Prisma.TransactionClient) => {
    // Counted in the database, as other deliveries to this webhook may fail at the same time.
    await tx.webhook.updateMany({ where: { id: webhook.id, failingSince: null }, data: { failingSince: new Date(now) } });
    const streak = await tx.webhook.update({
      where: { id: webhook.id },
      data: { consecutiveFailures: { increment: 1 } },
      select: { failingSince: true, consecutiveFailures: true },
    });
    const failingSince = streak.failingSince?.getTime() ?? now;
    // Failing for a day: by the clock, or because this delivery has just used up
    // its day of retries with no success anywhere since it started.
    const failedForADay = now - failingSince >= DISABLE_AFTER_FAILING_MS || (givesUp && failingSince <= firstAttemptAt);
    const disable = failedForADay && streak.consecutiveFailures >= DISABLE_AFTER_FAILURES;
    await tx.webhookDelivery.update({
      where: { id: delivery.id },
      data: {
        status: givesUp || disable ? "FAILED" : "RETRYING",
        attempts,
        responseCode: status,
        lastError: error,
        firstAttemptAt: new Date(firstAttemptAt),
        lastAttemptAt: new Date(now),
        nextAttemptAt: givesUp || disable ? null : new Date(next),
      },
    });
    return disable ? disableFailingWebhook(tx, services, webhook, now) : null;
  });
  if (audited) publishAudit(services, [audited]);
}

async function disableFailingWebhook(
  tx: Prisma.TransactionClient,
  services: Pick<Services, "jobs" | "clock">,
  webhook: { id: string; tenantId: string; url: string },
  now: number,
) {
  const reason = "Every delivery failed for a day";
  const { count } = await tx.webhook.updateMany({ where: { id: webhook.id, enabled: true }, data: { enabled: false, disabledReason: reason } });
  if (count === 0) return null;
  // Its other waiting deliveries stop too.
  await tx.webhookDelivery.updateMany({
    where: { webhookId: webhook.id, status: { in: ["PENDING", "RETRYING"] } },
    data: { status: "FAILED", lastError: "The webhook was disabled", nextAttemptAt: null },
  });
  const admins = await tx.user.findMany({ where: { tenantId: webhook.tenantId, role: "ADMIN", status: "ACTIVE" }, select: { email: true } });
  for (const admin of admins) {
    await services.jobs.enqueue(
      "mail.send",
      {
        to: admin.email,
        subject: "A webhook was disabled after a day of failed deliveries",
        text:
          `Every delivery to the webhook ${webhook.url} has failed since at least ${new Date(now - DISABLE_AFTER_FAILING_MS).toISOString()}, ` +
          "so it has been disabled and receives no more events.\n\n" +
          "Check the receiver, then enable the webhook again under Settings > Integrations, where its delivery log shows " +
          "each attempt's response, and replay the deliveries you need.\n",
      },
      { tx },
    );
  }
  return recordAudit(
    tx,
    { viewer: null, request: { ip: "", userAgent: null }, jobs: services.jobs, clock: services.clock },
    { tenantId: webhook.tenantId, action: "webhook.disabled", targetType: "Webhook", targetId: webhook.id, data: { url: webhook.url, reason } },
    null,
  );
}

/**
 * Claims the deliveries of this instance's job queue whose next attempt is due
 * by the clock and enqueues them. A conditional update per row lets one instance win each; the enqueue
 * shares its transaction, so a claim without its job never commits.
 */
export async function enqueueDueDeliveries(services: Pick<Services, "db" | "jobs" | "clock">, limit = 100): Promise<number> {
  const due = await services.db.webhookDelivery.findMany({
    where: { queue: services.jobs.schema, status: "RETRYING", nextAttemptAt: { lte: new Date(services.clock.now()) } },
    select: { id: true },
    orderBy: { nextAttemptAt: "asc" },
    take: limit,
  });
  let claimed = 0;
  for (const { id } of due) {
    const won = await services.db.$transaction(async (tx) => {
      const { count } = await tx.webhookDelivery.updateMany({ where: { id, status: "RETRYING" }, data: { status: "PENDING" } });
      if (count === 1) await services.jobs.enqueue("webhook.deliver", { deliveryId: id }, { tx });
      return count === 1;
    });
    if (won) claimed += 1;
  }
  return claimed;
}
