// The slow database poll behind pub/sub, done once per instance for all of its
// waiting requesters: one query per tick, however many are waiting, instead of
// one per waiter. A waiter whose challenge changed is woken to re-read it.
import type { ChallengeStatus, PrismaClient } from "@latchkey/db";
import type { Logger } from "../../context.ts";

export const CHALLENGE_POLL_MS = 5_000;

type Waiter = { status: ChallengeStatus; wake: () => void };

export class ChallengeWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling = false;

  constructor(
    private readonly db: PrismaClient,
    private readonly log: Logger,
    private readonly intervalMs = CHALLENGE_POLL_MS,
  ) {}

  /** Wakes `wake` when a poll finds `challengeId` no longer in `status`; returns the unsubscribe. */
  watch(challengeId: string, status: ChallengeStatus, wake: () => void) {
    const waiter: Waiter = { status, wake };
    let set = this.waiters.get(challengeId);
    if (!set) {
      set = new Set();
      this.waiters.set(challengeId, set);
    }
    set.add(waiter);
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref?.();
    return {
      /** The waiter has re-read and now knows `next`. */
      saw: (next: ChallengeStatus) => {
        waiter.status = next;
      },
      stop: () => {
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(challengeId);
        if (this.waiters.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      },
    };
  }

  /** Wakes every waiter (the pub/sub connection came back and may have dropped messages). */
  wakeAll() {
    for (const set of this.waiters.values()) for (const waiter of set) waiter.wake();
  }

  private async poll() {
    if (this.polling || this.waiters.size === 0) return;
    this.polling = true;
    try {
      const ids = [...this.waiters.keys()];
      // Expiry is checked too: the waiter's own re-read turns it into EXPIRED.
      const rows = await this.db.challenge.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, expiresAt: true } });
      const now = Date.now();
      const current = new Map(rows.map((row) => [row.id, row]));
      for (const [id, set] of this.waiters) {
        const row = current.get(id);
        for (const waiter of set) {
          if (!row || row.status !== waiter.status || row.expiresAt.getTime() <= now) waiter.wake();
        }
      }
    } catch (error) {
      this.log.warn("challenge poll failed", { error: String(error) });
    } finally {
      this.polling = false;
    }
  }

  close() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.waiters.clear();
  }
}
