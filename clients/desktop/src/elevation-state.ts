// What the agent keeps on the workstation for elevated access, in the state
// file beside the simulated local account database: the admin accounts it
// created (the only ones it will ever manage), the Windows logon sessions and
// their processes (a model of LSA logon sessions), the technician sessions it
// runs, and the reports and restart it still owes.
import type { TenantKeyPin } from "@latchkey/passwords";
import { randomInt } from "node:crypto";
import { foldAccountName, lookalikeAccountNames, quoteAccountName } from "@latchkey/account-names";
import {
  ADMINISTRATORS_GROUP,
  findLocalAccount,
  hashLocalPassword,
  invalidAccountName,
  isReservedAccountName,
  type LocalAccountStore,
} from "./local-accounts.ts";

export type ElevationMode = "SIGN_IN" | "IN_SESSION";
export type EndReason = "EXPIRED" | "ENDED_BY_TECHNICIAN" | "ENDED_BY_ADMIN" | "REVOKED" | "ENDED_ON_WORKSTATION";

export interface LocalProcess {
  pid: number;
  image: string;
  startedAt: string;
}

/** A Windows logon session: an interactive user, or the elevated logon of an in-session elevation. */
export interface LogonSession {
  id: string;
  user: string;
  kind: "CONSOLE" | "REMOTE";
  /** For an in-session elevation: the user's logon session it was started in. */
  parentId: string | null;
  /** The technician session that opened it, if any. */
  technicianSessionId: string | null;
  processes: LocalProcess[];
  startedAt: string;
}

/** A technician session as the workstation runs it. */
export interface LocalTechnicianSession {
  id: string;
  account: string;
  mode: ElevationMode;
  minutes: number;
  technicianId: string;
  technicianName: string;
  logonSessionId: string;
  startedAt: string;
  /** By the workstation's own clock: start + minutes. Enforced even offline. */
  endsAt: string;
  restartGraceMinutes: number | null;
  /** The customer's rules for the rotation's password. */
  passwordLength: number;
  passwordCharacters: "ALPHANUMERIC" | "ALPHANUMERIC_SYMBOLS";
  endedAt: string | null;
  endReason: EndReason | null;
}

/** A report the API has not acknowledged yet; sent again at the next chance. */
export interface SessionReport {
  sessionId: string;
  event: "STARTED" | "ENDED";
  at: string;
  reason: EndReason | null;
  note: string | null;
}

export interface ElevationState {
  /** Admin accounts this agent created: it manages no other (the built-in Administrator only when the customer allows it). */
  createdAccounts: { name: string; createdAt: string }[];
  logonSessions: LogonSession[];
  sessions: LocalTechnicianSession[];
  pendingReports: SessionReport[];
  /** A restart owed after a session, and the restarts done. */
  restartDueAt: string | null;
  restarts: string[];
  nextPid: number;
  nextLogonId: number;
  /** Break-glass passwords (absent until the first one). */
  breakGlass?: BreakGlassState;
}

/** A new password of an account, sealed to the tenant's key and not yet accepted by the API. */
export interface PendingBreakGlass {
  account: string;
  rotation: number;
  /** The tenant key epoch it is sealed to; absent in state files from before epochs were sent. */
  epoch?: number | null;
  sealed: { suite: string; enc: string; ciphertext: string };
}

export interface BreakGlassState {
  /**
   * The tenant public key the agent seals to, as the statement it verified last
   * named it. A state from before statements has only this: the first statement
   * must then name this same key.
   */
  tenantPublicKey: string | null;
  tenantId: string | null;
  /** The tenant's signing key and the highest epoch seen: a statement signed otherwise, or older, is refused. */
  tenantKeyPin?: TenantKeyPin | null;
  /** Per account (lower case): the last rotation sealed. */
  rotations: Record<string, number>;
  /** Sealed boxes owed to the API (offline at the rotation): only the newest per account is kept. */
  pending: PendingBreakGlass[];
}

export function emptyElevationState(): ElevationState {
  return { createdAccounts: [], logonSessions: [], sessions: [], pendingReports: [], restartDueAt: null, restarts: [], nextPid: 1000, nextLogonId: 1 };
}

const LOWER = "abcdefghijkmnopqrstuvwxyz";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS = "23456789";
const SYMBOLS = "!#%+-=?@^_*.";

/**
 * A password drawn with the operating system's CSPRNG (randomInt), to the
 * customer's length and character set, with every class the set has, so
 * Windows' complexity rule is met. Never sent anywhere.
 */
