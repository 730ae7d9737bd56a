// Sessions this instance authenticated in the last few seconds, so a busy
// client (the portal's dashboard, an integration) costs no database lookup per
// request. An entry is dropped at once when its session ends on any instance
// (the unrouted "sessions:ended" topic, and synchronously on the instance that
// ended it), and lives at most TTL_MS anyway: the bound should that message be
// lost. Everything that changes what a session may do (log out, revocation,
// password, role, disabling or deleting the user) ends the session.
//
// A lookup that started before a session ended may finish after this instance
// heard of the end, carrying the row as it was. So every forget() (and clear())
// moves a generation on, and set() refuses an entry looked up under an older
// generation: revocation wins every race, at the price of an occasional extra
// database read after an unrelated session ended.
import type { Viewer } from "../../context.ts";

type Entry = {
  viewer: Viewer;
  expiresAt: number;
  idleExpiresAt: number;
  lastSeenAt: number;
  cachedAt: number;
};

export class SessionCache {
  static readonly TTL_MS = 10_000;
  static readonly MAX_ENTRIES = 10_000;

  private readonly byToken = new Map<string, Entry>();
  private readonly tokenBySession = new Map<string, string>();
  private readonly lookups = new Map<string, { generation: number; viewer: Promise<Viewer | null> }>();
  private currentGeneration = 0;

  /** Read before a lookup starts; pass it to set() with what the lookup found. */
  get generation() {
    return this.currentGeneration;
  }

  /**
   * The cached viewer of a token, if it is fresh and its session still within
   * both expiries and not due for its idle window to slide (`slideEveryMs`);
   * otherwise null, and the caller asks the database.
   */
  get(tokenHash: string, slideEveryMs: number, now = Date.now()): Viewer | null {
    const entry = this.byToken.get(tokenHash);
    if (!entry) return null;
    const fresh =
      now - entry.cachedAt < SessionCache.TTL_MS &&
      now < entry.expiresAt &&
      now < entry.idleExpiresAt &&
      now - entry.lastSeenAt <= slideEveryMs;
    if (fresh) return entry.viewer;
    this.drop(tokenHash, entry.viewer.sessionId);
    return null;
  }

  /**
   * Remembers what a lookup found, unless a session ended since the lookup
   * started (`generation` is what `this.generation` was then): the row it read
   * may predate that end. Returns whether it was kept.
   */
  set(tokenHash: string, entry: Omit<Entry, "cachedAt">, generation: number, now = Date.now()): boolean {
    if (generation !== this.currentGeneration) return false;
    if (this.byToken.size >= SessionCache.MAX_ENTRIES) {
      // Maps iterate in insertion order: the oldest entry goes first.
      const [oldest, old] = this.byToken.entries().next().value as [string, Entry];
      this.drop(oldest, old.viewer.sessionId);
    }
    this.drop(tokenHash, entry.viewer.sessionId);
    this.byToken.set(tokenHash, { ...entry, cachedAt: now });
    this.tokenBySession.set(entry.viewer.sessionId, tokenHash);
    return true;
  }

  /**
   * One database lookup per token at a time: requests that miss together
   * share the first one's answer instead of each asking. A request never joins
   * a lookup that started before a session ended (it may carry the row as it
   * was); it starts its own.
   */
  lookUp(tokenHash: string, load: (generation: number) => Promise<Viewer | null>): Promise<Viewer | null> {
    const running = this.lookups.get(tokenHash);
    if (running && running.generation === this.currentGeneration) return running.viewer;
    const generation = this.currentGeneration;
    const viewer = load(generation).finally(() => {
      if (this.lookups.get(tokenHash)?.viewer === viewer) this.lookups.delete(tokenHash);
    });
    this.lookups.set(tokenHash, { generation, viewer });
    return viewer;
  }

  forget(sessionIds: Iterable<string>) {
    this.currentGeneration += 1;
    for (const sessionId of sessionIds) {
      const tokenHash = this.tokenBySession.get(sessionId);
      if (tokenHash) this.drop(tokenHash, sessionId);
    }
  }

  /** After pub/sub was away: whatever ended meanwhile was not heard of. */
  clear() {
    this.currentGeneration += 1;
    this.byToken.clear();
    this.tokenBySession.clear();
  }

  get size() {
    return this.byToken.size;
  }

  private drop(tokenHash: string, sessionId: string) {
    this.byToken.delete(tokenHash);
    this.tokenBySession.delete(sessionId);
  }
}
