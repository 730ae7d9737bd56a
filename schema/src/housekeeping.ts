// Rows nobody can use any more: challenges and email codes long past their
// expiry. Run as a job, so one instance does it per round.
import type { Services } from "./context.ts";
import { traceAbandonedLogins } from "./modules/password/password.service.ts";

/** Kept a while after expiry so a late watcher still reads the final state. */
const KEEP_EXPIRED_MS = 60 * 60_000;

export async function sweepExpired(services: Services) {
  const before = new Date(Date.now() - KEEP_EXPIRED_MS);
  await services.db.challenge.deleteMany({ where: { expiresAt: { lt: before } } });
  await services.db.emailVerification.deleteMany({ where: { expiresAt: { lt: before } } });
  // Logins nobody finished are failed attempts; registrations nobody used, nothing.
  await traceAbandonedLogins(services);
}
