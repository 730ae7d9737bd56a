// Counters that throttle requests. In-process by default; in Redis when the API
// runs as several instances, so an attacker cannot spread attempts across them.
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts, type RateLimiterAbstract } from "rate-limiter-flexible";
import { RateLimitedError } from "../errors.ts";

export type LimiterFactory = (name: string, points: number, durationSeconds: number) => RateLimiterAbstract;

/**
 * How long a counter waits for Redis before it counts in memory instead. Redis
 * that is down refuses at once; Redis that hangs (stopped, or a network that
 * drops packets) keeps its connection open and would never answer.
 */
export const REDIS_LIMITER_TIMEOUT_MS = 500;

/**
 * `namespace` separates deployments (or test runs) that share one Redis. While
 * Redis is unreachable or does not answer within `timeoutMs`, each instance
 * counts in memory (the library's insurance limiter, behind its timeout
 * wrapper): limits stay enforced per instance, and sign-ins and approvals go on.
 */
export function limiterFactory(redis?: Redis, namespace = "rl", timeoutMs = REDIS_LIMITER_TIMEOUT_MS): LimiterFactory {
  return (name, points, duration) => {
    const keyPrefix = `${namespace}:${name}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!redis) return memory;
    const shared = new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration });
    return new RLWrapperTimeouts({ limiter: shared, timeoutMs, insuranceLimiter: memory });
  };
}

/** consume() rejects with the limiter's state when over the limit; that is data, not failure. */
export function rejection(reason: unknown): RateLimiterRes {
  if (reason instanceof RateLimiterRes) return reason;
  throw reason;
}

/** Fixed budgets for unauthenticated or costly operations, per key (usually the client IP). */
export const RATE_LIMITS = {
  signUp: { points: 10, durationSeconds: 3600 },
  /** Signed-out password registrations (an MSP sign-up's first step), per client IP. */
  signUpRegistrationPerIp: { points: 20, durationSeconds: 3600 },
  /** Unauthenticated QR challenge starts, per client IP. */
  challengeStartPerIp: { points: 30, durationSeconds: 60 },
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
  /** Password logins tried at one workstation, refused ones included: a login screen's pace, not a flood. */
  desktopAttemptPerWorkstation: { points: 30, durationSeconds: 60 },
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
