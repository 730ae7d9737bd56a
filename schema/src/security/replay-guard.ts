// Single-use credentials: a workstation credential's jti is remembered until
// the credential could no longer be accepted anyway, so a copy captured in
// transit (a proxy log, a crash dump) cannot be replayed. Remembered in Redis
// when the API runs as several instances; while Redis is unreachable each
// instance remembers in memory, as the rate limits do.
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { type LimiterFactory, rejection } from "./throttle.ts";

/** The longest any credential needs remembering: its whole acceptance window. */
const LONGEST_WINDOW_SECONDS = 300;

export class ReplayGuard {
  private readonly seen: RateLimiterAbstract;

  constructor(limiter: LimiterFactory) {
    this.seen = limiter("credentialSeen", 1, LONGEST_WINDOW_SECONDS);
  }

  /** True the first time `id` is presented within `forSeconds`; false for every replay. */
  async firstUse(id: string, forSeconds: number): Promise<boolean> {
    const seconds = Math.min(Math.max(1, Math.ceil(forSeconds)), LONGEST_WINDOW_SECONDS);
    const result = await this.seen.consume(id, 1, { customDuration: seconds }).catch(rejection);
    return result.consumedPoints <= 1;
  }
}
