// Rows nobody can use any more: challenges and email codes long past their
// expiry, and finished webhook deliveries past the delivery log's 30 days. Run as a job, so one instance does it per round.
import type { Services } from "./context.ts";
import { traceAbandonedLogins } from "./modules/password/password.service.ts";

/** Kept a while after expiry so a late watcher still reads the final state. */
const KEEP_EXPIRED_MS = 60 * 60_000;

/** Finished webhook deliveries stay in the delivery log (and can be replayed) this long. */
export const KEEP_WEBHOOK_DELIVERIES_MS = 30 * 24 * 3600_000;

export async function sweepExpired(services: Services) {
  const before = new Date(Date.now() - KEEP_EXPIRED_MS);
  await services.db.challenge.deleteMany({ where: { expiresAt: { lt: before } } });
  await services.db.emailVerification.deleteMany({ where: { expiresAt: { lt: before } } });
  await services.db.webhookDelivery.deleteMany({
    where: { status: { in: ["SUCCEEDED", "FAILED"] }, createdAt: { lt: new Date(Date.now() - KEEP_WEBHOOK_DELIVERIES_MS) } },
  });
  // Logins nobody finished are failed attempts; registrations nobody used, nothing.
  await traceAbandonedLogins(services);
}
