// Who may try a password, decided before it is checked, from the client's own
// history (OWASP's device-cookie scheme), so that nobody can lock someone else
// out by failing on purpose:
//
// - A browser holding a valid device cookie for the account (issued at its
//   last successful sign-in) is a known client: only its own failures count
//   against it, and it is never refused because of anyone else's.
// - A workstation is known for an account until it fails for it: a victim's
//   own workstation keeps working while an attacker's workstations are slowed.
// - Everything else is an unknown client: backed off per (account, address),
//   and all unknown clients of one account share one small budget; spent, the
//   account is locked for unknown clients only (admins see it and can unlock).
//   The address alone is the last resort: its ceiling never applies to known clients.
//
// The QR sign-in is not a password attempt and is never refused here: the
// phone is a second factor. Accounts are keyed by user id, or for an unknown
// login by its tenant and normalised login, so unknown accounts are counted,
// refused and answered exactly like known ones.
import type { RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { AccountLockedError, RateLimitedError } from "../errors.ts";
import { type LimiterFactory, rejection } from "./throttle.ts";

export type SignInClient =
  /** A browser whose device cookie is valid for this account. */
  | { kind: "device"; id: string }
  /** A desktop agent, authenticated by its workstation credential. */
  | { kind: "workstation"; id: string }
  /** Anything else: known only by its address. */
  | { kind: "address"; ip: string };

export const SIGN_IN_BUDGETS = {
  /** Failures per (account, client) before each further one waits 2, 4, 8 … s. */
  freeFailures: 5,
  maxBackoffSeconds: 15 * 60,
  /** Failures all unknown clients of one account may make in the window before it is locked for them. */
  unknownClientFailures: 10,
  lockSeconds: 15 * 60,
  /** Failures one known browser may make per hour before it is refused for that account. */
  deviceFailuresPerHour: 10,
  /** Failures one workstation may make per hour across all accounts (guessing many accounts). */
  workstationFailuresPerHour: 50,
  /** Failures one address may make per hour across all accounts, from unknown clients only. */
  addressFailuresPerHour: 300,
};

/** The account key for an unknown login: stable, tenant-qualified, never the typed text itself in logs. */
export function unknownAccount(tenant: string, loginKey: string) {
  return `unknown:${tenant}:${loginKey}`;
}

export class SignInAdmission {
  private readonly failures: RateLimiterAbstract;
  private readonly backoff: RateLimiterAbstract;
  private readonly unknownClients: RateLimiterAbstract;
  private readonly devices: RateLimiterAbstract;
  private readonly workstations: RateLimiterAbstract;
  private readonly addresses: RateLimiterAbstract;

  /** `scope` separates the portal's counters from the desktop's. */
  constructor(limiter: LimiterFactory, scope: string) {
    this.failures = limiter(`${scope}:clientFailures`, 1_000_000, 3600);
    this.backoff = limiter(`${scope}:backoff`, 1, 1);
    this.unknownClients = limiter(`${scope}:unknownClients`, SIGN_IN_BUDGETS.unknownClientFailures, SIGN_IN_BUDGETS.lockSeconds);
    this.devices = limiter(`${scope}:device`, SIGN_IN_BUDGETS.deviceFailuresPerHour, 3600);
    this.workstations = limiter(`${scope}:workstation`, SIGN_IN_BUDGETS.workstationFailuresPerHour, 3600);
    this.addresses = limiter(`${scope}:address`, SIGN_IN_BUDGETS.addressFailuresPerHour, 3600);
  }

  /**
   * Throws RateLimitedError or AccountLockedError when this client may not
   * try a password for this account now. Asks the same counters whether the
   * account exists or not.
   */
  async admit(account: string, client: SignInClient): Promise<void> {
    const pair = pairKey(account, client);
    if (client.kind === "device") {
      const used = await this.devices.get(pair);
      throwIfSpent(used, SIGN_IN_BUDGETS.deviceFailuresPerHour);
      return;
    }
    const [failures, backoff, ceiling] = await Promise.all([
      this.failures.get(pair),
      this.backoff.get(pair),
      client.kind === "workstation" ? this.workstations.get(client.id) : this.addresses.get(client.ip),
    ]);
    throwIfSpent(ceiling, client.kind === "workstation" ? SIGN_IN_BUDGETS.workstationFailuresPerHour : SIGN_IN_BUDGETS.addressFailuresPerHour);
    // block() marks the pair one point over its single point.
    throwIfSpent(backoff, 2);
    // A workstation without failures for this account is known to it.
    if (client.kind === "workstation" && (failures?.consumedPoints ?? 0) === 0) return;
    const lockedUntil = await this.lockedUntil(account);
    if (lockedUntil) throw new AccountLockedError(lockedUntil);
  }

  /**
   * Counts a wrong password. Returns when the account's lock for unknown
   * clients ends if this failure is the one that locked it, so the caller can
   * record that once.
   */
  async failed(account: string, client: SignInClient): Promise<{ locked: { since: Date; until: Date } | null }> {
    const pair = pairKey(account, client);
    if (client.kind === "device") {
      await this.devices.consume(pair).catch(rejection);
      return { locked: null };
    }
    const counted = await this.failures.consume(pair).catch(rejection);
    if (counted.consumedPoints >= SIGN_IN_BUDGETS.freeFailures) {
      const seconds = Math.min(2 ** (counted.consumedPoints - SIGN_IN_BUDGETS.freeFailures), SIGN_IN_BUDGETS.maxBackoffSeconds);
      await this.backoff.block(pair, seconds);
    }
    const [unknown] = await Promise.all([
      this.unknownClients.consume(account).catch(rejection),
      client.kind === "workstation"
        ? this.workstations.consume(client.id).catch(rejection)
        : this.addresses.consume(client.ip).catch(rejection),
    ]);
    if (unknown.consumedPoints !== SIGN_IN_BUDGETS.unknownClientFailures) return { locked: null };
    const now = Date.now();
    return { locked: { since: new Date(now), until: new Date(now + unknown.msBeforeNext) } };
  }

  /** The right password: this client starts afresh for this account. */
  async succeeded(account: string, client: SignInClient): Promise<void> {
    const pair = pairKey(account, client);
    if (client.kind === "device") {
      await this.devices.delete(pair);
      return;
    }
    await Promise.all([this.failures.delete(pair), this.backoff.delete(pair)]);
  }

  /**
   * A password login that proved the password: the failure its start counted
   * is given back (to the pair, the account's unknown clients and the client's
   * ceiling), and this client starts afresh for this account.
   */
  async refund(account: string, client: SignInClient): Promise<void> {
    const pair = pairKey(account, client);
    if (client.kind === "device") {
      await giveBack(this.devices, pair);
      return;
    }
    await Promise.all([
      this.failures.delete(pair),
      this.backoff.delete(pair),
      giveBack(this.unknownClients, account),
      client.kind === "workstation" ? giveBack(this.workstations, client.id) : giveBack(this.addresses, client.ip),
    ]);
  }

  /** When the account's lock for unknown clients ends, or null when it is not locked. */
  async lockedUntil(account: string): Promise<Date | null> {
    const spent = await this.unknownClients.get(account);
    if (!spent || spent.consumedPoints < SIGN_IN_BUDGETS.unknownClientFailures) return null;
    return new Date(Date.now() + spent.msBeforeNext);
  }

  /** An admin unlocks the account (or set its password): unknown clients may try again. */
  async unlock(account: string): Promise<void> {
    await this.unknownClients.delete(account);
  }
}

/** One point back, only when one is counted (a counter that expired meanwhile is left alone). */
async function giveBack(limiter: RateLimiterAbstract, key: string) {
  const current = await limiter.get(key);
  if (current && current.consumedPoints > 0) await limiter.reward(key, 1);
}

function pairKey(account: string, client: SignInClient) {
  const id = client.kind === "address" ? client.ip : client.id;
  return `${account}|${client.kind}:${id}`;
}

/** Throws RateLimitedError when `threshold` points are already used up in the window. */
function throwIfSpent(res: RateLimiterRes | null, threshold: number) {
  if (!res || res.consumedPoints < threshold) return;
  throw new RateLimitedError(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
}
