// Elevated access on the workstation: the agent asks for an ELEVATED_ACCESS
// challenge, shows its QR code, redeems the technician's approval for an
// instruction, verifies the phone's signature over everything it asked for
// (so an API that was taken over cannot elevate anyone by itself), creates or
// updates its own local admin account with a password it generates and never
// sends, signs the technician in, and at the end (expiry, a command, Ctrl-C)
// terminates the session, rotates the password and reports. Commands reach it
// through a subscription and, as a backstop, by asking at every (re)connect
// and every minute; expiry is enforced by the workstation's own clock, online
// or not.
import { createHash, createPublicKey, verify } from "node:crypto";
import { appendFile } from "node:fs/promises";
import type { Client } from "graphql-ws";
import { AgentError } from "./agent-error.ts";
import type { AgentState } from "./agent-state.ts";
import type { ChallengeStatus, DesktopAgent } from "./desktop-agent.ts";
import { sealBreakGlass, TenantKeyRefused, verifyTenantKey } from "@latchkey/passwords";
import {
  ACKNOWLEDGE_WORKSTATION_COMMAND,
  BREAK_GLASS_SEALING_KEY,
  UPLOAD_BREAK_GLASS_PASSWORD,
  PENDING_WORKSTATION_COMMANDS,
  REDEEM_ELEVATION,
  REPORT_TECHNICIAN_SESSION,
  START_ELEVATION,
  WORKSTATION_COMMAND_ADDED,
} from "./elevation-operations.ts";
import {
  emptyElevationState,
  ensureElevationAccount,
  generateAccountPassword,
  openLogonSession,
  setAccountPassword,
  terminateLogonSession,
  type BreakGlassState,
  type ElevationMode,
  type ElevationState,
  type EndReason,
  type LocalTechnicianSession,
  type SessionReport,
} from "./elevation-state.ts";
import { expectPayload, postGraphQL, webSocketClient } from "./graphql-transport.ts";
import { CANCEL_CHALLENGE } from "./operations.ts";

/** This agent's version, reported when it asks for elevation (a customer may require a minimum). */
export const AGENT_VERSION = "1.0.0";

export const ELEVATION_SIGNING_PURPOSE = "latchkey-elevation-v1";

const RECONNECT_DELAY_MS = 1_000;
/** The length of a rotated password when no session gave the customer's rule. */
const DEFAULT_PASSWORD_LENGTH = 24;
/** How often the agent asks for pending commands besides at every (re)connect. */
export const COMMAND_POLL_MS = 60_000;

export interface ElevationInstruction {
  sessionId: string;
  challengeId: string;
  tenantId: string;
  workstationId: string;
  mode: ElevationMode;
  accountName: string;
  accountKind: "SHARED" | "WORKSTATION" | "TECHNICIAN";
  builtInAdministrator: boolean;
  minutes: number;
  technicianId: string;
  technicianName: string;
  deviceId: string;
  deviceAlgorithm: "P256" | "ED25519";
  devicePublicKey: string;
  signature: string;
  secretHash: string;
  passwordLength: number;
  passwordCharacters: "ALPHANUMERIC" | "ALPHANUMERIC_SYMBOLS";
  restartGraceMinutes: number | null;
  endsAt: string;
}

/** What the agent asked for and showed: the instruction must match it, and the phone must have signed it. */
export interface ElevationExpectation {
  tenantId: string;
  workstationId: string;
  challengeId: string;
  qrSecret: string;
  mode: ElevationMode;
  minutes: number;
  /** The account named at the start; null with named accounts, then `accountPrefix`. */
  account: string | null;
  accountPrefix: string | null;
}

/** The bytes the technician's phone signed (see the API's elevation-signing.ts and the authenticator's). */
export function elevationSigningBytes(input: Omit<ElevationExpectation, "qrSecret" | "account" | "accountPrefix"> & { secretHash: string; account: string; technicianId: string; deviceId: string }) {
  return Buffer.from(
    [ELEVATION_SIGNING_PURPOSE, input.tenantId, input.workstationId, input.challengeId, input.secretHash, input.mode, input.account, String(input.minutes), input.technicianId, input.deviceId].join("\n"),
    "utf8",
  );
}

