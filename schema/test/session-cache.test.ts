import { describe, expect, it } from "vitest";
import type { Viewer } from "../src/context.ts";
import { SessionCache } from "../src/modules/session/session-cache.ts";

const NOW = 1_800_000_000_000;
const SLIDE = 60_000;

function viewer(sessionId: string): Viewer {
  return { sessionId, userId: "u", tenantId: "t", tenantKind: "MSP", workingTenantId: "t", role: "ADMIN", label: "Ada" };
}

function entry(sessionId: string, overrides: Partial<{ expiresAt: number; idleExpiresAt: number; lastSeenAt: number }> = {}) {
  return { viewer: viewer(sessionId), expiresAt: NOW + 3600_000, idleExpiresAt: NOW + 600_000, lastSeenAt: NOW, ...overrides };
}

describe("SessionCache", () => {
  it("answers for a few seconds, then sends the caller back to the database", () => {
    const cache = new SessionCache();
    cache.set("h1", entry("s1"), NOW);
    expect(cache.get("h1", SLIDE, NOW + 1_000)?.sessionId).toBe("s1");
    expect(cache.get("h1", SLIDE, NOW + SessionCache.TTL_MS)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it("never answers for a session past either expiry, or due for its idle window to slide", () => {
    const cache = new SessionCache();
    cache.set("h1", entry("s1", { expiresAt: NOW + 500 }), NOW);
    cache.set("h2", entry("s2", { idleExpiresAt: NOW + 500 }), NOW);
    cache.set("h3", entry("s3", { lastSeenAt: NOW - SLIDE + 200 }), NOW);
    for (const hash of ["h1", "h2", "h3"]) expect(cache.get(hash, SLIDE, NOW + 1_000)).toBeNull();
  });

  it("forgets ended sessions at once", () => {
    const cache = new SessionCache();
    cache.set("h1", entry("s1"), NOW);
    cache.set("h2", entry("s2"), NOW);
    cache.forget(["s1", "unknown"]);
    expect(cache.get("h1", SLIDE, NOW)).toBeNull();
    expect(cache.get("h2", SLIDE, NOW)?.sessionId).toBe("s2");
    cache.clear();
    expect(cache.get("h2", SLIDE, NOW)).toBeNull();
  });

  it("stays bounded, dropping the oldest entry", () => {
    const cache = new SessionCache();
    for (let i = 0; i <= SessionCache.MAX_ENTRIES; i++) cache.set(`h${i}`, entry(`s${i}`), NOW);
    expect(cache.size).toBe(SessionCache.MAX_ENTRIES);
    expect(cache.get("h0", SLIDE, NOW)).toBeNull();
    expect(cache.get(`h${SessionCache.MAX_ENTRIES}`, SLIDE, NOW)).not.toBeNull();
  });
});
