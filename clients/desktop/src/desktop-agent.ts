import type { KeyObject } from "node:crypto";
import { resolve } from "node:path";
import { AgentError } from "./agent-error.ts";
import { answerLogin, INCORRECT_LOGIN, startLogin, workstationKeyHash, type LoginStart } from "@latchkey/passwords";
import { checkAccountInstruction, openAccountInstruction, openFromSelf, openPhoneDelivery, sealForSelf, type AccountInstruction } from "./account-instruction.ts";
import {
  brandingCacheDir,
  readStateFile,
  writeStateFile,
  type AgentConfig,
  type AgentState,
  type AgentTenant,
  type DesktopLoginMethod,
  type EnrolledWorkstation,
  type PendingReport,
  type WorkstationStatus,
} from "./agent-state.ts";
import { syncBranding, type Branding, type BrandingKind, type CachedBranding } from "./branding.ts";
import { dataOrThrow, expectPayload, postGraphQL, webSocketClient, type GraphQLResponse } from "./graphql-transport.ts";
import {
  defaultLocalAccountStore,
  ensureLocalAccount,
  findLocalAccount,
  isLocalAdministrator,
  randomLocalPassword,
  verifyLocalPassword,
  type AccountOutcome,
  type LocalAccountStore,
} from "./local-accounts.ts";
import {
  CANCEL_CHALLENGE,
  CHALLENGE,
  CHALLENGE_UPDATED,
  DESKTOP_CONFIG,
  ENROLL_WORKSTATION,
  FINISH_DESKTOP_PASSWORD_LOGIN,
  START_DESKTOP_PASSWORD_LOGIN,
  REDEEM_DESKTOP_LOGIN,
  REPORT_ACCOUNT_RESULT,
  START_DESKTOP_LOGIN,
  WORKSTATION_LOGIN_EVENTS,
} from "./operations.ts";
import { mintWorkstationCredential } from "./workstation-credential.ts";
import { generateWorkstationKeys, keyAgreementPrivateKey, keyAgreementPublicKey, signingPrivateKey, type KeyFamily } from "./workstation-keys.ts";

export const DEFAULT_API_URL = "http://localhost:4000/graphql";

export type ChallengeStatus = "PENDING" | "SCANNED" | "APPROVED" | "DENIED" | "EXPIRED" | "CONSUMED";
const TERMINAL: readonly ChallengeStatus[] = ["APPROVED", "DENIED", "EXPIRED", "CONSUMED"];

/** The GraphQL `Workstation`, as the agent selects it. */
export interface WorkstationRecord {
  id: string;
  name: string;
  hostname: string;
  os: string;
  status: WorkstationStatus;
  createdAt: string;
  approvedAt: string | null;
  canReceiveCredentials: boolean;
}

/** The GraphQL `LoginEvent`, as the agent selects it. */
export interface LoginEventRecord {
  id: string;
  /** The directory user's username; null for a login that matched no user. */
  username: string | null;
  workstationId: string | null;
  workstationName: string | null;
  method: "PASSWORD" | "QR";
  outcome: "SUCCEEDED" | "FAILED";
  reason: string | null;
  accountOutcome: AccountOutcome | null;
  accountDetail: string | null;
  ip: string | null;
  createdAt: string;
}

export interface DesktopConfigResult {
  workstation: WorkstationRecord;
  tenant: AgentTenant;
  desktopLoginEnabled: boolean;
  method: DesktopLoginMethod;
  passwordFallback: boolean;
  branding: CachedBranding;
  /** The images fetched this time; the others were already cached. */
  downloaded: BrandingKind[];
}

/** What a login produced on this workstation. */
export interface LoginResult {
  method: "PASSWORD" | "QR";
  /** The instruction as received, without its sealed password. */
  instruction: Omit<AccountInstruction, "password">;
  outcome: AccountOutcome;
  detail: string;
  /** The unsealed password. Kept in memory only; the CLI prints it only with --show-password. */
  password: string;
  /** The login event with the reported outcome; null when the report could not be sent yet (it is retried). */
  loginEvent: LoginEventRecord | null;
}

/** A login Windows checked against its own local account, with the directory out of reach. */
export interface LocalLoginResult {
  method: "LOCAL";
  /** The local account, as Windows names it. */
  username: string;
  /** A member of the local Administrators group (a technician's break-glass account, say). */
  administrator: boolean;
}

