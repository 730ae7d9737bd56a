// Restoring the database from a backup brings back what was revoked after it:
// `npm run post-restore` re-applies those revocations from the instances'
// revocation journals (outside the database) and marks every master key
// rotation due. Here a real backup is taken and restored: a copy of the
// embedded database's folder (the API stopped), or on PostgreSQL a database of
// this test's own copied with CREATE DATABASE … TEMPLATE.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FreshDatabase, withClient } from "@latchkey/db/fresh-database";
import { createServerSetup } from "@latchkey/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { adminPhone, PASSWORD, seed } from "./seed.ts";

const DATABASE_URL = process.env.DATABASE_URL;
const apiRoot = fileURLToPath(new URL("../", import.meta.url));
const TSX_CLI = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

function postRestore(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX_CLI, "src/commands/post-restore.ts"], {
      cwd: apiRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Takes and restores backups of this test's database: the embedded one's folder, or a PostgreSQL database of its own. */
type Backups = { env: Record<string, string>; take(): Promise<void>; restore(): Promise<void>; dispose(): Promise<void> };

async function embeddedBackups(dataDir: string): Promise<Backups> {
  const copy = await mkdtemp(join(tmpdir(), "latchkey-backup-"));
  return {
    // Generated keys under DATA_DIR/secrets; the journal in DATA_DIR/revocations.
    env: { DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", KEY_ENCRYPTION_KEY: "", KEY_ENCRYPTION_KEY_ID: "", EMAIL_CODE_KEY: "", OPAQUE_SERVER_SETUP: "", LOGIN_STATE_KEY: "", DEVICE_COOKIE_KEY: "" },
    take: () => cp(join(dataDir, "pglite"), join(copy, "pglite"), { recursive: true }),
    // Only the database: the secrets and the journal stay as they are.
    async restore() {
      await rm(join(dataDir, "pglite"), { recursive: true, force: true });
      await cp(join(copy, "pglite"), join(dataDir, "pglite"), { recursive: true });
    },
    dispose: () => rm(copy, { recursive: true, force: true }),
  };
}

async function postgresBackups(dataDir: string, databaseUrl: string): Promise<Backups> {
  const database = await FreshDatabase.create(databaseUrl, "restore");
  const { name } = database;
  const admin = (sql: string) => withClient(databaseUrl, async (client) => void (await client.query(sql)));
  return {
    env: {
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      REDIS_URL: "",
      JOB_QUEUE_SCHEMA: "pgboss",
      KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      KEY_ENCRYPTION_KEY_ID: "restore",
      EMAIL_CODE_KEY: randomBytes(32).toString("base64"),
      DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
      LOGIN_STATE_KEY: randomBytes(32).toString("base64"),
      LOG_PSEUDONYM_KEY: randomBytes(32).toString("base64"),
      // A database of its own accepts any setup.
      OPAQUE_SERVER_SETUP: await createServerSetup(),
    },
    take: () => admin(`CREATE DATABASE "${name}_backup" TEMPLATE "${name}"`),
    async restore() {
      await admin(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin(`CREATE DATABASE "${name}" TEMPLATE "${name}_backup"`);
    },
    async dispose() {
      await database.drop();
      await admin(`DROP DATABASE IF EXISTS "${name}_backup" WITH (FORCE)`);
    },
  };
}

const VIEWER = `{ viewer { user { id } } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename
  ... on CreateApiKeyPayload { apiKey key { id } } ... on Error { code message } } }`;
const USERS = `query($t: ID!) { users(tenantId: $t) { totalCount } }`;
const MASTER_KEY = `query($id: ID!) { tenant(id: $id) { masterKey { on rotationDue } customersDueForRotation } }`;

async function createKey(server: Api, token: string, tenantId: string): Promise<{ apiKey: string; key: { id: string } }> {
  const { createApiKey } = await server.gql(CREATE_KEY, { input: { name: "directory sync", tenantId, permissions: ["READ_DIRECTORY"] } }, { token });
  if (createApiKey.__typename !== "CreateApiKeyPayload") throw new Error(`createApiKey failed: ${JSON.stringify(createApiKey)}`);
  return createApiKey;
}

let dataDir: string;
let backups: Backups;
let api: Api | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "latchkey-restore-"));
  backups = DATABASE_URL ? await postgresBackups(dataDir, DATABASE_URL) : await embeddedBackups(dataDir);
});

