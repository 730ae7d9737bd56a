// Counters that throttle guessing. In-process by default; in Redis when the API
// runs as several instances, so an attacker cannot spread attempts across them.
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { RateLimitedError } from "../errors.ts";

export type LimiterFactory = (name: string, points: number, durationSeconds: number) => RateLimiterAbstract;

/**
 * `namespace` separates deployments (or test runs) that share one Redis. While
 * Redis is unreachable each instance counts in memory (the library's insurance
 * limiter): limits stay enforced per instance, and sign-ins and approvals go on.
 */
export function limiterFactory(redis?: Redis, namespace = "rl"): LimiterFactory {
  return (name, points, duration) => {
    const keyPrefix = `${namespace}:${name}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    return redis ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration, insuranceLimiter: memory }) : memory;
  };
}

/** Failures allowed per (account, client IP) before the backoff starts. */
const FREE_FAILURES = 5;
const MAX_BACKOFF_SECONDS = 15 * 60;
/** Ceilings high enough that nobody can lock a real user out from another address. */
const ACCOUNT_FAILURES_PER_HOUR = 100;
const IP_FAILURES_PER_HOUR = 300;

/**
 * Failed sign-ins throttled per (account, client IP) with exponential backoff,
 * plus high per-account and per-IP ceilings against spread-out guessing.
 * "account" is a tenant-qualified login key, known or not, so unknown accounts
 * behave exactly like known ones.
 */
export class LoginThrottle {
  private readonly failures: RateLimiterAbstract;
  private readonly backoff: RateLimiterAbstract;
  private readonly perAccount: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;

  constructor(limiter: LimiterFactory, scope = "login") {
    this.failures = limiter(`${scope}:failures`, 1_000_000, 3600);
    this.backoff = limiter(`${scope}:backoff`, 1, 1);
    this.perAccount = limiter(`${scope}:account`, ACCOUNT_FAILURES_PER_HOUR, 3600);
    this.perIp = limiter(`${scope}:ip`, IP_FAILURES_PER_HOUR, 3600);
  }

  /** Throws RateLimitedError when this attempt may not even be checked. */
  async check(account: string, ip: string): Promise<void> {
    const [backoff, perAccount, perIp] = await Promise.all([
      this.backoff.get(pair(account, ip)),
      this.perAccount.get(account),
      this.perIp.get(ip),
    ]);
    const waits = [
      // block() marks the key as one point over its single point.
      blockedFor(backoff, 2),
      blockedFor(perAccount, ACCOUNT_FAILURES_PER_HOUR),
      blockedFor(perIp, IP_FAILURES_PER_HOUR),
    ];
    const wait = Math.max(...waits);
    if (wait > 0) throw new RateLimitedError(wait);
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    const key = pair(account, ip);
    const counted = await this.failures.consume(key).catch(rejection);
    const failures = counted.consumedPoints;
    if (failures >= FREE_FAILURES) {
      const seconds = Math.min(2 ** (failures - FREE_FAILURES), MAX_BACKOFF_SECONDS);
      await this.backoff.block(key, seconds);
    }
    await Promise.all([this.perAccount.consume(account).catch(rejection), this.perIp.consume(ip).catch(rejection)]);
  }

  async recordSuccess(account: string, ip: string): Promise<void> {
    const key = pair(account, ip);
    await Promise.all([this.failures.delete(key), this.backoff.delete(key)]);
  }
}

function pair(account: string, ip: string) {
  return `${account}|${ip}`;
}

/** Seconds to wait when `threshold` points are already used up in the window. */
function blockedFor(res: RateLimiterRes | null, threshold: number): number {
  if (!res || res.consumedPoints < threshold) return 0;
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/** consume() rejects with the limiter's state when over the limit; that is data, not failure. */
function rejection(reason: unknown): RateLimiterRes {
  if (reason instanceof RateLimiterRes) return reason;
  throw reason;
}

/** Fixed budgets for unauthenticated or costly operations, per key (usually the client IP). */
export const RATE_LIMITS = {
  signUp: { points: 10, durationSeconds: 3600 },
  /** Unauthenticated QR challenge starts, per client IP and per tenant. */
  challengeStartPerIp: { points: 30, durationSeconds: 60 },
  challengeStartPerTenant: { points: 600, durationSeconds: 60 },
  /** Emailed codes, per address and per client IP. */
  emailCodePerAddress: { points: 5, durationSeconds: 3600 },
  emailCodePerIp: { points: 30, durationSeconds: 3600 },
  /** Code checks per client IP (each code also allows only 5 tries). */
  emailVerifyPerIp: { points: 60, durationSeconds: 3600 },
  /** Approvals and denials, per device and per user. */
  decisionPerDevice: { points: 30, durationSeconds: 60 },
  decisionPerUser: { points: 60, durationSeconds: 60 },
  /** Enrollments per client IP: generous, as a whole office's rollout shares one address. */
  enrollPerIp: { points: 2000, durationSeconds: 3600 },
  /** QR login screens started per workstation. */
  challengeStartPerWorkstation: { points: 30, durationSeconds: 60 },
};

export type RateLimitName = keyof typeof RATE_LIMITS;
export type RateBudgets = Record<RateLimitName, { points: number; durationSeconds: number }>;

export class RateLimits {
  private readonly limiters: Record<RateLimitName, RateLimiterAbstract>;

  private readonly budgets: RateBudgets;

  constructor(limiter: LimiterFactory, overrides: Partial<RateBudgets> = {}) {
    // Only known limits; an unknown name in the overrides is ignored.
    const budgets = Object.fromEntries(
      (Object.keys(RATE_LIMITS) as RateLimitName[]).map((name) => [name, overrides[name] ?? RATE_LIMITS[name]]),
    ) as RateBudgets;
    this.budgets = budgets;
    this.limiters = Object.fromEntries(
      Object.entries(budgets).map(([name, budget]) => [name, limiter(name, budget.points, budget.durationSeconds)]),
    ) as Record<RateLimitName, RateLimiterAbstract>;
  }

  /** Spends one point of `name` for `key`, or throws RateLimitedError. */
  async consume(name: RateLimitName, key: string): Promise<void> {
    const result = await this.limiters[name].consume(key).catch(rejection);
    if (result.consumedPoints > this.budgets[name].points) {
      throw new RateLimitedError(Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
    }
  }
}
