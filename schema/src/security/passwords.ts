import { hash, verify, type Algorithm } from "@node-rs/argon2";
import pLimit, { type LimitFunction } from "p-limit";

// OWASP's Argon2id recommendation, set explicitly so a library default change
// cannot weaken stored hashes: 19 MiB, 2 passes, 1 lane.
// `Algorithm` is a const enum, which isolated modules cannot read at run time.
const ARGON2ID: Algorithm.Argon2id = 2;

export const argon2Options = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblem } from "@latchkey/passwords";

/**
 * Hashing is capped at `concurrency` at a time: each hash holds 19 MiB and a
 * libuv thread, so a burst of logins queues here instead of exhausting memory
 * and starving the event loop.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;
  private dummyHash: Promise<string> | null = null;

  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  hash(password: string): Promise<string> {
    return this.limit(() => hash(password, argon2Options));
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    if (!passwordHash) {
      // Unknown users and users without a password cost the same time as a
      // wrong password, so response time does not reveal which accounts exist.
      this.dummyHash ??= this.hash("latchkey-timing-equaliser");
      await this.limit(async () => verify(await this.dummyHash!, password).catch(() => false));
      return false;
    }
    return this.limit(() => verify(passwordHash, password).catch(() => false));
  }
}
