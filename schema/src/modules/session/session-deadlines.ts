// Subscriptions end when their session does, not only when it is revoked: at
// its absolute expiry and at its idle expiry. This instance keeps the open
// subscriptions of each session with the session's two deadlines and one timer
// for the earliest; when a deadline passes it re-reads those sessions (another
// request may have slid the idle window, or revoked one) and ends the
// subscriptions of every session that is over.
import type { PrismaClient } from "@latchkey/db";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../context.ts";

type Tracked = { expiresAt: number; idleExpiresAt: number; enders: Set<() => void> };

/** setTimeout's longest delay; a later deadline is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SessionDeadlines {
  private readonly sessions = new Map<string, Tracked>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly db: PrismaClient,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /**
   * Calls `end` once the session is over. Returns a function that stops
   * tracking (the subscription finished on its own).
   */
  track(session: { sessionId: string; expiresAt: number; idleExpiresAt: number }, end: () => void): () => void {
    let tracked = this.sessions.get(session.sessionId);
    if (!tracked) {
      tracked = { expiresAt: session.expiresAt, idleExpiresAt: session.idleExpiresAt, enders: new Set() };
      this.sessions.set(session.sessionId, tracked);
    } else {
      // The caller's view may be fresher (a request slid the idle window).
      tracked.idleExpiresAt = Math.max(tracked.idleExpiresAt, session.idleExpiresAt);
    }
    tracked.enders.add(end);
    this.arm();
    const entry = tracked;
    return () => {
      entry.enders.delete(end);
      if (entry.enders.size === 0 && this.sessions.get(session.sessionId) === entry) this.sessions.delete(session.sessionId);
    };
  }

  /** Subscriptions tracked on this instance (for tests and metrics). */
  get size() {
    let count = 0;
    for (const tracked of this.sessions.values()) count += tracked.enders.size;
    return count;
  }

  /**
   * Re-reads every session whose deadline has passed by the clock and ends the
   * subscriptions of those that are over. Runs on its timer; tests call it
   * after moving their clock.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.check().finally(() => {
      this.sweeping = null;
      this.arm();
    });
    return this.sweeping;
  }

  close() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    this.sessions.clear();
  }

  private async check() {
    const now = this.clock.now();
    const due = [...this.sessions].filter(([, tracked]) => Math.min(tracked.expiresAt, tracked.idleExpiresAt) <= now);
    if (due.length === 0) return;
    let rows: { id: string; expiresAt: Date; idleExpiresAt: Date; revokedAt: Date | null }[];
    try {
      rows = await this.db.session.findMany({
        where: { id: { in: due.map(([id]) => id) } },
        select: { id: true, expiresAt: true, idleExpiresAt: true, revokedAt: true },
      });
    } catch (error) {
      // Unknown is not over: try again shortly rather than end live feeds on a database hiccup.
      this.log.warn("session deadlines: could not re-read sessions", { error: String(error) });
      for (const [, tracked] of due) {
        tracked.expiresAt = Math.max(tracked.expiresAt, now + 5_000);
        tracked.idleExpiresAt = Math.max(tracked.idleExpiresAt, now + 5_000);
      }
      return;
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const [id, tracked] of due) {
      const row = byId.get(id);
      const over = !row || row.revokedAt !== null || row.expiresAt.getTime() <= now || row.idleExpiresAt.getTime() <= now;
      if (over) {
        if (this.sessions.get(id) === tracked) this.sessions.delete(id);
        for (const end of tracked.enders) end();
      } else {
        tracked.expiresAt = row.expiresAt.getTime();
        tracked.idleExpiresAt = row.idleExpiresAt.getTime();
      }
    }
  }

  private arm() {
    let earliest = Infinity;
    for (const tracked of this.sessions.values()) earliest = Math.min(earliest, tracked.expiresAt, tracked.idleExpiresAt);
    if (earliest === Infinity) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer && this.timerAt <= earliest) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = earliest;
    const delay = Math.min(Math.max(0, earliest - this.clock.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      void this.sweep();
    }, delay);
    this.timer.unref?.();
  }
}