/**
 * What the first step of a password login answers when the directory cannot be
 * asked, rather than refusing the user: the API is out of reach or answers no
 * GraphQL, or it no longer knows this workstation's credential (removed,
 * enrollment revoked, or a clock too far off to sign one). Only that step: once
 * the directory has the attempt, its answer stands.
 */
const UNAVAILABLE_AT_START = new Set(["NETWORK_ERROR", "BAD_RESPONSE", "UNAUTHENTICATED"]);

export interface QrLoginHooks {
  /** The QR code to show, once the challenge exists. */
  onChallenge?(challenge: { id: string; qrPayload: string; expiresAt: string }): void | Promise<void>;
  /** Each change of the challenge's status (SCANNED, APPROVED, ...). */
  onStatus?(status: ChallengeStatus): void;
  signal?: AbortSignal;
}

export interface CreateDesktopAgentOptions {
  apiUrl?: string;
  keys?: KeyFamily;
  /** Where to keep the state; when set, every change is saved there at once. */
  statePath?: string;
}

type StartedChallenge = {
  challenge: { id: string; status: ChallengeStatus; expiresAt: string };
  qrPayload: string;
  watchToken: string;
  redeemSecret: string;
};

// The API expires a challenge on its own clock; this much past the expiry the
// agent stops waiting even if it heard nothing.
const EXPIRY_SLACK_MS = 15_000;
const RECONNECT_DELAY_MS = 1_000;

/**
 * The reference desktop agent: the workstation's key pairs, its enrollment, and
 * the login screen's logic. It authenticates every request with a credential
 * it mints itself, applies account instructions to the (simulated) local
 * account database, and reports what it did.
 */
export class DesktopAgent {
  private constructor(
    private state: AgentState,
    private readonly signingKey: KeyObject,
    /** The endpoint used for requests; may differ from the state's when given explicitly (e.g. `--api`). */
    readonly apiUrl: string,
    private statePath: string | null,
  ) {}

  /** A new agent with fresh keys, not yet enrolled, and a fresh local account database. */
  static async create(options: CreateDesktopAgentOptions = {}): Promise<DesktopAgent> {
    const apiUrl = options.apiUrl ?? DEFAULT_API_URL;
    const keys = generateWorkstationKeys(options.keys ?? "ed25519");
    const state: AgentState = {
      version: 1,
      apiUrl,
      ...keys,
      workstation: null,
      tenant: null,
      config: null,
      branding: null,
      localAccounts: defaultLocalAccountStore(),
      pendingReports: [],
      passwordServerPublicKey: null,
      agentPasswords: [],
    };
    return DesktopAgent.fromState(state, { apiUrl, statePath: options.statePath });
  }

  /** Loads a state file; `apiUrl` overrides the endpoint it names. Later changes are saved back to the same file. */
  static async load(statePath: string, options: { apiUrl?: string } = {}): Promise<DesktopAgent> {
    return DesktopAgent.fromState(await readStateFile(statePath), { ...options, statePath });
  }

  static async fromState(state: AgentState, options: { apiUrl?: string; statePath?: string | undefined } = {}): Promise<DesktopAgent> {
    return new DesktopAgent(structuredClone(state), signingPrivateKey(state.signingKey), options.apiUrl ?? state.apiUrl, options.statePath ?? null);
  }

  /** Writes the state file (mode 0600) and remembers the path for later changes. */
  async save(statePath: string | null = this.statePath): Promise<void> {
    if (!statePath) throw new AgentError("NO_STATE_PATH", "no state file path to save the agent to");
    await writeStateFile(statePath, this.state);
    this.statePath = statePath;
  }

  /** A copy of everything the state file holds. */
  toState(): AgentState {
    return structuredClone(this.state);
  }

  get workstation(): EnrolledWorkstation | null {
    return this.state.workstation;
  }
  get tenant(): AgentTenant | null {
    return this.state.tenant;
  }
  get config(): AgentConfig | null {
    return this.state.config;
  }
  get localAccounts(): LocalAccountStore {
    return structuredClone(this.state.localAccounts);
  }
  get isEnrolled(): boolean {
    return this.state.workstation !== null;
  }
  /** The SPKI DER (base64) public keys the API knows this workstation by. */
  get publicKeys(): { signing: string; keyAgreement: string } {
    return { signing: this.state.signingKey.publicKey, keyAgreement: this.state.keyAgreementKey.publicKey };
  }

