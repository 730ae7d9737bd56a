// Break-glass passwords end to end through the two reference command lines:
// the `desktop-agent` seals every new password of its admin account to the
// tenant's key and uploads it, an MSP admin reveals it with their own phone's
// approval (the `authenticator`), and the agent rotates it at its next contact.
// The agent's traffic goes through a recording proxy, so the last test can
// look for its passwords in all of it.
import { execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findLocalAccount, readStateFile, verifyLocalPassword, writeStateFile } from "@latchkey/desktop";
import { openBreakGlass, tenantKeyStatement } from "@latchkey/passwords";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTHENTICATOR_BIN, desktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";
import { TcpProxy } from "./tcp-proxy.ts";

const AGENT_BIN = fileURLToPath(new URL("../../clients/desktop/bin/desktop-agent.mjs", import.meta.url));
const ERRORS = `... on Error { code message }`;
const ACCOUNT = "LatchkeyAdmin";

let api: Api;
let proxy: TcpProxy;
let dir: string;
let msp: MspSeed;
let otherMsp: MspSeed;
let customer: CustomerSeed;
let otherCustomer: CustomerSeed;
let statePath: string;
let passwordsFile: string;
let workstationId: string;
let technician: SeededUser;
let customerAdmin: SeededUser;
let secondAdmin: SeededUser;
const phones: Record<"mspAdmin" | "technician" | "secondAdmin", string> = {} as never;

type Run = { code: number | null; stdout: string; stderr: string };

function runAgent(args: string[]): Promise<Run> {
  const reveal = ["elevate", "service"].includes(args[0]!) ? ["--reveal-passwords-to", passwordsFile] : [];
  const child = spawn(process.execPath, [AGENT_BIN, ...args, ...reveal, "--api", `${proxy.url}/graphql`, "--state", statePath]);
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Starts `elevate` and resolves with its QR payload once shown, and the run when it ends. */
function elevate(minutes: number) {
  const child = spawn(process.execPath, [AGENT_BIN, "elevate", "--minutes", String(minutes), "--reveal-passwords-to", passwordsFile, "--api", `${proxy.url}/graphql`, "--state", statePath]);
  child.stdin.end();
  let stderr = "";
  let stdout = "";
  const qr = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /Code: (lk1\.\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.on("close", () => reject(new Error(`elevate ended without a code:\n${stderr}`)));
  });
  child.stdout.on("data", (chunk) => (stdout += chunk));
  const started = async () => {
    for (;;) {
      const match = /Session ([0-9a-f-]{36}) started/.exec(stderr);
      if (match) return match[1]!;
      if (child.exitCode !== null) throw new Error(`elevate ended before the session started:\n${stderr}`);
      await new Promise((wake) => setTimeout(wake, 100));
    }
  };
  const exited = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { qr, started, exited };
}

