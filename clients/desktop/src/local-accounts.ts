// A stand-in for the Windows local account database (SAM), kept in the state
// file: what the real credential provider would do with NetUserAdd /
// NetUserSetInfo, decided the same way. The agent creates the account, or
// takes over the existing one of that name by setting its password, but never
// touches a reserved or built-in account or a member of the local
// Administrators group: a directory login must not become a way to seize a
// local admin. Passwords are never stored in clear, only as a scrypt hash.
// Names follow @latchkey/account-names, the same rules the directory applies.
import { randomInt } from "node:crypto";
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import {
  RESERVED_ACCOUNT_NAMES,
  accountNameProblem,
  foldAccountName,
  lookalikeAccountNames,
  quoteAccountName,
  reservedAccountName,
  windowsAccountNameProblem,
} from "@latchkey/account-names";

export { RESERVED_ACCOUNT_NAMES };

export type AccountOutcome = "CREATED" | "TAKEN_OVER" | "REFUSED" | "PASSWORD_REJECTED";

export interface LocalAccount {
  /** The account name; Windows compares names upper-cased, one code point at a time. */
  name: string;
  fullName: string;
  /** Local groups, e.g. Users, Administrators. */
  groups: string[];
  /** scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>; null when no password was ever set. */
  passwordHash: string | null;
  passwordSetAt: string | null;
  createdAt: string;
  /** Set once Latchkey created or took over the account. */
  managedBy: "latchkey" | null;
}

/** The workstation's local password policy (Windows' "Minimum password length" and "meet complexity requirements"). */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  requireComplexity: boolean;
}

export interface LocalAccountStore {
  policy: PasswordPolicy;
  accounts: LocalAccount[];
}

export interface AccountDecision {
  outcome: AccountOutcome;
  /** A short explanation for the admin's login feed. */
  detail: string;
}

export const ADMINISTRATORS_GROUP = "Administrators";

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8, maxLength: 127, requireComplexity: false };

/** A fresh Windows install: the built-in accounts, all out of reach of directory logins. */
export function defaultLocalAccountStore(now: Date = new Date()): LocalAccountStore {
  const builtIn = (name: string, groups: string[]): LocalAccount => ({
    name,
    fullName: "",
    groups,
    passwordHash: null,
    passwordSetAt: null,
    createdAt: now.toISOString(),
    managedBy: null,
  });
  return {
    policy: { ...DEFAULT_PASSWORD_POLICY },
    accounts: [
      builtIn("Administrator", [ADMINISTRATORS_GROUP]),
      builtIn("Guest", ["Guests"]),
      builtIn("DefaultAccount", ["System Managed Accounts Group"]),
      builtIn("WDAGUtilityAccount", []),
    ],
  };
}

export function findLocalAccount(store: LocalAccountStore, name: string): LocalAccount | undefined {
  const key = foldAccountName(name);
  return store.accounts.find((account) => foldAccountName(account.name) === key);
}

/**
 * Whether `name` is an account or well-known principal a directory login must
 * never become, whatever the local database holds. The directory refuses these
 * usernames too; the agent checks again rather than trust that.
 */
export function isReservedAccountName(name: string): boolean {
  return reservedAccountName(name)?.lookalike === false;
}

export function isLocalAdministrator(account: LocalAccount): boolean {
  return account.groups.some((group) => group.toLowerCase() === ADMINISTRATORS_GROUP.toLowerCase());
}

/** Why Windows itself would not accept `name` as a local account name, or null. */
export function invalidAccountName(name: string): string | null {
  const problem = windowsAccountNameProblem(name);
  return problem && `${quoteAccountName(name)}: ${problem.message}`;
}

const LOWER = "abcdefghijkmnopqrstuvwxyz";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS = "23456789";
const SYMBOLS = "!#%+-=?@^_";

/**
 * A local password for a user who has no directory password: 24 characters
 * with every class Windows' complexity rule asks for. Made by the agent; the
 * server never knows it.
 */
export function randomLocalPassword(): string {
  const all = LOWER + UPPER + DIGITS + SYMBOLS;
  const pick = (set: string) => set[randomInt(set.length)]!;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS), ...Array.from({ length: 20 }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}