  /** A fresh workstation credential (JWT, 120 s). */
  async credential(): Promise<string> {
    const { id } = this.requireEnrollment();
    return mintWorkstationCredential({ algorithm: this.state.signingKey.algorithm, privateKey: this.signingKey }, id);
  }

  /**
   * Enrolls this workstation with an install token, sending both public keys.
   * The workstation is PENDING until an admin approves it, unless the token
   * auto-approves. No credential comes back: the agent mints its own.
   */
  /** `tenant`: the organisation this agent was set up for; the API refuses a token of any other. */
  async enroll(input: { installToken: string; hostname: string; os: string; tenant?: string | null }): Promise<WorkstationRecord> {
    if (this.isEnrolled) {
      throw new AgentError("ALREADY_ENROLLED", `this agent is already enrolled as workstation ${this.state.workstation!.id}; use a new state file to enroll again`);
    }
    const data = await postGraphQL(
      this.apiUrl,
      ENROLL_WORKSTATION,
      {
        installToken: input.installToken.trim(),
        hostname: input.hostname,
        os: input.os,
        publicKey: this.state.signingKey.publicKey,
        keyAgreementKey: this.state.keyAgreementKey.publicKey,
        tenant: input.tenant ?? null,
      },
      null,
    );
    const { workstation, passwordServerPublicKey } = expectPayload<{ workstation: WorkstationRecord; passwordServerPublicKey: string }>(
      data.enrollWorkstation,
      "WorkstationPayload",
      "enrollWorkstation",
    );
    this.state = {
      ...this.state,
      apiUrl: this.apiUrl,
      // Pinned now: every later password login must be answered with this key.
      passwordServerPublicKey,
      workstation: {
        id: workstation.id,
        name: workstation.name,
        hostname: workstation.hostname,
        os: workstation.os,
        status: workstation.status,
        enrolledAt: workstation.createdAt,
      },
    };
    await this.persist();
    return workstation;
  }

  /**
   * Fetches the login screen's settings and branding; downloads branding
   * images only when their hash changed.
   */
  async fetchConfig(): Promise<DesktopConfigResult> {
    const data = await this.send(DESKTOP_CONFIG, {});
    const config = data.desktopConfig as Omit<DesktopConfigResult, "branding" | "downloaded"> & { branding: Branding };
    const cacheDir = brandingCacheDir(this.statePath ?? resolve("desktop-agent.json"));
    const { branding, downloaded } = await syncBranding(this.apiUrl, config.branding, cacheDir);
    this.state = {
      ...this.state,
      workstation: { ...this.requireEnrollment(), name: config.workstation.name, status: config.workstation.status },
      tenant: config.tenant,
      config: {
        desktopLoginEnabled: config.desktopLoginEnabled,
        method: config.method,
        passwordFallback: config.passwordFallback,
        fetchedAt: new Date().toISOString(),
      },
      branding,
    };
    await this.persist();
    return { ...config, branding, downloaded };
  }

  /** The server's OPAQUE static public key this agent pinned, or null before its first password login. */
  get passwordServerPublicKey(): string | null {
    return this.state.passwordServerPublicKey;
  }

  /**
   * The login screen with a typed directory username and password, by OPAQUE:
   * the password never leaves this workstation. The server must answer with
   * the static key pinned at enrollment. On success the local account gets the
   * password that was typed.
   */
  async passwordLogin(username: string, password: string): Promise<LoginResult> {
    this.requireEnrollment();
    await this.flushReports();
    const { state, request } = await startLogin(password);
    let started: LoginStart;
    try {
      const data = await this.send(START_DESKTOP_PASSWORD_LOGIN, { username, request });
      started = expectPayload<LoginStart>(data.startDesktopPasswordLogin, "StartPasswordLogInPayload", "startDesktopPasswordLogin");
    } catch (error) {
      if (error instanceof AgentError && UNAVAILABLE_AT_START.has(error.code)) {
        throw new AgentError("DIRECTORY_UNAVAILABLE", error.message, { cause: error });
      }
      throw error;
    }
    let proof;
    try {
      proof = await answerLogin(started, state, password, this.state.passwordServerPublicKey);
    } catch (error) {
      if (error === INCORRECT_LOGIN) throw new AgentError("INVALID_CREDENTIALS", "wrong username or password");
      throw new AgentError("SERVER_KEY_MISMATCH", error instanceof Error ? error.message : String(error));
    }
    const finished = await this.send(FINISH_DESKTOP_PASSWORD_LOGIN, { loginId: proof.loginId, finish: proof.finish });
    const { instruction } = expectPayload<{ instruction: AccountInstruction }>(finished.finishDesktopPasswordLogin, "DesktopLoginPayload", "finishDesktopPasswordLogin");
    if (!this.state.passwordServerPublicKey) {
      this.state = { ...this.state, passwordServerPublicKey: proof.serverPublicKey };
      await this.persist();
    }
    return this.applyInstruction(instruction, "PASSWORD", new Date(), password);
  }