function phone(who: keyof typeof phones, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AUTHENTICATOR_BIN, ...args, "--api", `${api.url}/graphql`, "--state", phones[who]], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function generated(): Promise<{ account: string; password: string; purpose: string }[]> {
  const text = await readFile(passwordsFile, "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

const currentPassword = async () => (await generated()).filter((entry) => entry.account === ACCOUNT).at(-1)!.password;

const START = `mutation($input: StartBreakGlassRevealInput!) { startBreakGlassReveal(input: $input) { __typename
  ... on StartBreakGlassRevealPayload { qrPayload redeemSecret challenge { id kind status } } ${ERRORS} } }`;
const REVEAL = `mutation($input: RevealBreakGlassPasswordInput!) { revealBreakGlassPassword(input: $input) { __typename
  ... on RevealBreakGlassPasswordPayload { account rotation password } ${ERRORS} } }`;

async function start(token: string, input: { workstationId: string; account: string }) {
  return (await api.gql(START, { input }, { token })).startBreakGlassReveal;
}

async function reveal(token: string, input: { workstationId: string; account: string; challengeId: string; redeemSecret: string }) {
  return (await api.gql(REVEAL, { input }, { token })).revealBreakGlassPassword;
}

const box = () => api.db.breakGlassPassword.findFirstOrThrow({ where: { workstationId } });

beforeAll(async () => {
  api = await Api.start();
  proxy = await TcpProxy.start(api.url);
  dir = await mkdtemp(join(tmpdir(), "latchkey-break-glass-"));
  statePath = join(dir, "workstation.json");
  passwordsFile = join(dir, "generated-passwords.jsonl");
  const s = seed(api);
  msp = await s.msp();
  otherMsp = await s.msp();
  customer = await msp.customer();
  otherCustomer = await otherMsp.customer();
  const desk = desktopSeed(api, msp, customer);
  const configured = await api.gql(
    `mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename ${ERRORS} } }`,
    { input: { tenantId: customer.id, sharedAccountName: ACCOUNT, maxSessionMinutes: 30, restartAfterSession: false } },
    { token: msp.token },
  );
  expect(configured.updateElevatedAccessSettings.__typename).toBe("UpdateElevatedAccessSettingsPayload");
  technician = await msp.technician();
  await msp.delegate(technician.id, customer.id);
  secondAdmin = await msp.admin();
  customerAdmin = await customer.admin();
  const mspAdmin: SeededUser = { id: msp.adminId, email: msp.adminEmail, username: "mspadmin", password: null, tenantSlug: msp.slug, token: async () => msp.token };
  for (const [who, user] of Object.entries({ mspAdmin, technician, secondAdmin })) {
    phones[who as keyof typeof phones] = join(dir, `${who}-phone.json`);
    await desk.phone(user, phones[who as keyof typeof phones]);
  }
  const token = await desk.installToken({ autoApprove: true });
  const enrolled = await runAgent(["enroll", "--token", token.secret, "--hostname", "RECEPTION-PC", "--os", "Windows 11 Pro"]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  workstationId = /workstation ([0-9a-f-]{36})/.exec(enrolled.stdout)![1]!;
  // Pinned at enrollment.
  const keyPair = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
  expect((await readStateFile(statePath)).elevation?.breakGlass).toMatchObject({ tenantPublicKey: keyPair.publicKey, tenantId: customer.id, rotations: {} });
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("break-glass passwords through the desktop agent and the authenticator", () => {
  it("the agent seals the account's password to its pinned tenant key at the session's start and again at its end, one box per account", async () => {
    const held = elevate(5);
    expect((await phone("mspAdmin", ["approve", await held.qr])).code).toBe(0);
    const sessionId = await held.started();
    const afterStart = await box();
    expect(afterStart).toMatchObject({ accountName: ACCOUNT, rotation: 1, tenantId: customer.id });

    const ended = await api.gql(`mutation($input: EndTechnicianSessionInput!) { endTechnicianSession(input: $input) { __typename ${ERRORS} } }`, { input: { id: sessionId } }, { token: msp.token });
    expect(ended.endTechnicianSession.__typename).toBe("EndTechnicianSessionPayload");
    const run = await held.exited;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("sealed and uploaded");

    const state = await readStateFile(statePath);
    const keyPair = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    expect(state.elevation!.breakGlass).toMatchObject({ tenantPublicKey: keyPair.publicKey, tenantId: customer.id, rotations: { latchkeyadmin: 2 }, pending: [] });
    expect(await api.db.breakGlassPassword.count({ where: { workstationId } })).toBe(1);
    const stored = await box();
    expect(stored.rotation).toBe(2);
    expect(stored.ciphertext).not.toBe(afterStart.ciphertext);
    const opened = await openBreakGlass({
      tenantPrivateKey: await api.app.services.tenantKeys.privateKey(api.db, customer.id),
      tenantId: customer.id,
      workstationId,
      account: ACCOUNT,
      rotation: 2,
      sealed: stored,
    });
    expect(opened).toBe(await currentPassword());
  });

  it("the box opens with neither another tenant's key nor altered associated data", async () => {
    const stored = await box();
    const key = await api.app.services.tenantKeys.privateKey(api.db, customer.id);
    const otherKey = await api.app.services.tenantKeys.privateKey(api.db, otherCustomer.id);
    const binding = { tenantId: customer.id, workstationId, account: ACCOUNT, rotation: stored.rotation, sealed: stored };
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: key })).resolves.toBe(await currentPassword());
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: otherKey })).rejects.toThrow();
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: key, rotation: stored.rotation - 1 })).rejects.toThrow();
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: key, workstationId: randomUUID() })).rejects.toThrow();
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: key, account: "OtherAdmin" })).rejects.toThrow();
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: otherKey, tenantId: otherCustomer.id })).rejects.toThrow();
  });

  it("an older rotation the agent still owes (a restored state file) never replaces the stored box", async () => {
    const stored = await box();
    const state = await readStateFile(statePath);
    const stale = { account: ACCOUNT, rotation: 1, sealed: { suite: stored.suite, enc: stored.enc, ciphertext: stored.ciphertext } };
    await writeStateFile(statePath, { ...state, elevation: { ...state.elevation!, breakGlass: { ...state.elevation!.breakGlass!, pending: [stale] } } });
    const service = await runAgent(["service", "--once"]);
    expect(service.code, service.stderr).toBe(0);
    expect(service.stderr).toContain("the API refused LatchkeyAdmin's sealed password");
    expect(await box()).toMatchObject({ rotation: stored.rotation, ciphertext: stored.ciphertext });
    expect((await readStateFile(statePath)).elevation!.breakGlass!.pending).toEqual([]);
  });

  it("a technician gets FORBIDDEN, a customer's admin and another MSP's admin NOT_FOUND exactly as for a random id, and nothing is started", async () => {
    const input = { workstationId, account: ACCOUNT };
    const before = await api.db.challenge.count({ where: { tenantId: { in: [msp.id, customer.id] } } });
    expect(await start(await technician.token(), input)).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    const missing = await start(msp.token, { workstationId: randomUUID(), account: ACCOUNT });
    expect(missing).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    for (const token of [await customerAdmin.token(), otherMsp.token]) {
      expect(await start(token, input)).toEqual(missing);
      expect(await start(token, { workstationId: randomUUID(), account: ACCOUNT })).toEqual(missing);
      expect(await reveal(token, { ...input, challengeId: randomUUID(), redeemSecret: "x" })).toEqual(await reveal(token, { workstationId: randomUUID(), account: ACCOUNT, challengeId: randomUUID(), redeemSecret: "x" }));
    }
    expect(await api.db.challenge.count({ where: { tenantId: { in: [msp.id, customer.id] } } })).toBe(before);
  });

  it("without the phone's approval nothing is revealed; another admin's phone cannot approve it", async () => {
    const started = await start(msp.token, { workstationId, account: ACCOUNT });
    expect(started).toMatchObject({ __typename: "StartBreakGlassRevealPayload", challenge: { kind: "BREAK_GLASS_REVEAL", status: "PENDING" } });
    const input = { workstationId, account: ACCOUNT, challengeId: started.challenge.id, redeemSecret: started.redeemSecret };
    const early = await reveal(msp.token, input);
    expect(early).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    expect(JSON.stringify(early)).not.toContain(await currentPassword());
    const otherPhone = await phone("secondAdmin", ["approve", started.qrPayload]);
    expect(otherPhone.code).toBe(1);
    expect(otherPhone.stderr).toContain("NOT_FOUND");
    expect(await reveal(await secondAdmin.token(), input)).toMatchObject({ __typename: "NotFoundError" });
    expect(await reveal(msp.token, { ...input, redeemSecret: "wrong" })).toMatchObject({ __typename: "NotFoundError" });
    expect((await api.db.challenge.findUniqueOrThrow({ where: { id: started.challenge.id } })).status).toBe("PENDING");
  });

  it("an MSP admin reveals the current password once with their phone's approval: audited, emailed to every admin, and the agent rotates it at its next contact", async () => {
    const password = await currentPassword();
    const started = await start(msp.token, { workstationId, account: ACCOUNT });
    const approved = await phone("mspAdmin", ["approve", started.qrPayload]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`reveal break-glass password for ${ACCOUNT} on RECEPTION-PC`);

    const input = { workstationId, account: ACCOUNT, challengeId: started.challenge.id, redeemSecret: started.redeemSecret };
    const revealed = await reveal(msp.token, input);
    expect(revealed).toMatchObject({ __typename: "RevealBreakGlassPasswordPayload", account: ACCOUNT, rotation: 2, password });
    expect(await reveal(msp.token, input)).toMatchObject({ __typename: "ConflictError" });

    const audit = await api.db.auditEvent.findFirstOrThrow({ where: { action: "elevation.breakGlassRevealed", targetId: workstationId } });
    expect(audit).toMatchObject({ tenantId: customer.id, actorId: msp.adminId });
    for (const address of [msp.adminEmail, secondAdmin.email]) {
      const mail = await api.waitForMail((text) => text.toLowerCase().includes(`to: ${address.toLowerCase()}`) && text.includes("Break-glass password revealed"), `reveal email to ${address}`);
      expect(mail).toContain(ACCOUNT);
      expect(mail).not.toContain(password);
    }
    const command = await api.db.workstationCommand.findFirstOrThrow({ where: { workstationId, kind: "ROTATE_ACCOUNT_PASSWORD" } });
    expect(command).toMatchObject({ accountName: ACCOUNT, acknowledgedAt: null });

    const service = await runAgent(["service", "--once"]);
    expect(service.code, service.stderr).toBe(0);
    expect(service.stdout).toContain("commands: 1");
    const account = findLocalAccount((await readStateFile(statePath)).localAccounts, ACCOUNT)!;
    expect(verifyLocalPassword(account, password)).toBe(false);
    const rotated = await currentPassword();
    expect(rotated).not.toBe(password);
    expect(verifyLocalPassword(account, rotated)).toBe(true);
    expect((await api.db.workstationCommand.findUniqueOrThrow({ where: { id: command.id } })).acknowledgedAt).not.toBeNull();
    const stored = await box();
    expect(stored.rotation).toBe(3);
    const opened = await openBreakGlass({ tenantPrivateKey: await api.app.services.tenantKeys.privateKey(api.db, customer.id), tenantId: customer.id, workstationId, account: ACCOUNT, rotation: 3, sealed: stored });
    expect(opened).toBe(rotated);
  });

  it("the agent refuses to seal to a tenant key its pinned statement does not vouch for: swapped, forged or rolled back", async () => {
    const original = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    const state = await readStateFile(statePath);
    const pin = state.elevation!.breakGlass!.tenantKeyPin!;
    expect(pin).toMatchObject({ tenantId: customer.id, epoch: 1, signingKey: original.signingPublicKey, publicKey: original.publicKey });
    const otherKey = (await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: otherCustomer.id } })).publicKey;
    const forger = generateKeyPairSync("ed25519");
    const forgedSigningKey = forger.publicKey.export({ format: "jwk" }).x!;
    const forged = tenantKeyStatement({ tenantId: customer.id, epoch: 1, publicKey: otherKey, signingKey: forgedSigningKey, custody: "ESCROW" });
    const cases = [
      // Someone with the database puts another key in the row: the stored signature no longer holds.
      { row: { publicKey: otherKey }, refusal: "not signed by the tenant's signing key" },
      // A server that signs afresh with a signing key of its own: it verifies, but is not the pinned one.
      {
        row: { publicKey: otherKey, signingPublicKey: forgedSigningKey, statementSignature: sign(null, Buffer.from(forged), forger.privateKey).toString("base64url") },
        refusal: "another signing key than the one seen before",
      },
      // The agent has seen epoch 2; the server answers epoch 1, as a restored backup would.
      { row: {}, pin: { ...pin, epoch: 2 }, refusal: "epoch 1 is older than epoch 2" },
    ];
    for (const { row, pin: statePin, refusal } of cases) {
      await api.db.tenantKeyPair.update({ where: { tenantId: customer.id }, data: row });
      if (statePin) {
        const current = await readStateFile(statePath);
        await writeStateFile(statePath, { ...current, elevation: { ...current.elevation!, breakGlass: { ...current.elevation!.breakGlass!, tenantKeyPin: statePin } } });
      }
      const before = await box();
      const command = await api.db.workstationCommand.create({ data: { tenantId: customer.id, workstationId, kind: "ROTATE_ACCOUNT_PASSWORD", accountName: ACCOUNT } });
      const service = await runAgent(["service", "--once"]);
      expect(service.code, service.stderr).toBe(0);
      expect(service.stderr).toContain(refusal);
      expect(await box()).toMatchObject({ rotation: before.rotation, ciphertext: before.ciphertext });
      // Back to the real key and pin for what follows.
      await api.db.tenantKeyPair.update({
        where: { tenantId: customer.id },
        data: { publicKey: original.publicKey, signingPublicKey: original.signingPublicKey, statementSignature: original.statementSignature },
      });
      const current = await readStateFile(statePath);
      await writeStateFile(statePath, { ...current, elevation: { ...current.elevation!, breakGlass: { ...current.elevation!.breakGlass!, tenantKeyPin: pin } } });
      await api.db.workstationCommand.delete({ where: { id: command.id } }).catch(() => undefined);
    }
    expect((await readStateFile(statePath)).elevation!.breakGlass).toMatchObject({ tenantPublicKey: original.publicKey, tenantKeyPin: pin });
  });

  it("the agent's passwords appear in no request it sent, no row and no log line", async () => {
    const passwords = (await generated()).map((entry) => entry.password);
    expect(passwords.length).toBeGreaterThanOrEqual(4);
    const traffic = proxy.traffic().toString("latin1");
    expect(traffic).toContain("uploadBreakGlassPassword");
    const tables = await api.db.$queryRawUnsafe<{ table_name: string }[]>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    const rows: string[] = [];
    for (const { table_name } of tables) {
      const dump = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      rows.push(...dump.map((entry) => entry.row));
    }
    expect(rows.join("\n")).toContain("elevation.breakGlassRevealed");
    const haystacks = { traffic, rows: rows.join("\n"), logs: api.logs.join("\n") };
    for (const password of passwords) {
      const encodings = [password, Buffer.from(password).toString("base64"), Buffer.from(password).toString("base64url"), Buffer.from(password).toString("hex"), JSON.stringify(password).slice(1, -1)];
      for (const [where, text] of Object.entries(haystacks)) {
        for (const encoded of encodings) expect(text.includes(encoded), `a generated password in ${where}`).toBe(false);
      }
    }
  });
});
