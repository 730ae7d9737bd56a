// Elevated access end to end through the two reference command lines: the
// `desktop-agent` shows an ELEVATED_ACCESS code and runs the technician
// session, the `authenticator` of each person scans and approves it. Every
// byte the agent exchanges with the API goes through a recording proxy, so
// the last test can look for the agent's generated passwords in all of it.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addLocalAccount, findLocalAccount, readStateFile, verifyLocalPassword, writeStateFile } from "@latchkey/desktop";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTHENTICATOR_BIN, desktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";
import { TcpProxy } from "./tcp-proxy.ts";

const AGENT_BIN = fileURLToPath(new URL("../../clients/desktop/bin/desktop-agent.mjs", import.meta.url));
const ERRORS = `... on Error { code message }`;

let api: Api;
let proxy: TcpProxy;
let dir: string;
let msp: MspSeed;
let customer: CustomerSeed;
let statePath: string;
let passwordsFile: string;
let workstationId: string;
let technician: SeededUser;
let customerAdmin: SeededUser;
/** Each person's authenticator state file. */
const phones: Record<"mspAdmin" | "technician" | "customerAdmin" | "customerUser" | "undelegated" | "otherMsp", string> = {} as never;

type Run = { code: number | null; stdout: string; stderr: string };

/** A running `desktop-agent` whose output can be waited on. */
class AgentProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<Run>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (chunk) => this.saw((this.stdout += chunk)));
    child.stderr!.on("data", (chunk) => this.saw((this.stderr += chunk)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    this.exited = new Promise((resolve) =>
      child.on("close", (code) => {
        clearTimeout(timer);
        this.saw("");
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  private saw(_text: string) {
    for (const wake of this.waiters) wake();
  }

  /** Waits until standard error matches `pattern` (or the process ends without it). */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    let ended = false;
    void this.exited.then(() => (ended = true));
    for (;;) {
      const match = pattern.exec(this.stderr);
      if (match) return match;
      if (ended || this.child.exitCode !== null) throw new Error(`agent ended without ${pattern}:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        setTimeout(wake, 500);
      });
    }
  }
}

function agent(args: string[], options: { api?: string } = {}) {
  const reveal = ["elevate", "service"].includes(args[0]!) ? ["--reveal-passwords-to", passwordsFile] : [];
  const child = spawn(process.execPath, [AGENT_BIN, ...args, ...reveal, "--api", options.api ?? `${proxy.url}/graphql`, "--state", statePath]);
  child.stdin.end();
  return new AgentProcess(child);
}

const runAgent = (args: string[], options: { api?: string } = {}) => agent(args, options).exited;

function phone(who: keyof typeof phones, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AUTHENTICATOR_BIN, ...args, "--api", `${api.url}/graphql`, "--state", phones[who]], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const errorCode = (run: Run) => /^error: ([A-Z_]+): /m.exec(run.stderr)?.[1] ?? null;

/** The passwords the agent generated, from its test-only record. */
async function generated(): Promise<{ account: string; password: string; purpose: string }[]> {
  const text = await readFile(passwordsFile, "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

async function sessionRow(id: string, token = msp.token) {
  const { technicianSessions } = await api.gql(
    `query($t: ID!) { technicianSessions(tenantId: $t, first: 100) { edges { node {
      id status endReason accountName mode requestedMinutes technicianName endedByName terminatedAt sessionUser sessionRemote } } } }`,
    { t: customer.id },
    { token },
  );
  return technicianSessions.edges.map((edge: { node: Record<string, unknown> }) => edge.node).find((node: { id: string }) => node.id === id);
}

async function endSession(token: string, id: string, reason: string) {
  const { endTechnicianSession } = await api.gql(
    `mutation($input: EndTechnicianSessionInput!) { endTechnicianSession(input: $input) { __typename ... on EndTechnicianSessionPayload { session { status endReason } } ${ERRORS} } }`,
    { input: { id, reason } },
    { token },
  );
  return endTechnicianSession;
}

async function delegation(action: "delegateCustomerAccess" | "revokeCustomerAccess") {
  const input = action === "delegateCustomerAccess" ? "DelegateCustomerAccessInput" : "RevokeCustomerAccessInput";
  const result = await api.gql(`mutation($input: ${input}!) { ${action}(input: $input) { __typename ${ERRORS} } }`, { input: { technicianId: technician.id, customerId: customer.id } }, { token: msp.token });
  expect(result[action].__typename, JSON.stringify(result)).not.toMatch(/Error$/);
}

const localState = () => readStateFile(statePath);

beforeAll(async () => {
  api = await Api.start();
  proxy = await TcpProxy.start(api.url);
  dir = await mkdtemp(join(tmpdir(), "latchkey-elevation-"));
  statePath = join(dir, "workstation.json");
  passwordsFile = join(dir, "generated-passwords.jsonl");
  const s = seed(api);
  msp = await s.msp();
  const otherMsp = await s.msp();
  customer = await msp.customer();
  const otherCustomer = await otherMsp.customer();
  const desk = desktopSeed(api, msp, customer);
  const configured = await api.gql(
    `mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename ${ERRORS} } }`,
    { input: { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin", maxSessionMinutes: 30, restartAfterSession: false } },
    { token: msp.token },
  );
  expect(configured.updateElevatedAccessSettings.__typename).toBe("UpdateElevatedAccessSettingsPayload");

  technician = await msp.technician();
  await msp.delegate(technician.id, customer.id);
  const undelegated = await msp.technician();
  customerAdmin = await customer.admin();
  const customerUser = await customer.user();
  const otherTechnician = await otherMsp.technician();
  await otherMsp.delegate(otherTechnician.id, otherCustomer.id);
  const mspAdmin: SeededUser = { id: msp.adminId, email: msp.adminEmail, username: "mspadmin", password: null, tenantSlug: msp.slug, token: async () => msp.token };
  const people = { mspAdmin, technician, customerAdmin, customerUser, undelegated, otherMsp: otherTechnician } as const;
  for (const [who, user] of Object.entries(people)) {
    phones[who as keyof typeof phones] = join(dir, `${who}-phone.json`);
    const seeder = who === "otherMsp" ? desktopSeed(api, otherMsp, otherCustomer) : desk;
    await seeder.phone(user, phones[who as keyof typeof phones]);
  }

  const token = await desk.installToken({ autoApprove: true });
  const enrolled = await runAgent(["enroll", "--token", token.secret, "--hostname", "RECEPTION-PC", "--os", "Windows 11 Pro"]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  workstationId = /workstation ([0-9a-f-]{36})/.exec(enrolled.stdout)![1]!;
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("elevated access through the desktop agent and the authenticator", () => {
  it("an MSP admin elevates at the login screen; a second request gets ELEVATION_BUSY; an admin ends it and the workstation logs it off and rotates", async () => {
    const held = agent(["elevate", "--minutes", "5"]);
    const qr = (await held.waitFor(/Code: (lk1\.\S+)/))[1]!;
    expect(held.stderr).toContain("sign-in as LatchkeyAdmin for 5 minutes");

    const approved = await phone("mspAdmin", ["approve", qr]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain("Workstation: RECEPTION-PC");
    expect(approved.stdout).toMatch(/Account: +LatchkeyAdmin \(local administrator\)/);
    expect(approved.stdout).toMatch(/Mode: +sign-in at the login screen/);
    expect(approved.stdout).toMatch(/Minutes: +5/);
    expect(approved.stdout).toMatch(/Enrolled: /);
    const sessionId = (await held.waitFor(/Session ([0-9a-f-]{36}) started/))[1]!;

    const state = await localState();
    const account = findLocalAccount(state.localAccounts, "LatchkeyAdmin")!;
    expect(account.groups).toContain("Administrators");
    expect(state.elevation!.createdAccounts.map((created) => created.name)).toEqual(["LatchkeyAdmin"]);
    const logon = state.elevation!.logonSessions.find((session) => session.technicianSessionId === sessionId)!;
    expect(logon).toMatchObject({ user: "LatchkeyAdmin", parentId: null });
    const sessionPassword = (await generated()).filter((entry) => entry.purpose === "session").at(-1)!.password;
    expect(sessionPassword).toHaveLength(24);
    expect(verifyLocalPassword(account, sessionPassword)).toBe(true);
    expect(await sessionRow(sessionId)).toMatchObject({ status: "STARTED", accountName: "LatchkeyAdmin", mode: "SIGN_IN", requestedMinutes: 5, technicianName: expect.stringContaining(msp.adminEmail) });

    const busy = await runAgent(["elevate"]);
    expect(busy.code).toBe(1);
    expect(errorCode(busy)).toBe("ELEVATION_BUSY");
    expect(busy.stderr).toContain(msp.adminEmail);
    expect(busy.stderr).toMatch(/until \d{4}-/);

    expect(await endSession(await customerAdmin.token(), sessionId, "maintenance window over")).toMatchObject({ session: { status: "ENDED", endReason: "ENDED_BY_ADMIN" } });
    const run = await held.exited;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Session ${sessionId} ended (ENDED_BY_ADMIN)`);

    const after = await localState();
    expect(after.elevation!.logonSessions.find((session) => session.technicianSessionId === sessionId)).toBeUndefined();
    const rotated = findLocalAccount(after.localAccounts, "LatchkeyAdmin")!;
    expect(verifyLocalPassword(rotated, sessionPassword)).toBe(false);
    const rotation = (await generated()).filter((entry) => entry.purpose === "rotation").at(-1)!.password;
    expect(verifyLocalPassword(rotated, rotation)).toBe(true);
    expect(await sessionRow(sessionId)).toMatchObject({ status: "ENDED", endReason: "ENDED_BY_ADMIN", endedByName: expect.stringContaining(customerAdmin.email), terminatedAt: expect.any(String) });
    const command = await api.db.workstationCommand.findFirstOrThrow({ where: { sessionId } });
    expect(command.acknowledgedAt).not.toBeNull();
  });

  it("refuses the phones of a customer's admin and user, an undelegated technician and another MSP's; a delegated technician elevates inside a user's session; revoking the delegation ends it and none of its processes survives", async () => {
    const state = await localState();
    await writeStateFile(statePath, { ...state, localAccounts: addLocalAccount(state.localAccounts, { name: "frontdesk", password: "Front-desk-2026" }) });
    const logon = await runAgent(["logon", "--user", "frontdesk", "--remote"]);
    expect(logon.code, logon.stderr).toBe(0);
    const userLogon = /logon session: (\S+)/.exec(logon.stdout)![1]!;

    const held = agent(["elevate", "--in-session", "--minutes", "10"]);
    const qr = (await held.waitFor(/Code: (lk1\.\S+)/))[1]!;
    for (const who of ["customerAdmin", "customerUser", "undelegated", "otherMsp"] as const) {
      const refused = await phone(who, ["approve", qr]);
      expect(refused.code, `${who}: ${refused.stdout}`).toBe(1);
      expect(errorCode(refused), who).toBe("NOT_FOUND");
    }
    const approved = await phone("technician", ["approve", qr]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/Mode: +inside the running Windows session/);
    expect(approved.stdout).toMatch(/Signed in: +frontdesk \(remote session\)/);
    const sessionId = (await held.waitFor(/Session ([0-9a-f-]{36}) started/))[1]!;
    expect(await sessionRow(sessionId)).toMatchObject({ status: "STARTED", mode: "IN_SESSION", sessionUser: "frontdesk", sessionRemote: true });

    const started = await runAgent(["run", "--image", "regedit.exe", "--session", sessionId]);
    expect(started.code, started.stderr).toBe(0);
    const during = (await localState()).elevation!;
    const elevated = during.logonSessions.find((session) => session.technicianSessionId === sessionId)!;
    expect(elevated.parentId).toBe(userLogon);
    expect(elevated.processes.map((process) => process.image)).toEqual(["consent.exe", "cmd.exe", "regedit.exe"]);

    await delegation("revokeCustomerAccess");
    const run = await held.exited;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("(REVOKED)");
    const after = (await localState()).elevation!;
    expect(after.logonSessions.find((session) => session.id === elevated.id)).toBeUndefined();
    const surviving = after.logonSessions.flatMap((session) => session.processes.map((process) => process.pid));
    for (const process of elevated.processes) expect(surviving).not.toContain(process.pid);
    expect(after.logonSessions.find((session) => session.id === userLogon)?.user).toBe("frontdesk");
    expect(await sessionRow(sessionId)).toMatchObject({ status: "ENDED", endReason: "REVOKED" });
    await delegation("delegateCustomerAccess");
  });

  it("expiry ends the session and rotates the password by the workstation's clock, offline too, and reports once the API is back", async () => {
    const held = agent(["elevate", "--minutes", "1", "--detach", "--json"]);
    const qr = (await held.waitFor(/Code: (lk1\.\S+)/))[1]!;
    expect((await phone("technician", ["approve", qr])).code).toBe(0);
    const run = await held.exited;
    expect(run.code, run.stderr).toBe(0);
    const { sessionId, endsAt } = JSON.parse(run.stdout) as { sessionId: string; endsAt: string };
    const sessionPassword = (await generated()).filter((entry) => entry.purpose === "session").at(-1)!.password;

    const offline = await runAgent(["service", "--once", "--now", new Date(Date.parse(endsAt) + 1000).toISOString()], { api: "http://127.0.0.1:9/graphql" });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain(`ended ${sessionId} (EXPIRED)`);
    expect(offline.stdout).toMatch(/offline: .*1 report\(s\) kept for later/);
    const state = await localState();
    const account = findLocalAccount(state.localAccounts, "LatchkeyAdmin")!;
    expect(verifyLocalPassword(account, sessionPassword)).toBe(false);
    expect(verifyLocalPassword(account, (await generated()).at(-1)!.password)).toBe(true);
    expect(state.elevation!.logonSessions.find((session) => session.technicianSessionId === sessionId)).toBeUndefined();
    expect(await sessionRow(sessionId)).toMatchObject({ status: "STARTED", terminatedAt: null });

    const online = await runAgent(["service", "--once"]);
    expect(online.code, online.stderr).toBe(0);
    expect(await sessionRow(sessionId)).toMatchObject({ status: "ENDED", endReason: "EXPIRED", terminatedAt: expect.any(String) });
    expect((await localState()).elevation!.pendingReports).toEqual([]);
  });

  it("refuses an instruction altered after the approval, and leaves the account alone", async () => {
    const before = findLocalAccount((await localState()).localAccounts, "LatchkeyAdmin")!.passwordHash;
    const forged = randomUUID();
    proxy.rewrite = (chunk) => Buffer.from(chunk.toString("latin1").replaceAll(`"technicianId":"${technician.id}"`, `"technicianId":"${forged}"`), "latin1");
    try {
      const held = agent(["elevate", "--minutes", "5"]);
      const qr = (await held.waitFor(/Code: (lk1\.\S+)/))[1]!;
      expect((await phone("technician", ["approve", qr])).code).toBe(0);
      const run = await held.exited;
      expect(run.code).toBe(1);
      expect(errorCode(run)).toBe("INSTRUCTION_REJECTED");
      expect(run.stderr).toContain("signature");
    } finally {
      proxy.rewrite = null;
    }
    expect(findLocalAccount((await localState()).localAccounts, "LatchkeyAdmin")!.passwordHash).toBe(before);
    const rows = await api.db.technicianSession.findMany({ where: { workstationId }, orderBy: { createdAt: "desc" }, take: 1 });
    expect(rows[0]).toMatchObject({ status: "ENDED", endReason: "ENDED_ON_WORKSTATION" });
  });

  it("a command published while the agent's socket was down reaches it when it reconnects", async () => {
    const held = agent(["elevate", "--minutes", "10"]);
    const qr = (await held.waitFor(/Code: (lk1\.\S+)/))[1]!;
    expect((await phone("technician", ["approve", qr])).code).toBe(0);
    const sessionId = (await held.waitFor(/Session ([0-9a-f-]{36}) started/))[1]!;
    await held.waitFor(/connected; asking for pending commands/);

    proxy.cut();
    await held.waitFor(/disconnected; reconnecting/);
    expect(await endSession(await technician.token(), sessionId, "done")).toMatchObject({ session: { status: "ENDED", endReason: "ENDED_BY_TECHNICIAN" } });
    const command = await api.db.workstationCommand.findFirstOrThrow({ where: { sessionId } });
    expect(command.acknowledgedAt).toBeNull();
    expect((await localState()).elevation!.sessions.find((session) => session.id === sessionId)!.endedAt).toBeNull();

    proxy.restore();
    const run = await held.exited;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Session ${sessionId} ended (ENDED_BY_TECHNICIAN)`);
    expect((await api.db.workstationCommand.findUniqueOrThrow({ where: { id: command.id } })).acknowledgedAt).not.toBeNull();
  });

  it("the agent's generated passwords appear in no request, WebSocket message, row or log line, in any encoding", async () => {
    const passwords = (await generated()).map((entry) => entry.password);
    expect(passwords.length).toBeGreaterThanOrEqual(8);
    const traffic = proxy.traffic().toString("latin1");
    // The recording holds the agent's traffic: its workstation id is in it.
    expect(traffic).toContain(workstationId);
    const tables = await api.db.$queryRawUnsafe<{ table_name: string }[]>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    const rows: string[] = [];
    for (const { table_name } of tables) {
      const dump = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      rows.push(...dump.map((entry) => entry.row));
    }
    expect(rows.join("\n")).toContain(workstationId);
    const haystacks = { traffic, rows: rows.join("\n"), logs: api.logs.join("\n") };
    for (const password of passwords) {
      const encodings = [
        password,
        Buffer.from(password).toString("base64"),
        Buffer.from(password).toString("base64url"),
        Buffer.from(password).toString("hex"),
        encodeURIComponent(password),
        JSON.stringify(password).slice(1, -1),
        Buffer.from(password, "utf16le").toString("latin1"),
      ];
      for (const [where, text] of Object.entries(haystacks)) {
        for (const encoded of encodings) expect(text.includes(encoded), `a generated password (${encoded.length} chars) in ${where}`).toBe(false);
      }
    }
  });
});