  /**
   * Windows' own sign-in, for when the directory cannot be asked
   * (DIRECTORY_UNAVAILABLE from passwordLogin): the typed password is checked
   * against the local account of that name, as Windows checks it without us,
   * and nothing is created or changed. So nobody whose local account has a
   * password they know is locked out, and a technician gets in with an admin
   * account's break-glass password. Windows' own lockout policy limits guesses.
   */
  localPasswordLogin(username: string, password: string): LocalLoginResult {
    const account = findLocalAccount(this.state.localAccounts, username);
    if (!account || !verifyLocalPassword(account, password)) {
      throw new AgentError("INVALID_CREDENTIALS", "the user name or password is incorrect (checked against this workstation's local accounts)");
    }
    return { method: "LOCAL", username: account.name, administrator: isLocalAdministrator(account) };
  }

  /** Whether a failed directory login should fall back to Windows' own sign-in: the directory could not be asked. */
  static directoryUnavailable(error: unknown): boolean {
    return error instanceof AgentError && error.code === "DIRECTORY_UNAVAILABLE";
  }

  /**
   * The passwordless login screen: starts a DESKTOP_LOGIN challenge, hands its
   * QR payload to `onChallenge` to show, waits on the subscription for the
   * phone's decision, and on approval redeems it for the account instruction.
   */
  async qrLogin(hooks: QrLoginHooks = {}): Promise<LoginResult> {
    this.requireEnrollment();
    await this.flushReports();
    const data = await this.send(START_DESKTOP_LOGIN, {});
    const started = expectPayload<StartedChallenge>(data.startLoginChallenge, "StartLoginChallengePayload", "startLoginChallenge");
    // The code shown carries this workstation's own key's hash: the approving phone seals the user's password to no other key.
    const qrPayload = `${started.qrPayload}.${await workstationKeyHash(this.state.keyAgreementKey.publicKey)}`;
    await hooks.onChallenge?.({ id: started.challenge.id, qrPayload, expiresAt: started.challenge.expiresAt });
    let status: ChallengeStatus;
    try {
      status = await this.waitForDecision(started, hooks);
    } catch (error) {
      if (!hooks.signal?.aborted) throw error;
      // The login screen moved on (the user chose the password, the agent stops): the code
      // is withdrawn, so a photo of it taken meanwhile cannot sign anyone in here.
      await this.send(CANCEL_CHALLENGE, { id: started.challenge.id, redeemSecret: started.redeemSecret }).catch(() => undefined);
      throw new AgentError("LOGIN_CANCELLED", "the QR login was cancelled on this workstation");
    }
    if (status === "DENIED") throw new AgentError("LOGIN_DENIED", "the login was denied on the phone");
    if (status === "EXPIRED") throw new AgentError("CHALLENGE_EXPIRED", "the QR code expired before anyone approved it");
    if (status === "CONSUMED") throw new AgentError("CHALLENGE_CONSUMED", "this approval was already used");
    const redeemed = await this.send(REDEEM_DESKTOP_LOGIN, { challengeId: started.challenge.id, redeemSecret: started.redeemSecret });
    const { instruction } = expectPayload<{ instruction: AccountInstruction }>(redeemed.redeemDesktopLogin, "DesktopLoginPayload", "redeemDesktopLogin");
    return this.applyInstruction(instruction, "QR", new Date(), null, started.challenge.id);
  }

  /** This workstation's recent login attempts, newest first. */
  async events(first = 20): Promise<LoginEventRecord[]> {
    this.requireEnrollment();
    await this.flushReports();
    const data = await this.send(WORKSTATION_LOGIN_EVENTS, { first });
    const { loginEvents } = data.agentWorkstation as { loginEvents: { edges: { node: LoginEventRecord }[] } };
    return loginEvents.edges.map((edge) => edge.node);
  }