/**
 * Refuses (INSTRUCTION_REJECTED) an instruction that is not exactly what this
 * workstation asked for, or whose signature the named phone key does not
 * verify. Until phone keys are certified by someone other than the API, an API
 * that was taken over could still name a key of its own.
 */
export function verifyElevationInstruction(instruction: ElevationInstruction, expected: ElevationExpectation): void {
  const reject = (why: string): never => {
    throw new AgentError("INSTRUCTION_REJECTED", `the elevation instruction was refused: ${why}`);
  };
  const secretHash = createHash("sha256").update(expected.qrSecret, "utf8").digest("base64url");
  if (instruction.workstationId !== expected.workstationId) reject("it is for another workstation");
  if (instruction.tenantId !== expected.tenantId) reject("it is for another organisation");
  if (instruction.challengeId !== expected.challengeId) reject("it answers another request");
  if (instruction.secretHash !== secretHash) reject("it was not approved for the code shown here");
  if (instruction.mode !== expected.mode) reject(`the mode ${instruction.mode} is not the ${expected.mode} asked for`);
  if (instruction.minutes !== expected.minutes) reject(`${instruction.minutes} minutes is not the ${expected.minutes} asked for`);
  if (expected.account !== null && instruction.accountName !== expected.account) reject(`the account "${instruction.accountName}" is not "${expected.account}"`);
  if (expected.account === null) {
    const prefix = expected.accountPrefix ?? "";
    const rest = instruction.accountName.slice(prefix.length);
    if (!prefix || !instruction.accountName.startsWith(prefix) || !/^\d+$/.test(rest)) reject(`"${instruction.accountName}" is not a named technician account "${prefix}<n>"`);
  }
  const bytes = elevationSigningBytes({ ...expected, secretHash, account: instruction.accountName, technicianId: instruction.technicianId, deviceId: instruction.deviceId });
  if (!verifyPhoneSignature(instruction, bytes)) reject("the phone's signature does not match it");
}

function verifyPhoneSignature(instruction: Pick<ElevationInstruction, "deviceAlgorithm" | "devicePublicKey" | "signature">, bytes: Buffer): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(instruction.devicePublicKey, "base64"), format: "der", type: "spki" });
    const signature = Buffer.from(instruction.signature, "base64url");
    if (instruction.deviceAlgorithm === "ED25519") return key.asymmetricKeyType === "ed25519" && verify(null, bytes, key, signature);
    return key.asymmetricKeyType === "ec" && verify("sha256", bytes, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}

export interface ElevationHooks {
  /** Show the QR code: what it asks for is fixed now. */
  onChallenge?(challenge: { id: string; qrPayload: string; expiresAt: string; account: string | null; accountPrefix: string | null; minutes: number; mode: ElevationMode }): void | Promise<void>;
  onStatus?(status: ChallengeStatus): void;
  signal?: AbortSignal;
}

export interface ElevationAgentOptions {
  /** For tests only: every password the agent generates is appended here (JSON lines), so a test can look for it elsewhere. */
  revealPasswordsTo?: string | null;
  /** The workstation's clock. */
  now?: () => Date;
  /** Progress lines (the console of a Windows service). */
  log?: (line: string) => void;
}

export interface WorkstationCommandRecord {
  id: string;
  kind: "END_TECHNICIAN_SESSION" | "ROTATE_ACCOUNT_PASSWORD";
  sessionId: string | null;
  accountName?: string | null;
  reason: EndReason | "NOT_APPROVED" | null;
  createdAt: string;
}

type StartedElevation = {
  challenge: { id: string; status: ChallengeStatus; expiresAt: string };
  qrPayload: string;
  watchToken: string;
  redeemSecret: string;
  technicianAccountPrefix: string | null;
  elevation: { id: string; accountName: string | null; requestedMinutes: number; mode: ElevationMode };
};

