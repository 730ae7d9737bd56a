import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { AgentError } from "./agent-error.ts";
import type { CachedBranding } from "./branding.ts";
import type { ElevationState } from "./elevation-state.ts";
import { DEFAULT_PASSWORD_POLICY, type AccountOutcome, type LocalAccountStore } from "./local-accounts.ts";
import type { KeyAgreementAlgorithm, SigningAlgorithm, StoredKeyPair } from "./workstation-keys.ts";

export type WorkstationStatus = "PENDING" | "APPROVED";
export type DesktopLoginMethod = "PASSWORD" | "PASSWORDLESS";

/** The workstation as the API enrolled it. */
export interface EnrolledWorkstation {
  id: string;
  name: string;
  hostname: string;
  os: string;
  status: WorkstationStatus;
  enrolledAt: string;
}

export interface AgentTenant {
  id: string;
  slug: string;
  displayName: string;
}

/** The login screen's settings, as last fetched with `desktopConfig`. */
export interface AgentConfig {
  desktopLoginEnabled: boolean;
  method: DesktopLoginMethod;
  passwordFallback: boolean;
  fetchedAt: string;
}

/** An account outcome the API has not acknowledged yet; sent again before the next request. */
export interface PendingReport {
  attemptId: string;
  outcome: AccountOutcome;
  detail: string;
}

/** A local password the agent made for a user without a directory password, sealed to its own key-agreement key. */
export interface AgentPassword {
  username: string;
  sealed: { suite: string; enc: string; ciphertext: string };
}

/** What the agent remembers between runs: everything in the JSON state file. */
export interface AgentState {
  version: 1;
  /** The GraphQL endpoint the workstation enrolled with. */
  apiUrl: string;
  signingKey: StoredKeyPair<SigningAlgorithm>;
  keyAgreementKey: StoredKeyPair<KeyAgreementAlgorithm>;
  /** Null until enrolled. */
  workstation: EnrolledWorkstation | null;
  /** Null until the first `desktopConfig`. */
  tenant: AgentTenant | null;
  config: AgentConfig | null;
  branding: CachedBranding | null;
  /** The simulated Windows local account database. */
  localAccounts: LocalAccountStore;
  pendingReports: PendingReport[];
  /** Elevated access: accounts created, logon sessions, technician sessions (absent until the first elevation). */
  elevation?: ElevationState;
  /**
   * The server's OPAQUE static public key, pinned at enrollment: a password
   * login answered with another key is refused. Null in a state enrolled
   * before pinning; pinned then at the first password login.
   */
  passwordServerPublicKey: string | null;
  /** Passwordless users' local passwords, made here at their first QR login on this workstation. */
  agentPasswords: AgentPassword[];
}

/**
 * Writes the state file readable by its owner only (0600): it holds both
 * private keys. Written to a temporary file and renamed over the old one, so a
 * crash mid-write never leaves a half-written file that would lose the keys
 * the API knows this workstation by.
 */
export async function writeStateFile(path: string, state: AgentState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    // The mode given at creation is reduced by the umask, never widened; set it
    // explicitly anyway so the file is exactly 0600 whatever the umask.
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Reads and checks a state file; a missing file gives code `NO_STATE`, a damaged one `INVALID_STATE`. */
export async function readStateFile(path: string): Promise<AgentState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new AgentError("NO_STATE", `no desktop agent state at ${path}; run \`desktop-agent enroll --token <install token>\` first`);
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AgentError("INVALID_STATE", `${path} is not valid JSON`);
  }
  return checkState(parsed, path);
}

function checkState(value: unknown, path: string): AgentState {
  const invalid = (why: string) => new AgentError("INVALID_STATE", `${path} is not a desktop agent state file: ${why}`);
  if (typeof value !== "object" || value === null) throw invalid("not a JSON object");
  const state = value as Record<string, unknown>;
  if (state.version !== 1) throw invalid(`unsupported version ${JSON.stringify(state.version)}`);
  if (typeof state.apiUrl !== "string" || state.apiUrl === "") throw invalid("apiUrl is missing");
  const signingKey = keyPair(state.signingKey, ["ED25519", "P256"], "signingKey", invalid);
  const keyAgreementKey = keyPair(state.keyAgreementKey, ["X25519", "P256"], "keyAgreementKey", invalid);
  const workstation = state.workstation as Record<string, unknown> | null | undefined;
  if (workstation != null && (typeof workstation !== "object" || typeof workstation.id !== "string")) throw invalid("workstation is malformed");
  const localAccounts = state.localAccounts as LocalAccountStore | undefined;
  if (!localAccounts || typeof localAccounts !== "object" || !Array.isArray(localAccounts.accounts)) throw invalid("localAccounts is malformed");
  for (const account of localAccounts.accounts) {
    if (typeof account?.name !== "string" || !Array.isArray(account.groups)) throw invalid("a local account is malformed");
  }
  return {
    version: 1,
    apiUrl: state.apiUrl,
    signingKey,
    keyAgreementKey,
    workstation: (workstation as unknown as EnrolledWorkstation | null | undefined) ?? null,
    tenant: (state.tenant as AgentTenant | null | undefined) ?? null,
    config: (state.config as AgentConfig | null | undefined) ?? null,
    branding: (state.branding as CachedBranding | null | undefined) ?? null,
    localAccounts: { policy: { ...DEFAULT_PASSWORD_POLICY, ...localAccounts.policy }, accounts: localAccounts.accounts },
    pendingReports: Array.isArray(state.pendingReports) ? (state.pendingReports as PendingReport[]) : [],
    ...(state.elevation && typeof state.elevation === "object" ? { elevation: state.elevation as ElevationState } : {}),
    passwordServerPublicKey: typeof state.passwordServerPublicKey === "string" ? state.passwordServerPublicKey : null,
    agentPasswords: Array.isArray(state.agentPasswords) ? (state.agentPasswords as AgentPassword[]) : [],
  };
}

function keyPair<Algorithm extends string>(
  value: unknown,
  algorithms: Algorithm[],
  name: string,
  invalid: (why: string) => AgentError,
): StoredKeyPair<Algorithm> {
  const pair = value as Record<string, unknown> | null | undefined;
  if (!pair || typeof pair !== "object") throw invalid(`${name} is missing`);
  if (!algorithms.includes(pair.algorithm as Algorithm)) throw invalid(`${name} has unknown algorithm ${JSON.stringify(pair.algorithm)}`);
  if (typeof pair.publicKey !== "string" || typeof pair.privateKey !== "string") throw invalid(`${name} is missing its keys`);
  return { algorithm: pair.algorithm as Algorithm, publicKey: pair.publicKey, privateKey: pair.privateKey };
}

/** Where branding images are cached: a folder next to the state file, named after it. */
export function brandingCacheDir(statePath: string): string {
  return join(dirname(statePath), `${basename(statePath).replace(/\.json$/i, "")}-branding`);
}