  /**
   * Checks and opens an account instruction, applies it to the local account
   * database, saves that, and reports the outcome. An instruction that does not
   * check out (expired, not openable, unknown action) is reported as REFUSED
   * and thrown; one for another workstation is thrown without a report, since
   * its attempt is not this workstation's to report on.
   */
  async applyInstruction(
    instruction: AccountInstruction,
    method: "PASSWORD" | "QR",
    now: Date = new Date(),
    typed: string | null = null,
    /** The QR login this workstation started: a password the user's phone sealed must be for it. */
    challengeId: string | null = null,
  ): Promise<LoginResult> {
    const { id } = this.requireEnrollment();
    let password: string;
    try {
      password = await this.instructionPassword(instruction, id, now, typed, challengeId);
    } catch (error) {
      if (error instanceof AgentError && error.code !== "WRONG_WORKSTATION" && isAttemptId(instruction.attemptId)) {
        await this.report({ attemptId: instruction.attemptId, outcome: "REFUSED", detail: `${error.code}: ${error.message}` }).catch(() => undefined);
      }
      throw error;
    }
    const { store, decision } = ensureLocalAccount(this.state.localAccounts, { username: instruction.username, fullName: instruction.fullName, password }, now);
    // What was done locally is saved before the report, so a lost report never loses it.
    this.state = { ...this.state, localAccounts: store };
    await this.persist();
    const loginEvent = await this.report({ attemptId: instruction.attemptId, outcome: decision.outcome, detail: decision.detail });
    const { password: _sealed, ...received } = instruction;
    return { method, instruction: received, outcome: decision.outcome, detail: decision.detail, password, loginEvent };
  }

  /**
   * The password the instruction asks for: opened from its sealed box (sealed
   * by the API, or by the user's phone), what was typed here, or this agent's
   * own local password for the user (made and kept sealed to its own key at the
   * user's first QR login here).
   */
  private async instructionPassword(instruction: AccountInstruction, workstationId: string, now: Date, typed: string | null, challengeId: string | null): Promise<string> {
    checkAccountInstruction(instruction, workstationId, now);
    const keyAgreement = this.state.keyAgreementKey;
    switch (instruction.passwordSource) {
      case "PHONE":
        return openPhoneDelivery(instruction, { workstationId, challengeId, algorithm: keyAgreement.algorithm, privateKey: await keyAgreementPrivateKey(keyAgreement) }, now);
      case "TYPED":
        if (typed === null) throw new AgentError("BAD_INSTRUCTION", "the account instruction asks for a typed password, but none was typed here");
        return typed;
      case "AGENT": {
        const own = { algorithm: keyAgreement.algorithm, privateKey: await keyAgreementPrivateKey(keyAgreement) };
        const kept = this.state.agentPasswords.find((entry) => entry.username === instruction.username);
        if (kept) return openFromSelf(own, instruction.username, kept.sealed);
        const password = randomLocalPassword();
        const sealed = await sealForSelf({ algorithm: keyAgreement.algorithm, publicKey: await keyAgreementPublicKey(keyAgreement) }, instruction.username, password);
        this.state = { ...this.state, agentPasswords: [...this.state.agentPasswords, { username: instruction.username, sealed }] };
        await this.persist();
        return password;
      }
      default:
        return openAccountInstruction(instruction, { workstationId, algorithm: keyAgreement.algorithm, privateKey: await keyAgreementPrivateKey(keyAgreement) }, now);
    }
  }

  /** Sends account outcomes a previous run could not deliver. */
  async flushReports(): Promise<void> {
    for (const pending of [...this.state.pendingReports]) {
      try {
        await this.sendReport(pending);
      } catch (error) {
        if (error instanceof AgentError && error.code === "NETWORK_ERROR") return;
        // Anything else (already reported, attempt gone) will never succeed: drop it.
      }
      this.state = { ...this.state, pendingReports: this.state.pendingReports.filter((report) => report.attemptId !== pending.attemptId) };
      await this.persist();
    }
  }

