// The rate limits' fallback, without processes: a Redis connection that
// refuses at once (down, reconnecting) and one that never answers (a hung
// server: SIGSTOP, or a network that drops packets). Either way each limit
// counts in this instance's memory: nothing fails open (the budget still
// refuses past its points) and nothing fails closed (no call waits on Redis
// for ever). fault-redis-outage.test.ts does the same with real processes.
import type { Redis } from "ioredis";
import { AppError, RateLimits, limiterFactory } from "@latchkey/schema";
import { RateLimiterRes } from "rate-limiter-flexible";
import { describe, expect, it } from "vitest";

/** What RateLimiterRedis asks of an ioredis client, each command answered by `reply`. */
function fakeRedis(reply: () => Promise<never>) {
  const chain: Record<string, unknown> = {};
  for (const command of ["get", "set", "pttl", "incrby"]) chain[command] = () => chain;
  chain.exec = reply;
  return {
    status: "ready",
    defineCommand: () => undefined,
    rlflxIncr: reply,
    multi: () => chain,
    del: reply,
  } as unknown as Redis;
}

const never = () => new Promise<never>(() => undefined);
const refused = () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));

describe.each([
  ["refuses at once", refused],
  ["never answers", never],
])("when Redis %s", (_name, reply) => {
  it("counts each limit in memory, refusing past its budget and answering every call", async () => {
    const factory = limiterFactory(fakeRedis(reply), "fallback-test", 100);
    const limits = new RateLimits(factory, { challengeStartPerIp: { points: 3, durationSeconds: 60 } });
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => limits.consume("challengeStartPerIp", "203.0.113.7").then(() => "passed", (error: unknown) => (error instanceof AppError && error.code === "RATE_LIMITED" ? "refused" : String(error)))),
    );
    expect(outcomes.filter((o) => o === "passed")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "refused")).toHaveLength(2);
    // Another key has its own budget.
    await expect(limits.consume("challengeStartPerIp", "203.0.113.8")).resolves.toBeUndefined();

    // The other calls the sign-in counters make: get, block, reward, delete.
    const limiter = factory("probe", 2, 60);
    await limiter.consume("k");
    expect((await limiter.get("k"))?.consumedPoints).toBe(1);
    await limiter.block("k", 30);
    await expect(limiter.consume("k")).rejects.toBeInstanceOf(RateLimiterRes);
    await limiter.delete("k");
    expect(await limiter.get("k")).toBeNull();
    await limiter.consume("k");
    await limiter.reward("k", 1);
    expect((await limiter.get("k"))?.consumedPoints).toBe(0);
    console.log(`rate-limit-fallback (Redis ${_name}): 5 starts -> 3 passed, 2 refused; 11 limiter calls answered in ${Date.now() - started} ms`);
  });
});