/** Why the local policy rejects `password` for `username`, or null. */
export function passwordPolicyViolation(policy: PasswordPolicy, username: string, password: string): string | null {
  const length = [...password].length;
  if (length < policy.minLength) return `the local password policy requires at least ${policy.minLength} characters`;
  if (length > policy.maxLength) return `the local password policy allows at most ${policy.maxLength} characters`;
  if (policy.requireComplexity) {
    // Windows' rule: three of the four character classes, and not the account name.
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(password)).length;
    if (classes < 3) return "the local password policy requires three of: lower case, upper case, digits, symbols";
    if (username.length > 2 && password.toLowerCase().includes(username.toLowerCase())) {
      return "the local password policy does not allow the account name in the password";
    }
  }
  return null;
}

/** What the agent will do for `username`, without doing it. */
export function decideAccount(store: LocalAccountStore, username: string, password: string): AccountDecision {
  const problem = accountNameProblem(username);
  if (problem) return { outcome: "REFUSED", detail: `${quoteAccountName(username)}: ${problem.message}` };
  const existing = findLocalAccount(store, username);
  if (existing && isLocalAdministrator(existing)) {
    return { outcome: "REFUSED", detail: `local account "${existing.name}" is a member of ${ADMINISTRATORS_GROUP}` };
  }
  // A new account must not pass for one already here (jsmіth beside jsmith).
  const lookalike = existing ? undefined : store.accounts.find((account) => lookalikeAccountNames(account.name, username));
  if (lookalike) return { outcome: "REFUSED", detail: `${quoteAccountName(username)} looks like local account ${quoteAccountName(lookalike.name)}` };
  const violation = passwordPolicyViolation(store.policy, username, password);
  if (violation) return { outcome: "PASSWORD_REJECTED", detail: violation };
  if (!existing) return { outcome: "CREATED", detail: `created local account "${username}"` };
  return {
    outcome: "TAKEN_OVER",
    detail: existing.managedBy === "latchkey" ? `updated the password of local account "${existing.name}"` : `took over local account "${existing.name}" and set its password`,
  };
}

/**
 * Decides and, for CREATED or TAKEN_OVER, applies: returns the new store (the
 * given one is not changed) and the decision.
 */
export function ensureLocalAccount(
  store: LocalAccountStore,
  account: { username: string; fullName: string; password: string },
  now: Date = new Date(),
): { store: LocalAccountStore; decision: AccountDecision } {
  const decision = decideAccount(store, account.username, account.password);
  if (decision.outcome !== "CREATED" && decision.outcome !== "TAKEN_OVER") return { store, decision };
  const passwordHash = hashLocalPassword(account.password);
  const at = now.toISOString();
  const accounts =
    decision.outcome === "CREATED"
      ? [
          ...store.accounts,
          { name: account.username, fullName: account.fullName, groups: ["Users"], passwordHash, passwordSetAt: at, createdAt: at, managedBy: "latchkey" as const },
        ]
      : store.accounts.map((existing) =>
          existing === findLocalAccount(store, account.username)
            ? { ...existing, fullName: account.fullName || existing.fullName, passwordHash, passwordSetAt: at, managedBy: "latchkey" as const }
            : existing,
        );
  return { store: { ...store, accounts }, decision };
}

/** Adds an account as Windows (or another administrator) would have made it, outside Latchkey. */
export function addLocalAccount(
  store: LocalAccountStore,
  account: { name: string; fullName?: string; groups?: string[]; password?: string },
  now: Date = new Date(),
): LocalAccountStore {
  const invalid = invalidAccountName(account.name);
  if (invalid) throw new Error(invalid);
  if (findLocalAccount(store, account.name)) throw new Error(`local account "${account.name}" already exists`);
  const at = now.toISOString();
  const created: LocalAccount = {
    name: account.name,
    fullName: account.fullName ?? "",
    groups: account.groups ?? ["Users"],
    passwordHash: account.password === undefined ? null : hashLocalPassword(account.password),
    passwordSetAt: account.password === undefined ? null : at,
    createdAt: at,
    managedBy: null,
  };
  return { ...store, accounts: [...store.accounts, created] };
}

// scrypt with N=2^14, r=8, p=1: a stand-in for the SAM's own hash, enough to
// show the password that was set without keeping it.
const SCRYPT = { N: 16_384, r: 8, p: 1 };

export function hashLocalPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize("NFC"), salt, 32, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64"), hash.toString("base64")].join("$");
}

/** Whether `password` is the one last set on `account`. */
export function verifyLocalPassword(account: Pick<LocalAccount, "passwordHash">, password: string): boolean {
  const parts = account.passwordHash?.split("$") ?? [];
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, "base64");
  const actual = scryptSync(password.normalize("NFC"), Buffer.from(parts[4]!, "base64"), expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}
