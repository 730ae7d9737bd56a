import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as english from "@zxcvbn-ts/language-en";
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

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

const strength = new ZxcvbnFactory({
  translations: english.translations,
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
});

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

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, context: string[]): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters`;
  const result = strength.check(password, context.filter(Boolean));
  if (result.score < 3) {
    return result.feedback.warning
      ? `Password is too easy to guess: ${result.feedback.warning}`
      : "Password is too easy to guess; use a longer passphrase";
  }
  return null;
}
