// Removes rows nobody can use any more: challenges and email codes long past
// their expiry. Every instance runs it; the deletes are idempotent.
import type { Services } from "@latchkey/schema";

const EVERY_MS = 60_000;
/** Kept a while after expiry so a late watcher still reads the final state. */
const KEEP_EXPIRED_MS = 60 * 60_000;

export function startHousekeeping(services: Pick<Services, "db" | "log">) {
  const sweep = async () => {
    const before = new Date(Date.now() - KEEP_EXPIRED_MS);
    try {
      await services.db.challenge.deleteMany({ where: { expiresAt: { lt: before } } });
      await services.db.emailVerification.deleteMany({ where: { expiresAt: { lt: before } } });
    } catch (error) {
      services.log.warn("housekeeping failed", { error: String(error) });
    }
  };
  const timer = setInterval(() => void sweep(), EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
