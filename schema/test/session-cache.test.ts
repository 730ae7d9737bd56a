import { describe, expect, it } from "vitest";
import type { Viewer } from "../src/context.ts";
import { SessionCache } from "../src/modules/session/session-cache.ts";

const NOW = 1_800_000_000_000;
const SLIDE = 60_000;

function viewer(sessionId: string): Viewer {
  return { sessionId, userId: "u", tenantId: "t", tenantKind: "MSP", workingTenantId: "t", role: "ADMIN", label: "Ada", expiresAt: NOW + 3600_000, idleExpiresAt: NOW + 600_000 };
}

function entry(sessionId: string, overrides: Partial<{ expiresAt: number; idleExpiresAt: number; lastSeenAt: number }> = {}) {
  return { viewer: viewer(sessionId), expiresAt: NOW + 3600_000, idleExpiresAt: NOW + 600_000, lastSeenAt: NOW, ...overrides };
}

describe("SessionCache", () => {
  it("answers for a few seconds, then sends the caller back to the database", () => {
    const cache = new SessionCache();
    cache.set("h1", entry("s1"), cache.generation, NOW);
    expect(cache.get("h1", SLIDE, NOW + 1_000)?.sessionId).toBe("s1");
    expect(cache.get("h1", SLIDE, NOW + SessionCache.TTL_MS)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it("never answers for a session past either expiry, or due for its idle window to slide", () => {
    const cache = new SessionCache();
    cache.set("h1", entry("s1", { expiresAt: NOW + 500 }), cache.generation, NOW);
    cache.set("h2", entry("s2", { idleExpiresAt: NOW + 500 }), cache.generation, NOW);
    cache.set("h3", entry("s3", { lastSeenAt: NOW - SLIDE + 200 }), cache.generation, NOW);
    for (const hash of ["h1", "h2", "h3"]) expect(cache.get(hash, SLIDE, NOW + 1_000)).toBeNull();
  });

  it("forgets ended sessions at once", () => {
    const cache = new SessionCache();
    cache.set("h1", entry("s1"), cache.generation, NOW);
    cache.set("h2", entry("s2"), cache.generation, NOW);
    cache.forget(["s1", "unknown"]);
    expect(cache.get("h1", SLIDE, NOW)).toBeNull();
    expect(cache.get("h2", SLIDE, NOW)?.sessionId).toBe("s2");
    cache.clear();
    expect(cache.get("h2", SLIDE, NOW)).toBeNull();
  });

  it("refuses what a lookup found once a session ended while it was under way", () => {
    const cache = new SessionCache();
    const before = cache.generation;
    // The lookup reads the row; meanwhile a session ends and this instance hears of it.
    cache.forget(["s1"]);
    expect(cache.set("h1", entry("s1"), before, NOW)).toBe(false);
    expect(cache.get("h1", SLIDE, NOW)).toBeNull();
    // A lookup that started after the end is kept.
    expect(cache.set("h1", entry("s1"), cache.generation, NOW)).toBe(true);
    const beforeClear = cache.generation;
    cache.clear();
    expect(cache.set("h2", entry("s2"), beforeClear, NOW)).toBe(false);
  });

  it("shares one lookup among requests that miss together, but never across a session's end", async () => {
    const cache = new SessionCache();
    const pending: ((viewer: Viewer | null) => void)[] = [];
    const load = () => new Promise<Viewer | null>((resolve) => pending.push(resolve));
    const first = cache.lookUp("h1", load);
    const second = cache.lookUp("h1", load);
    expect(pending).toHaveLength(1);
    // A session ends while that lookup is under way: later requests do not join it.
    cache.forget(["s1"]);
    const third = cache.lookUp("h1", load);
    expect(pending).toHaveLength(2);
    pending[0]!(viewer("s1"));
    pending[1]!(null);
    expect((await first)?.sessionId).toBe("s1");
    expect(await second).toBe(await first);
    expect(await third).toBeNull();
    // Settled lookups are not shared any more.
    void cache.lookUp("h1", load);
    expect(pending).toHaveLength(3);
  });

  it("stays bounded, dropping the oldest entry", () => {
    const cache = new SessionCache();
    for (let i = 0; i <= SessionCache.MAX_ENTRIES; i++) cache.set(`h${i}`, entry(`s${i}`), cache.generation, NOW);
    expect(cache.size).toBe(SessionCache.MAX_ENTRIES);
    expect(cache.get("h0", SLIDE, NOW)).toBeNull();
    expect(cache.get(`h${SessionCache.MAX_ENTRIES}`, SLIDE, NOW)).not.toBeNull();
  });
});