afterAll(async () => {
  await api?.stop();
  await backups?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

describe("post-restore", () => {
  it("re-applies the revocations a restored backup lost, marks master keys rotation due, leaves the rest alone, and a second run changes nothing", async () => {
    api = await Api.start(backups.env);
    // MSP A: a customer with its master key on, a second session of its admin, an API key, a workstation, the admin's phone.
    const a = await seed(api).msp();
    const held = await a.customer();
    // Turned on as the master-key flow leaves the key row (its holders' copies aside): the mark is what is tested here.
    await api.db.tenantKeyPair.update({ where: { tenantId: held.id }, data: { custody: "MASTER_KEY" } });
    const session = await seed(api).logIn(a.slug, a.adminEmail, PASSWORD);
    const sessionId = (await api.db.session.findFirstOrThrow({ where: { userId: a.adminId }, orderBy: { createdAt: "desc" } })).id;
    const key = await createKey(api, a.token, held.id);
    const workstation = await desktopSeed(api, a, held).workstation();
    const phone = await adminPhone(api, a);
    // MSP B, whose rows nobody touches: the same kinds of things, and a customer in escrow.
    const b = await seed(api).msp();
    const escrow = await b.customer();
    const bSession = await seed(api).logIn(b.slug, b.adminEmail, PASSWORD);
    const bKey = await createKey(api, b.token, escrow.id);
    const bWorkstation = await desktopSeed(api, b, escrow).workstation();
    const bPhone = await adminPhone(api, b);
    expect((await api.gql(MASTER_KEY, { id: held.id }, { token: a.token })).tenant.masterKey).toEqual({ on: true, rotationDue: false });
    await api.stop();
    api = undefined;

    await backups.take();

    // After the backup: A's session, API key, workstation and phone are revoked.
    api = await Api.start(backups.env);
    const revoke = async (query: string, input: Record<string, unknown>, field: string) => {
      const data = await api!.gql(query, { input }, { token: a.token });
      expect(data[field].__typename, JSON.stringify(data[field])).not.toMatch(/Error$/);
    };
    await revoke(`mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { __typename ... on Error { code } } }`, { id: sessionId }, "revokeSession");
    await revoke(`mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ... on Error { code } } }`, { id: key.key.id }, "revokeApiKey");
    await revoke(`mutation($input: RemoveWorkstationInput!) { removeWorkstation(input: $input) { __typename ... on Error { code } } }`, { id: workstation.workstationId }, "removeWorkstation");
    await revoke(`mutation($input: RevokeAuthenticatorInput!) { revokeAuthenticator(input: $input) { __typename ... on Error { code } } }`, { id: phone.deviceId }, "revokeAuthenticator");
    expect((await api.gql(VIEWER, {}, { token: session })).viewer).toBeNull();
    await api.stop();
    api = undefined;

    // The journal holds ids and times, never a token.
    const journalDir = join(dataDir, "revocations");
    const journal = (await Promise.all((await readdir(journalDir)).map((file) => readFile(join(journalDir, file), "utf8")))).join("");
    expect(journal.trim().split("\n").map((line) => JSON.parse(line) as { kind: string; id: string })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "session", id: sessionId }),
        expect.objectContaining({ kind: "apiKey", id: key.key.id }),
        expect.objectContaining({ kind: "workstation", id: workstation.workstationId }),
        expect.objectContaining({ kind: "authenticator", id: phone.deviceId }),
      ]),
    );
    for (const secret of [session, key.apiKey, a.token, phone.deviceToken!]) expect(journal).not.toContain(secret);

    await backups.restore();
    const first = await postRestore(backups.env);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/^sessions: 1 revoked again, 0 already so, 0 not in the database$/m);
    expect(first.output).toMatch(/^API keys: 1 revoked again, 0 already so, 0 not in the database$/m);
    expect(first.output).toMatch(/^workstations: 1 removed again, 0 already so, 0 not in the database$/m);
    expect(first.output).toMatch(/^phones: 1 revoked again, 0 already so, 0 not in the database$/m);
    expect(first.output).toMatch(/^master keys: 1 marked rotation due, 0 already marked$/m);

    api = await Api.start(backups.env);
    // What was revoked after the backup is revoked again.
    expect((await api.gql(VIEWER, {}, { token: session })).viewer).toBeNull();
    expect((await api.request(USERS, { t: held.id }, { token: key.apiKey })).body.data?.users ?? null).toBeNull();
    expect(await api.db.workstation.findUnique({ where: { id: workstation.workstationId! } })).toBeNull();
    expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: phone.deviceId! } })).revokedAt).not.toBeNull();
    // Each is on the tenant's audit log again, saying so.
    const events = await api.db.auditEvent.findMany({ where: { data: { path: ["reappliedAfterRestore"], equals: true } }, orderBy: { action: "asc" } });
    expect(events.map((event) => [event.action, event.targetId])).toEqual([
      ["apiKey.revoked", key.key.id],
      ["authenticator.revoked", phone.deviceId],
      ["session.revoked", sessionId],
      ["workstation.removed", workstation.workstationId],
    ]);
    // The customer with the master key on is due a rotation; the one in escrow is not.
    expect((await api.gql(MASTER_KEY, { id: held.id }, { token: a.token })).tenant.masterKey).toEqual({ on: true, rotationDue: true });
    expect((await api.gql(MASTER_KEY, { id: a.id }, { token: a.token })).tenant.customersDueForRotation).toBe(1);
    expect((await api.gql(MASTER_KEY, { id: escrow.id }, { token: b.token })).tenant.masterKey).toEqual({ on: false, rotationDue: false });
    // B's rows are as they were.
    expect((await api.gql(VIEWER, {}, { token: bSession })).viewer).not.toBeNull();
    expect((await api.gql(USERS, { t: escrow.id }, { token: bKey.apiKey })).users).not.toBeNull();
    expect(await api.db.workstation.findUnique({ where: { id: bWorkstation.workstationId! } })).not.toBeNull();
    expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: bPhone.deviceId! } })).revokedAt).toBeNull();
    const audited = await api.db.auditEvent.count();
    await api.stop();
    api = undefined;

    const second = await postRestore(backups.env);
    expect(second.code, second.output).toBe(0);
    for (const label of ["sessions", "API keys", "phones"]) expect(second.output).toMatch(new RegExp(`^${label}: 0 revoked again, 1 already so`, "m"));
    expect(second.output).toMatch(/^workstations: 0 removed again, 0 already so, 1 not in the database$/m);
    expect(second.output).toMatch(/^master keys: 0 marked rotation due, 1 already marked$/m);
    api = await Api.start(backups.env);
    expect(await api.db.auditEvent.count()).toBe(audited);
    expect(await api.db.tenantKeyRotationDue.count()).toBe(1);
  }, 300_000);
});
