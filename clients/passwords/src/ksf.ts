// The key-stretching profiles a password's OPAQUE record is registered with.
// The server names the profile in its answer to every start step; the client
// stretches the password with it. A record registered under one profile opens
// only under the same one.

export const KSF_PROFILES = {
  /** Argon2id, 64 MiB, 3 passes, 4 lanes: every real password. */
  v1: { "argon2id-custom": { memory: 65_536, iterations: 3, parallelism: 4 } },
  /** Argon2id at its cheapest: tests only, so a suite can run thousands of logins. */
  test: { "argon2id-custom": { memory: 8, iterations: 1, parallelism: 1 } },
} as const;

export type Ksf = keyof typeof KSF_PROFILES;

export const KSF_NAMES = Object.keys(KSF_PROFILES) as Ksf[];

export function isKsf(value: unknown): value is Ksf {
  return typeof value === "string" && Object.hasOwn(KSF_PROFILES, value);
}
