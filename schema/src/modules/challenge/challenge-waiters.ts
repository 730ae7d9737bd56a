// The slow database poll behind pub/sub, done once per instance for all of its
// waiting requesters: each tick asks only which challenges changed since the
// previous one (an indexed range on updatedAt), so its cost follows the number
// of changes, not the number of waiters. A waiter whose challenge changed is
// woken to re-read it; expiry has its own timer per waiter.
import type { ChallengeStatus, PrismaClient } from "@latchkey/db";
import type { Logger } from "../../context.ts";

export const CHALLENGE_POLL_MS = 5_000;
const CLOCK_SLACK_MS = 5_000;

type Waiter = { status: ChallengeStatus; wake: () => void };

export class ChallengeWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private lastPoll = new Date();

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
      // Looks a little further back than the last tick: instances' clocks
      // (which stamp updatedAt) may differ slightly, and a wake costs only a re-read.
      const since = new Date(this.lastPoll.getTime() - CLOCK_SLACK_MS);
      this.lastPoll = new Date();
      const changed = await this.db.challenge.findMany({ where: { updatedAt: { gte: since } }, select: { id: true, status: true } });
      for (const row of changed) {
        for (const waiter of this.waiters.get(row.id) ?? []) {
          if (row.status !== waiter.status) waiter.wake();
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