export function generateAccountPassword(length: number, characters: "ALPHANUMERIC" | "ALPHANUMERIC_SYMBOLS"): string {
  const classes = characters === "ALPHANUMERIC" ? [LOWER, UPPER, DIGITS] : [LOWER, UPPER, DIGITS, SYMBOLS];
  const all = classes.join("");
  const size = Math.max(length, classes.length);
  const pick = (set: string) => set[randomInt(set.length)]!;
  const chars = [...classes.map(pick), ...Array.from({ length: size - classes.length }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}

export type ElevationAccountDecision = { outcome: "CREATED" | "UPDATED" | "REFUSED"; detail: string };

/**
 * Makes `name` a local administrator with `password`, only if this agent
 * created it (or creates it now), or it is the built-in Administrator and the
 * customer allowed it. An ordinary account that exists already is refused:
 * the agent never adds someone's account to Administrators or resets its password.
 */
export function ensureElevationAccount(
  store: LocalAccountStore,
  elevation: ElevationState,
  account: { name: string; builtInAdministrator: boolean; password: string },
  now: Date,
): { store: LocalAccountStore; elevation: ElevationState; decision: ElevationAccountDecision } {
  const refused = (detail: string) => ({ store, elevation, decision: { outcome: "REFUSED" as const, detail } });
  const at = now.toISOString();
  const existing = findLocalAccount(store, account.name);
  const builtIn = foldAccountName(account.name) === foldAccountName("Administrator");
  if (builtIn) {
    if (!account.builtInAdministrator) return refused("the built-in Administrator is managed only when the customer allows it");
    if (!existing) return refused("this workstation has no built-in Administrator");
  } else {
    const invalid = invalidAccountName(account.name);
    if (invalid) return refused(invalid);
    if (isReservedAccountName(account.name)) return refused(`${quoteAccountName(account.name)} is a reserved Windows account`);
  }
  const ours = elevation.createdAccounts.some((created) => foldAccountName(created.name) === foldAccountName(account.name));
  if (existing && !ours && !builtIn) {
    return refused(`local account "${existing.name}" was not created by Latchkey: it is not added to ${ADMINISTRATORS_GROUP} nor its password reset`);
  }
  const passwordHash = hashLocalPassword(account.password);
  if (existing) {
    const accounts = store.accounts.map((local) =>
      local === existing
        ? { ...local, groups: local.groups.includes(ADMINISTRATORS_GROUP) ? local.groups : [...local.groups, ADMINISTRATORS_GROUP], passwordHash, passwordSetAt: at }
        : local,
    );
    return { store: { ...store, accounts }, elevation, decision: { outcome: "UPDATED", detail: `set a new password on local administrator "${existing.name}"` } };
  }
  const lookalike = store.accounts.find((local) => lookalikeAccountNames(local.name, account.name));
  if (lookalike) return refused(`${quoteAccountName(account.name)} looks like local account ${quoteAccountName(lookalike.name)}`);
  const created = { name: account.name, fullName: "Latchkey technician access", groups: [ADMINISTRATORS_GROUP], passwordHash, passwordSetAt: at, createdAt: at, managedBy: "latchkey" as const };
  return {
    store: { ...store, accounts: [...store.accounts, created] },
    elevation: { ...elevation, createdAccounts: [...elevation.createdAccounts, { name: account.name, createdAt: at }] },
    decision: { outcome: "CREATED", detail: `created local administrator "${account.name}"` },
  };
}

/** Sets a fresh password on an account (the rotation after a session). */
export function setAccountPassword(store: LocalAccountStore, name: string, password: string, now: Date): LocalAccountStore {
  const existing = findLocalAccount(store, name);
  if (!existing) return store;
  const passwordHash = hashLocalPassword(password);
  return { ...store, accounts: store.accounts.map((local) => (local === existing ? { ...local, passwordHash, passwordSetAt: now.toISOString() } : local)) };
}

/** Opens a logon session with its first processes. */
export function openLogonSession(
  elevation: ElevationState,
  session: { user: string; kind: "CONSOLE" | "REMOTE"; parentId: string | null; technicianSessionId: string | null; images: string[] },
  now: Date,
): { elevation: ElevationState; logonSession: LogonSession } {
  const at = now.toISOString();
  const logonSession: LogonSession = {
    id: `logon-${elevation.nextLogonId}`,
    user: session.user,
    kind: session.kind,
    parentId: session.parentId,
    technicianSessionId: session.technicianSessionId,
    processes: session.images.map((image, index) => ({ pid: elevation.nextPid + index, image, startedAt: at })),
    startedAt: at,
  };
  return {
    elevation: { ...elevation, logonSessions: [...elevation.logonSessions, logonSession], nextPid: elevation.nextPid + session.images.length, nextLogonId: elevation.nextLogonId + 1 },
    logonSession,
  };
}

/** Starts a process in a logon session. */
export function startProcess(elevation: ElevationState, logonSessionId: string, image: string, now: Date): ElevationState {
  return {
    ...elevation,
    nextPid: elevation.nextPid + 1,
    logonSessions: elevation.logonSessions.map((session) =>
      session.id === logonSessionId ? { ...session, processes: [...session.processes, { pid: elevation.nextPid, image, startedAt: now.toISOString() }] } : session,
    ),
  };
}

/**
 * Ends a logon session: sign-in mode logs it off, in-session mode ends every
 * process of the elevated logon. Either way none of its processes survives.
 */
export function terminateLogonSession(elevation: ElevationState, logonSessionId: string): ElevationState {
  return { ...elevation, logonSessions: elevation.logonSessions.filter((session) => session.id !== logonSessionId) };
}
