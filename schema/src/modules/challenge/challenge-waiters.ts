// This instance's waiting requesters. Each one is woken to re-read its
// challenge by a published change, by its own expiry timer, when the pub/sub
// connection comes back, and by the slow database poll behind pub/sub, done
// once per instance for all of them: each tick asks only which challenges
// changed since the previous one (an indexed range on updatedAt), so its cost
// follows the number of changes, not the number of waiters.
import type { ChallengeStatus, PrismaClient } from "@latchkey/db";
import { systemClock, type Clock } from "../../clock.ts";
import type { Logger } from "../../context.ts";
import type { AppPubSub } from "../../pubsub.ts";

export const CHALLENGE_POLL_MS = 5_000;
const CLOCK_SLACK_MS = 5_000;
/** Past the expiry, so the re-read finds it expired. */
const EXPIRY_SLACK_MS = 50;

/**
 * One waiting requester. Wake-ups that arrive while it is re-reading fold into
 * one more read: every read sees the database after the last wake-up. Kept
 * small on purpose: an instance holds tens of thousands of these.
 */
export class ChallengeWaiter {
  /** Set from the start: one read right away, so a change made while the subscription was set up is not missed. */
  private rung = true;
  private resolveNext: (() => void) | null = null;
  private stopped = false;
  private readonly expiry: ReturnType<typeof setTimeout>;
  private readonly updates: ReturnType<AppPubSub["subscribe"]>;

  constructor(
    private readonly owner: ChallengeWaiters,
    readonly challengeId: string,
    /** The status the requester has last seen; the poll wakes it only when the row says otherwise. */
    public status: ChallengeStatus,
    expiresAt: Date,
    pubsub: AppPubSub,
    clock: Clock,
  ) {
    this.expiry = setTimeout(this.wake, Math.max(0, expiresAt.getTime() - clock.now()) + EXPIRY_SLACK_MS);
    this.updates = pubsub.subscribe("challenge:updated", challengeId);
    this.listen();
  }

  readonly wake = () => {
    const resolve = this.resolveNext;
    if (resolve) {
      this.resolveNext = null;
      resolve();
    } else {
      this.rung = true;
    }
  };

  /** Resolves at the next wake-up (at once if one came since the last call); false once stopped. */
  next(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (this.rung) {
      this.rung = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      this.resolveNext = () => resolve(!this.stopped);
    });
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.expiry);
    void this.updates.return();
    this.owner.remove(this);
    this.wake();
  }

  /** One pending read of the pub/sub feed at a time: a published change is a wake-up, never the record. */
  private listen() {
    this.updates.next().then(
      (result) => {
        if (result.done || this.stopped) return;
        this.wake();
        this.listen();
      },
      () => undefined,
    );
  }
}

export class ChallengeWaiters {
  private readonly waiters = new Map<string, Set<ChallengeWaiter>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private lastPoll = new Date();

  constructor(
    private readonly db: PrismaClient,
    private readonly log: Logger,
    /** Expiry is measured by it; a test that moves it calls wakeAll() as the expiry timers would. */
    private readonly clock: Clock = systemClock,
    private readonly intervalMs = CHALLENGE_POLL_MS,
  ) {}

  /** A requester starts waiting on `challenge`, last seen in `challenge.status`; stop() the waiter when done. */
  watch(pubsub: AppPubSub, challenge: { id: string; status: ChallengeStatus; expiresAt: Date }) {
    const waiter = new ChallengeWaiter(this, challenge.id, challenge.status, challenge.expiresAt, pubsub, this.clock);
    let set = this.waiters.get(challenge.id);
    if (!set) {
      set = new Set();
      this.waiters.set(challenge.id, set);
    }
    set.add(waiter);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref?.();
    }
    return waiter;
  }

  /** Called by a waiter when it stops. */
  remove(waiter: ChallengeWaiter) {
    const set = this.waiters.get(waiter.challengeId);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) this.waiters.delete(waiter.challengeId);
    if (this.waiters.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
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