export class ElevationAgent {
  private readonly now: () => Date;
  private readonly log: (line: string) => void;
  /** Changes to sessions happen one at a time, whatever asked for them (a timer, a command, Ctrl-C). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly agent: DesktopAgent,
    private readonly options: ElevationAgentOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => undefined);
  }

  /** What the agent keeps for elevated access, as last saved. */
  get state(): ElevationState {
    return this.agent.toState().elevation ?? emptyElevationState();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async send(query: string, variables: Record<string, unknown>) {
    return postGraphQL(this.agent.apiUrl, query, variables, await this.agent.credential());
  }

  private update(change: (state: AgentState, elevation: ElevationState) => AgentState) {
    return this.agent.updateState((state) => change(state, state.elevation ?? emptyElevationState()));
  }

  private async reveal(account: string, password: string, purpose: "session" | "rotation") {
    if (!this.options.revealPasswordsTo) return;
    await appendFile(this.options.revealPasswordsTo, `${JSON.stringify({ account, password, purpose, at: this.now().toISOString() })}\n`, { mode: 0o600 });
  }

  /**
   * Asks for elevation, shows the code, waits for a technician's approval,
   * verifies the instruction, and signs the technician in. Returns the running
   * session; `serve` then enforces its end.
   */
  async elevate(request: { mode: ElevationMode; minutes?: number | null }, hooks: ElevationHooks = {}): Promise<LocalTechnicianSession> {
    const workstation = this.agent.enrolledWorkstation();
    const config = await this.agent.fetchConfig();
    await this.flushReports();
    const interactive = request.mode === "IN_SESSION" ? this.interactiveSession() : null;
    if (request.mode === "IN_SESSION" && !interactive) throw new AgentError("NO_INTERACTIVE_SESSION", "nobody is signed in on this workstation: in-session elevation needs a running Windows session");
    const data = await this.send(START_ELEVATION, {
      mode: request.mode,
      minutes: request.minutes ?? null,
      sessionUser: interactive?.user ?? null,
      sessionRemote: interactive ? interactive.kind === "REMOTE" : null,
      agentVersion: AGENT_VERSION,
    });
    const started = expectElevationStart(data.startLoginChallenge);
    const qrSecret = started.qrPayload.split(".")[2] ?? "";
    const expected: ElevationExpectation = {
      tenantId: config.tenant.id,
      workstationId: workstation.id,
      challengeId: started.challenge.id,
      qrSecret,
      mode: request.mode,
      minutes: started.elevation.requestedMinutes,
      account: started.elevation.accountName,
      accountPrefix: started.technicianAccountPrefix,
    };
    await hooks.onChallenge?.({
      id: started.challenge.id,
      qrPayload: started.qrPayload,
      expiresAt: started.challenge.expiresAt,
      account: expected.account,
      accountPrefix: expected.accountPrefix,
      minutes: expected.minutes,
      mode: expected.mode,
    });
    let status: ChallengeStatus;
    try {
      status = await this.agent.waitForDecision(started, hooks, "the elevation request");
    } catch (error) {
      if (!hooks.signal?.aborted) throw error;
      await this.send(CANCEL_CHALLENGE, { id: started.challenge.id, redeemSecret: started.redeemSecret }).catch(() => undefined);
      throw new AgentError("ELEVATION_CANCELLED", "the elevation was cancelled on this workstation");
    }
    if (status === "DENIED") throw new AgentError("ELEVATION_DENIED", "the elevation was denied on the phone");
    if (status === "EXPIRED") throw new AgentError("CHALLENGE_EXPIRED", "the QR code expired before anyone approved it");
    if (status === "CONSUMED") throw new AgentError("CHALLENGE_CONSUMED", "this approval was already used");
    const redeemed = await this.send(REDEEM_ELEVATION, { challengeId: started.challenge.id, redeemSecret: started.redeemSecret });
    const { instruction } = expectPayload<{ instruction: ElevationInstruction }>(redeemed.redeemElevation, "RedeemElevationPayload", "redeemElevation");
    try {
      verifyElevationInstruction(instruction, expected);
    } catch (error) {
      // The account is not touched; the session is closed at once so the account is free again.
      await this.report({ sessionId: started.elevation.id, event: "ENDED", at: this.now().toISOString(), reason: "ENDED_ON_WORKSTATION", note: (error as Error).message });
      throw error;
    }
    return this.serial(() => this.startSession(instruction, interactive?.id ?? null));
  }

  private interactiveSession() {
    const sessions = this.state.logonSessions.filter((session) => session.parentId === null && session.technicianSessionId === null);
    return sessions.at(-1) ?? null;
  }

  private async startSession(instruction: ElevationInstruction, parentLogonId: string | null): Promise<LocalTechnicianSession> {
    const now = this.now();
    const password = generateAccountPassword(instruction.passwordLength, instruction.passwordCharacters);
    let refusal: string | null = null;
    let session: LocalTechnicianSession | null = null;
    await this.update((state, elevation) => {
      const ensured = ensureElevationAccount(state.localAccounts, elevation, { name: instruction.accountName, builtInAdministrator: instruction.builtInAdministrator, password }, now);
      if (ensured.decision.outcome === "REFUSED") {
        refusal = ensured.decision.detail;
        return state;
      }
      const parent = parentLogonId ? ensured.elevation.logonSessions.find((logon) => logon.id === parentLogonId) : null;
      const opened = openLogonSession(
        ensured.elevation,
        {
          user: instruction.accountName,
          kind: parent?.kind ?? "CONSOLE",
          parentId: parent?.id ?? null,
          technicianSessionId: instruction.sessionId,
          images: instruction.mode === "SIGN_IN" ? ["userinit.exe", "explorer.exe"] : ["consent.exe", "cmd.exe"],
        },
        now,
      );
      session = {
        id: instruction.sessionId,
        account: instruction.accountName,
        mode: instruction.mode,
        minutes: instruction.minutes,
        technicianId: instruction.technicianId,
        technicianName: instruction.technicianName,
        logonSessionId: opened.logonSession.id,
        startedAt: now.toISOString(),
        endsAt: new Date(now.getTime() + instruction.minutes * 60_000).toISOString(),
        restartGraceMinutes: instruction.restartGraceMinutes,
        passwordLength: instruction.passwordLength,
        passwordCharacters: instruction.passwordCharacters,
        endedAt: null,
        endReason: null,
      };
      return { ...state, localAccounts: ensured.store, elevation: { ...opened.elevation, sessions: [...opened.elevation.sessions, session] } };
    });
    if (refusal !== null || !session) {
      await this.report({ sessionId: instruction.sessionId, event: "ENDED", at: now.toISOString(), reason: "ENDED_ON_WORKSTATION", note: `account refused: ${refusal}` });
      throw new AgentError("ACCOUNT_REFUSED", refusal ?? "the account could not be prepared");
    }
    await this.reveal(instruction.accountName, password, "session");
    await this.sealForBreakGlass(instruction.accountName, password);
    this.log(`elevated: ${instruction.technicianName} as ${instruction.accountName} (${instruction.mode}) until ${(session as LocalTechnicianSession).endsAt}`);
    const answer = await this.report({ sessionId: instruction.sessionId, event: "STARTED", at: now.toISOString(), reason: null, note: null });
    // Ended on the server meanwhile (a revocation between approval and start): end it now.
    if (answer?.status === "ENDED") await this.endSessionNow(instruction.sessionId, (answer.endReason as EndReason | null) ?? "REVOKED", "ended on the server before it started");
    return this.state.sessions.find((local) => local.id === instruction.sessionId)!;
  }

  /** Ends a running technician session: terminate, rotate, (schedule the restart), report. */
  endSession(sessionId: string, reason: EndReason, note: string | null = null): Promise<LocalTechnicianSession | null> {
    return this.serial(() => this.endSessionNow(sessionId, reason, note));
  }

  private async endSessionNow(sessionId: string, reason: EndReason, note: string | null, now: Date = this.now()): Promise<LocalTechnicianSession | null> {
    let ended: LocalTechnicianSession | null = null;
    let rotated: { account: string; password: string } | null = null;
    await this.update((state, elevation) => {
      const session = elevation.sessions.find((local) => local.id === sessionId && local.endedAt === null);
      if (!session) return state;
      const password = generateAccountPassword(session.passwordLength, session.passwordCharacters);
      rotated = { account: session.account, password };
      ended = { ...session, endedAt: now.toISOString(), endReason: reason };
      const terminated = terminateLogonSession(elevation, session.logonSessionId);
      const report: SessionReport = { sessionId, event: "ENDED", at: now.toISOString(), reason, note };
      return {
        ...state,
        localAccounts: setAccountPassword(state.localAccounts, session.account, password, now),
        elevation: {
          ...terminated,
          sessions: terminated.sessions.map((local) => (local.id === sessionId ? ended! : local)),
          pendingReports: [...terminated.pendingReports, report],
          restartDueAt: session.restartGraceMinutes === null ? terminated.restartDueAt : new Date(now.getTime() + session.restartGraceMinutes * 60_000).toISOString(),
        },
      };
    });
    if (!ended) return null;
    const { account, password } = rotated!;
    await this.reveal(account, password, "rotation");
    await this.sealForBreakGlass(account, password);
    this.log(`ended: session ${sessionId} (${reason}); ${account}'s password rotated`);
    await this.flushReports();
    return ended;
  }

  /**
   * The workstation's own clock: sessions past their end are ended (even with
   * the API unreachable), and a restart that is due happens.
   */
  enforce(now: Date = this.now()): Promise<LocalTechnicianSession[]> {
    return this.serial(async () => {
      const ended: LocalTechnicianSession[] = [];
      for (const session of this.state.sessions) {
        if (session.endedAt === null && Date.parse(session.endsAt) <= now.getTime()) {
          const done = await this.endSessionNow(session.id, "EXPIRED", null, now);
          if (done) ended.push(done);
        }
      }
      const due = this.state.restartDueAt;
      if (due && Date.parse(due) <= now.getTime()) {
        // A restart signs everyone out: every logon session ends.
        await this.update((state, elevation) => ({ ...state, elevation: { ...elevation, logonSessions: [], restartDueAt: null, restarts: [...elevation.restarts, now.toISOString()] } }));
        this.log(`restarted the workstation at ${now.toISOString()}`);
      }
      return ended;
    });
  }

  /** Sends the reports a previous attempt could not deliver. */
  async flushReports(): Promise<void> {
    for (const report of this.state.pendingReports) {
      try {
        await this.sendReport(report);
      } catch (error) {
        if (error instanceof AgentError && error.code === "NETWORK_ERROR") return;
      }
      await this.update((state, elevation) => ({ ...state, elevation: { ...elevation, pendingReports: elevation.pendingReports.filter((pending) => pending !== report && !(pending.sessionId === report.sessionId && pending.event === report.event)) } }));
    }
  }

  private async sendReport(report: SessionReport) {
    const data = await this.send(REPORT_TECHNICIAN_SESSION, report as unknown as Record<string, unknown>);
    return expectPayload<{ session: { status: string; endReason: string | null } }>(data.reportTechnicianSession, "ReportTechnicianSessionPayload", "reportTechnicianSession").session;
  }

  /** Reports at once; offline, keeps it for later. */
  private async report(report: SessionReport) {
    try {
      return await this.sendReport(report);
    } catch (error) {
      if (!(error instanceof AgentError) || error.code !== "NETWORK_ERROR") return null;
      await this.update((state, elevation) => ({ ...state, elevation: { ...elevation, pendingReports: [...elevation.pendingReports, report] } }));
      return null;
    }
  }

  /** Carries out one command, then acknowledges it. */
  async handleCommand(command: WorkstationCommandRecord): Promise<void> {
    if (command.kind === "END_TECHNICIAN_SESSION" && command.sessionId) {
      const reason = command.reason && command.reason !== "NOT_APPROVED" ? command.reason : "ENDED_BY_ADMIN";
      await this.endSession(command.sessionId, reason, "ended by a command from the server");
    }
    if (command.kind === "ROTATE_ACCOUNT_PASSWORD" && command.accountName) {
      await this.rotateAccount(command.accountName);
    }
    const data = await this.send(ACKNOWLEDGE_WORKSTATION_COMMAND, { id: command.id });
    expectPayload(data.acknowledgeWorkstationCommand, "AcknowledgeWorkstationCommandPayload", "acknowledgeWorkstationCommand");
  }

  /**
   * Rotates an account this agent created, now (its break-glass password was
   * revealed). An account in a running technician session is left alone: the
   * session's end rotates it.
   */
  rotateAccount(name: string): Promise<boolean> {
    return this.serial(async () => {
      const key = name.toLowerCase();
      const elevation = this.state;
      if (!elevation.createdAccounts.some((account) => account.name.toLowerCase() === key)) {
        this.log(`rotate: ${name} is not an account this agent manages; nothing done`);
        return false;
      }
      if (elevation.sessions.some((session) => session.endedAt === null && session.account.toLowerCase() === key)) {
        this.log(`rotate: ${name} is in a running technician session; its end rotates it`);
        return false;
      }
      const last = elevation.sessions.filter((session) => session.account.toLowerCase() === key).at(-1);
      const password = generateAccountPassword(last?.passwordLength ?? DEFAULT_PASSWORD_LENGTH, last?.passwordCharacters ?? "ALPHANUMERIC_SYMBOLS");
      const now = this.now();
      const account = elevation.createdAccounts.find((created) => created.name.toLowerCase() === key)!.name;
      await this.update((state) => ({ ...state, localAccounts: setAccountPassword(state.localAccounts, account, password, now) }));
      await this.reveal(account, password, "rotation");
      await this.sealForBreakGlass(account, password);
      this.log(`rotated: ${account}'s password (asked by the server)`);
      return true;
    });
  }

  /**
   * The tenant key to seal to, as its signed statement names it. The statement
   * must verify against the pin (the tenant's signing key, the highest epoch and
   * its key, set at the first fetch); anything else is refused
   * (SEALING_KEY_CHANGED). Offline, the pinned key.
   */
  private async breakGlassKey(): Promise<{ tenantId: string; publicKey: string; epoch: number | null }> {
    const pinned = this.state.breakGlass;
    type SealingKey = { tenantId: string; workstationId: string; tenantKey: { statement: string; signature: string } };
    let fetched: SealingKey | null = null;
    try {
      const data = await this.send(BREAK_GLASS_SEALING_KEY, {});
      fetched = expectPayload<SealingKey>(data.breakGlassSealingKey, "BreakGlassSealingKey", "breakGlassSealingKey");
    } catch (error) {
      if (!(error instanceof AgentError) || error.code !== "NETWORK_ERROR" || !pinned?.tenantPublicKey || !pinned.tenantId) throw error;
      return { tenantId: pinned.tenantId, publicKey: pinned.tenantPublicKey, epoch: pinned.tenantKeyPin?.epoch ?? null };
    }
    const workstation = this.agent.enrolledWorkstation();
    if (fetched.workstationId !== workstation.id) throw new AgentError("SEALING_KEY_CHANGED", "the sealing key answered is for another workstation");
    if (pinned?.tenantId && pinned.tenantId !== fetched.tenantId) {
      throw new AgentError("SEALING_KEY_CHANGED", "the API answered another tenant's key: refusing to seal to it");
    }
    let verified;
    try {
      verified = await verifyTenantKey(fetched.tenantKey, { tenantId: fetched.tenantId, pinned: pinned?.tenantKeyPin ?? null });
    } catch (error) {
      if (error instanceof TenantKeyRefused) throw new AgentError("SEALING_KEY_CHANGED", `${error.message}: refusing to seal to it`);
      throw error;
    }
    const { statement, pin } = verified;
    // A key pinned before statements existed: the first statement must name that same key.
    if (!pinned?.tenantKeyPin && pinned?.tenantPublicKey && pinned.tenantPublicKey !== statement.publicKey) {
      throw new AgentError("SEALING_KEY_CHANGED", "the API answered a tenant key other than the one pinned here: refusing to seal to it");
    }
    const changed = pinned?.tenantKeyPin?.epoch !== pin.epoch || pinned?.tenantKeyPin?.signingKey !== pin.signingKey;
    if (changed) {
      await this.updateBreakGlass((breakGlass) => ({ ...breakGlass, tenantPublicKey: statement.publicKey, tenantId: statement.tenantId, tenantKeyPin: pin }));
      this.log(`break-glass: pinned the tenant's key, epoch ${pin.epoch}`);
    }
    return { tenantId: statement.tenantId, publicKey: statement.publicKey, epoch: statement.epoch };
  }

  /** Fetches and pins the tenant key now (at enrollment); refuses one other than a key already pinned. */
  async pinSealingKey(): Promise<void> {
    await this.breakGlassKey();
  }

  private updateBreakGlass(change: (breakGlass: BreakGlassState) => BreakGlassState) {
    return this.update((state, elevation) => ({
      ...state,
      elevation: { ...elevation, breakGlass: change(elevation.breakGlass ?? { tenantPublicKey: null, tenantId: null, rotations: {}, pending: [] }) },
    }));
  }

  /**
   * Seals an account's new password to the pinned tenant key, bound to the
   * tenant, this workstation, the account and the next rotation, and uploads
   * it (offline: the sealed box waits in the state file; the password itself
   * is never kept). A refused key is logged and nothing is sealed.
   */
  private async sealForBreakGlass(account: string, password: string): Promise<void> {
    let key: { tenantId: string; publicKey: string; epoch: number | null };
    try {
      key = await this.breakGlassKey();
    } catch (error) {
      // The rotation itself stands; the break-glass copy is what is missing.
      this.log(`break-glass: ${account}'s new password was not sealed: ${(error as Error).message}`);
      return;
    }
    const accountKey = account.toLowerCase();
    const rotation = (this.state.breakGlass?.rotations[accountKey] ?? 0) + 1;
    const sealed = await sealBreakGlass({ tenantId: key.tenantId, workstationId: this.agent.enrolledWorkstation().id, account, rotation, tenantPublicKey: key.publicKey, password });
    await this.updateBreakGlass((breakGlass) => ({
      ...breakGlass,
      rotations: { ...breakGlass.rotations, [accountKey]: rotation },
      pending: [...breakGlass.pending.filter((pending) => pending.account.toLowerCase() !== accountKey), { account, rotation, epoch: key.epoch, sealed }],
    }));
    await this.flushBreakGlass();
  }

  /** Uploads the sealed boxes owed; stops at the first network failure. */
  async flushBreakGlass(): Promise<void> {
    for (const pending of this.state.breakGlass?.pending ?? []) {
      try {
        const data = await this.send(UPLOAD_BREAK_GLASS_PASSWORD, { account: pending.account, rotation: pending.rotation, epoch: pending.epoch ?? null, sealed: pending.sealed });
        expectPayload(data.uploadBreakGlassPassword, "UploadBreakGlassPasswordPayload", "uploadBreakGlassPassword");
        this.log(`break-glass: ${pending.account}'s password (rotation ${pending.rotation}) sealed and uploaded`);
      } catch (error) {
        if (error instanceof AgentError && error.code === "NETWORK_ERROR") return;
        // Refused (an older rotation than the API has, or sealed to a key that has moved on): dropped, it could never be stored.
        this.log(`break-glass: the API refused ${pending.account}'s sealed password: ${(error as Error).message}`);
      }
      await this.updateBreakGlass((breakGlass) => ({ ...breakGlass, pending: breakGlass.pending.filter((kept) => !(kept.account === pending.account && kept.rotation === pending.rotation)) }));
    }
  }

  /** Sends owed reports, then asks for and carries out every pending command. */
  async sync(): Promise<number> {
    await this.flushReports();
    await this.flushBreakGlass();
    let handled = 0;
    // Carried-out commands are acknowledged, so the first page again holds the next ones. A command that
    // keeps failing stays pending: the rounds are bounded, and the next minute's poll tries again.
    for (let round = 0; round < 10; round++) {
      const data = await this.send(PENDING_WORKSTATION_COMMANDS, {});
      const { pendingCommands: page } = data.agentWorkstation as {
        pendingCommands: { pageInfo: { hasNextPage: boolean }; edges: { node: WorkstationCommandRecord }[] };
      };
      for (const { node } of page.edges) await this.handleCommand(node);
      handled += page.edges.length;
      if (!page.pageInfo.hasNextPage) break;
    }
    return handled;
  }

  /**
   * Runs as the workstation's service: the command subscription (reconnected
   * whenever it drops, with pending commands fetched at each connection), a
   * poll every minute, and the clock. Stops when `signal` aborts or `until()` holds.
   */
  async serve(options: { signal?: AbortSignal; until?: () => boolean; pollMs?: number; tickMs?: number } = {}): Promise<void> {
    const { signal, until } = options;
    let client: Client | null = null;
    let stopped = false;
    let wake: () => void = () => undefined;
    const stop = () => {
      stopped = true;
      wake();
    };
    const check = () => {
      if (signal?.aborted || until?.()) stop();
    };
    const guarded = (what: string, work: () => Promise<unknown>) =>
      work()
        .then(check)
        .catch((error: unknown) => this.log(`${what} failed: ${error instanceof Error ? error.message : String(error)}`));
    const connect = () => {
      if (stopped) return;
      const socket = webSocketClient(this.agent.apiUrl, () => this.agent.credential());
      client = socket;
      socket.on("connected", () => {
        this.log("connected; asking for pending commands");
        void guarded("sync", () => this.sync());
      });
      socket.subscribe<{ workstationCommandAdded: WorkstationCommandRecord }>(
        { query: WORKSTATION_COMMAND_ADDED },
        {
          next: (result) => {
            const command = (result.data as { workstationCommandAdded?: WorkstationCommandRecord } | null | undefined)?.workstationCommandAdded;
            if (command) void guarded("command", () => this.handleCommand(command));
          },
          error: () => reconnect(socket),
          complete: () => reconnect(socket),
        },
      );
    };
    const reconnect = (socket: Client) => {
      void socket.dispose();
      if (client !== socket || stopped) return;
      client = null;
      this.log("disconnected; reconnecting");
      setTimeout(connect, RECONNECT_DELAY_MS);
    };
    const tick = setInterval(() => void guarded("clock", () => this.enforce()), options.tickMs ?? 1_000);
    const poll = setInterval(() => void guarded("poll", () => this.sync()), options.pollMs ?? COMMAND_POLL_MS);
    signal?.addEventListener("abort", stop, { once: true });
    try {
      check();
      connect();
      while (!stopped) await new Promise<void>((resolve) => (wake = resolve));
    } finally {
      clearInterval(tick);
      clearInterval(poll);
      signal?.removeEventListener("abort", stop);
      const open = client as Client | null;
      client = null;
      await open?.dispose();
      await this.queue;
    }
  }
}

/** The start's payload, or its error; ELEVATION_BUSY names the holder and the end. */
function expectElevationStart(result: unknown): StartedElevation {
  const union = (result ?? {}) as { __typename?: string; code?: string; holder?: string; endsAt?: string | null };
  if (union.__typename === "ElevationBusyError") {
    throw new AgentError("ELEVATION_BUSY", `${union.holder} is elevated on this workstation${union.endsAt ? ` until ${union.endsAt}` : ""}`, { typename: union.__typename });
  }
  return expectPayload<StartedElevation>(result, "StartLoginChallengePayload", "startLoginChallenge");
}