  /** Reports an outcome; when the API cannot be reached, keeps it to send later and returns null. */
  private async report(report: PendingReport): Promise<LoginEventRecord | null> {
    try {
      return await this.sendReport(report);
    } catch (error) {
      if (!(error instanceof AgentError) || error.code !== "NETWORK_ERROR") throw error;
      this.state = { ...this.state, pendingReports: [...this.state.pendingReports, report] };
      await this.persist();
      return null;
    }
  }

  private async sendReport(report: PendingReport): Promise<LoginEventRecord> {
    const data = await this.send(REPORT_ACCOUNT_RESULT, { attemptId: report.attemptId, outcome: report.outcome, detail: report.detail.slice(0, 500) });
    return expectPayload<{ loginEvent: LoginEventRecord }>(data.reportAccountResult, "ReportAccountResultPayload", "reportAccountResult").loginEvent;
  }

  /**
   * Waits for the phone's decision on the subscription. The subscription is a
   * hint and connections drop: after any interruption the agent re-reads the
   * challenge over HTTP and subscribes again, until a terminal state or a
   * little past the expiry. Shared by QR login and elevation; `what` names the
   * challenge in the error when it is gone.
   */
  async waitForDecision(
    started: { challenge: { id: string; expiresAt: string; status: ChallengeStatus }; watchToken: string },
    hooks: Pick<QrLoginHooks, "onStatus" | "signal">,
    what = "the login challenge",
  ): Promise<ChallengeStatus> {
    const { id } = started.challenge;
    const variables = { id, watchToken: started.watchToken };
    const deadline = Date.parse(started.challenge.expiresAt) + EXPIRY_SLACK_MS;
    let last = started.challenge.status;
    const saw = (status: ChallengeStatus) => {
      if (status !== last) hooks.onStatus?.(status);
      last = status;
    };
    for (;;) {
      hooks.signal?.throwIfAborted();
      const client = webSocketClient(this.apiUrl, () => this.credential());
      const giveUp = () => void client.dispose();
      const timer = setTimeout(giveUp, Math.max(0, deadline - Date.now()));
      hooks.signal?.addEventListener("abort", giveUp, { once: true });
      try {
        for await (const result of client.iterate<{ challengeUpdated: { status: ChallengeStatus } }>({ query: CHALLENGE_UPDATED, variables })) {
          const data = dataOrThrow(result as GraphQLResponse, "challengeUpdated") as { challengeUpdated: { status: ChallengeStatus } };
          saw(data.challengeUpdated.status);
          if (TERMINAL.includes(last)) return last;
        }
      } catch (error) {
        if (error instanceof AgentError) throw error;
        // The server refused the subscription itself (a list of GraphQL errors), rather than the connection dropping.
        if (Array.isArray(error) && error.length > 0) dataOrThrow({ errors: error }, "challengeUpdated");
      } finally {
        clearTimeout(timer);
        hooks.signal?.removeEventListener("abort", giveUp);
        await client.dispose();
      }
      hooks.signal?.throwIfAborted();
      const current = (await this.send(CHALLENGE, variables)).challenge as { status: ChallengeStatus } | null;
      if (!current) throw new AgentError("NOT_FOUND", `${what} is gone`);
      saw(current.status);
      if (TERMINAL.includes(last)) return last;
      if (Date.now() >= deadline) return "EXPIRED";
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
    }
  }

  /**
   * Re-reads the state file (another command may have changed it), applies
   * `change` and saves: how elevated access updates what it keeps.
   */
  async updateState(change: (state: AgentState) => AgentState): Promise<AgentState> {
    if (this.statePath) this.state = await readStateFile(this.statePath);
    this.state = change(structuredClone(this.state));
    await this.persist();
    return structuredClone(this.state);
  }

  /** The enrolled workstation, or NOT_ENROLLED. */
  enrolledWorkstation(): EnrolledWorkstation {
    return this.requireEnrollment();
  }

  private requireEnrollment(): EnrolledWorkstation {
    if (!this.state.workstation) {
      throw new AgentError("NOT_ENROLLED", "this agent is not enrolled; run `desktop-agent enroll --token <install token>` first");
    }
    return this.state.workstation;
  }

  private async send(query: string, variables: Record<string, unknown>) {
    return postGraphQL(this.apiUrl, query, variables, await this.credential());
  }

  private async persist(): Promise<void> {
    if (this.statePath) await writeStateFile(this.statePath, this.state);
  }
}

function isAttemptId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 100;
}
