// The key-encryption key and what it wraps: each customer tenant's private key
// (its users' passwords are sealed to the public half, for QR logins) and the
// data keys that encrypt webhook signing secrets. No password is kept in a form
// the server opens without them. Checked on the raw rows of the real database
// behind the real API, and through the rewrap-keys command an operator runs.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TenantKeyring, decodeKeyEncryptionKey, openWebhookSecret, unwrapDataKey, unwrapTenantSigningKey, type KeyEncryptionKey } from "@latchkey/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.ts";
import { loadConfig, loadNewKeyEncryptionKey } from "../src/config.ts";
import { Api } from "./harness.ts";
import { passwordLogIn } from "./password-login.ts";
import { PASSWORD, seed } from "./seed.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const TSX_CLI = join(repoRoot, "node_modules/tsx/dist/cli.mjs");
const REWRAP = join(repoRoot, "api/src/commands/rewrap-keys.ts");

const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename
  ... on CreateWebhookPayload { secret webhook { id } } ... on Error { code message } } }`;

/** Webhooks to a closed loopback port: nothing is delivered, only their secrets matter here. */
const NO_RECEIVER = "http://127.0.0.1:9/hook";

/** A password strong enough to be accepted and unique enough to search the database for. */
function newPassword() {
  return `${PASSWORD}-${randomBytes(6).toString("hex")}`;
}

function newKey(prefix: string): KeyEncryptionKey & { encoded: string } {
  const key = randomBytes(32);
  return { id: `${prefix}-${randomBytes(4).toString("hex")}`, key, encoded: key.toString("base64") };
}

/** Every row of every table, as text: where a leaked secret would show up. */
async function everyRow(api: Api): Promise<string[]> {
  const tables = await api.db.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["Webhook", "TenantDataKey", "AuditEvent"]));
  const rows: string[] = [];
  for (const { table_name } of tables) {
    const found = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
    rows.push(...found.map((r) => r.row));
  }
  return rows;
}

async function createWebhook(api: Api, token: string, tenantId: string) {
  const { createWebhook } = await api.gql(CREATE_WEBHOOK, { input: { tenantId, url: NO_RECEIVER, events: ["AUDIT_EVENT"] } }, { token });
  if (createWebhook.__typename !== "CreateWebhookPayload") throw new Error(`createWebhook failed: ${JSON.stringify(createWebhook)}`);
  return createWebhook as { secret: string; webhook: { id: string } };
}

/** The secret as the API would open it to sign a delivery. */
async function openedSecret(api: Api, keyring: TenantKeyring, webhookId: string) {
  const row = await api.db.webhook.findUniqueOrThrow({ where: { id: webhookId } });
  const dataKey = (await keyring.existingDataKey(api.db, row.tenantId))!;
  return openWebhookSecret(dataKey, row.tenantId, row.id, row.secretCiphertext);
}

describe("tenant data keys", () => {
  let api: Api;
  beforeAll(async () => {
    api = await Api.start({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "1" });
  });
  afterAll(() => api?.stop());

  const keyring = () => api.app.services.keyring;

  it("keep a webhook's signing secret only encrypted, opening with its own tenant's key and webhook id", async () => {
    const msp = await seed(api).msp();
    const [contoso, fabrikam] = [await msp.customer(), await msp.customer()];
    const first = await createWebhook(api, msp.token, contoso.id);
    const second = await createWebhook(api, msp.token, contoso.id);
    const elsewhere = await createWebhook(api, msp.token, fabrikam.id);

    const rows = await everyRow(api);
    for (const { secret } of [first, second, elsewhere]) {
      const forms = [secret, secret.slice("whsec_".length), Buffer.from(secret.slice("whsec_".length), "base64").toString("hex")];
      for (const form of forms) expect(rows.filter((row) => row.includes(form))).toEqual([]);
    }
    expect(await openedSecret(api, keyring(), first.webhook.id)).toBe(first.secret);
    expect(await openedSecret(api, keyring(), elsewhere.webhook.id)).toBe(elsewhere.secret);

    // Under another tenant's key, or moved to another webhook, a ciphertext does not open.
    const row = await api.db.webhook.findUniqueOrThrow({ where: { id: first.webhook.id } });
    const fabrikamKey = (await keyring().existingDataKey(api.db, fabrikam.id))!;
    const contosoKey = (await keyring().existingDataKey(api.db, contoso.id))!;
    expect(fabrikamKey.equals(contosoKey)).toBe(false);
    expect(() => openWebhookSecret(fabrikamKey, contoso.id, first.webhook.id, row.secretCiphertext)).toThrow(/does not open/);
    expect(() => openWebhookSecret(contosoKey, contoso.id, second.webhook.id, row.secretCiphertext)).toThrow(/does not open/);
  });

  it("are made once per tenant, however many instances race to make one", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    expect(await api.db.tenantDataKey.findUnique({ where: { tenantId: contoso.id } })).toBeNull();
    const keys = await Promise.all(Array.from({ length: 8 }, () => keyring().dataKeyFor(api.db, contoso.id)));
    for (const key of keys) expect(key.equals(keys[0]!)).toBe(true);
    expect(await api.db.tenantDataKey.count({ where: { tenantId: contoso.id } })).toBe(1);

    const fabrikam = await msp.customer();
    const hooks = await Promise.all(Array.from({ length: 4 }, () => createWebhook(api, msp.token, fabrikam.id)));
    expect(await api.db.tenantDataKey.count({ where: { tenantId: fabrikam.id } })).toBe(1);
    for (const hook of hooks) expect(await openedSecret(api, keyring(), hook.webhook.id)).toBe(hook.secret);
  });

  it("are never made for a password: passwords are OPAQUE records, and a customer's are sealed to its key pair", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const user = await contoso.user({ password: newPassword() });
    const technician = await msp.technician();
    expect(await api.db.tenantDataKey.count({ where: { tenantId: { in: [contoso.id, msp.id] } } })).toBe(0);
    const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row).toMatchObject({ opaqueRecord: expect.any(String), sealedPassword: expect.objectContaining({ ciphertext: expect.any(String) }) });
    expect(await api.app.services.tenantKeys.openPassword(api.db, { ...row, opaqueRecord: row.opaqueRecord!, sealedPassword: row.sealedPassword as never })).toBe(user.password);
    // MSP users' passwords are never sealed: nothing on the server opens them.
    expect(await api.db.user.findUniqueOrThrow({ where: { id: technician.id } })).toMatchObject({ opaqueRecord: expect.any(String), sealedPassword: null });
  });
});

describe("the key-encryption key", () => {
  it("is required on PostgreSQL: the API refuses to start without one", async () => {
    const postgres = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/latchkey", DATA_DIR: tmpdir() };
    expect(() => loadConfig(postgres)).toThrow(/KEY_ENCRYPTION_KEY is required when DATABASE_URL is set/);
    expect(() => loadConfig({ ...postgres, KEY_ENCRYPTION_KEY: "" })).toThrow(/every instance/);
    // Nor does a hand-made configuration get past buildApp, before any connection is opened.
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-kek-"));
    const embedded = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" });
    await expect(buildApp({ ...embedded, databaseUrl: "postgresql://postgres@127.0.0.1:1/none" })).rejects.toThrow(/KEY_ENCRYPTION_KEY/);
    await rm(dataDir, { recursive: true, force: true });

    const key = randomBytes(32).toString("base64");
    expect(loadConfig({ ...postgres, KEY_ENCRYPTION_KEY: key }).keyEncryptionKey).toEqual({ id: "k1", key: Buffer.from(key, "base64") });
    expect(loadConfig({ ...postgres, KEY_ENCRYPTION_KEY: key, KEY_ENCRYPTION_KEY_ID: "2026-11" }).keyEncryptionKey?.id).toBe("2026-11");
    expect(() => loadConfig({ ...postgres, KEY_ENCRYPTION_KEY: randomBytes(16).toString("base64") })).toThrow(/KEY_ENCRYPTION_KEY: must be base64 of exactly 32 bytes/);
    expect(() => loadConfig({ ...postgres, KEY_ENCRYPTION_KEY: "not base64 at all, not even close......!!=" })).toThrow(/KEY_ENCRYPTION_KEY/);
    expect(() => loadConfig({ ...postgres, KEY_ENCRYPTION_KEY: key, KEY_ENCRYPTION_KEY_ID: "has space" })).toThrow(/KEY_ENCRYPTION_KEY_ID/);
  });

  it("is generated under DATA_DIR for the embedded default (mode 0600) and reused on restart", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-kek-"));
    const embedded = { DATA_DIR: dataDir, DATABASE_URL: "", KEY_ENCRYPTION_KEY: "", KEY_ENCRYPTION_KEY_ID: "" };
    try {
      let api = await Api.start(embedded);
      const file = join(dataDir, "secrets", "key-encryption.key");
      const generated = await readFile(file, "utf8");
      expect(decodeKeyEncryptionKey(generated)).toHaveLength(32);
      expect((await stat(file)).mode & 0o777).toBe(0o600);

      const msp = await seed(api).msp();
      const contoso = await msp.customer();
      const password = newPassword();
      const user = await contoso.user({ password });
      expect((await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: contoso.id } })).keyId).toBe("local-1");
      await api.stop();

      api = await Api.start(embedded);
      try {
        expect(await readFile(file, "utf8")).toBe(generated);
        const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
        expect(await api.app.services.tenantKeys.openPassword(api.db, { ...row, opaqueRecord: row.opaqueRecord!, sealedPassword: row.sealedPassword as never })).toBe(password);
        expect((await passwordLogIn(api, { tenant: contoso.slug, login: user.email, password })).outcome).toBe("AuthPayload");
      } finally {
        await api.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("rewrap-keys", () => {
  /** Runs the command as an operator would, on the test's database. */
  async function rewrap(env: Record<string, string>) {
    const result = await run(process.execPath, [TSX_CLI, REWRAP], {
      cwd: join(repoRoot, "api"),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
        ...env,
      },
      timeout: 120_000,
    }).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ failed: error.code ?? 1, stdout: error.stdout ?? "", stderr: error.stderr ?? "" }));
    return { code: "failed" in result ? result.failed : 0, stdout: result.stdout, stderr: result.stderr };
  }

  it("needs the new key and its own key id", () => {
    expect(() => loadNewKeyEncryptionKey({})).toThrow(/NEW_KEY_ENCRYPTION_KEY: .*NEW_KEY_ENCRYPTION_KEY_ID: /);
    expect(() => loadNewKeyEncryptionKey({ NEW_KEY_ENCRYPTION_KEY: "c2hvcnQ=", NEW_KEY_ENCRYPTION_KEY_ID: "k2" })).toThrow(/32 bytes/);
    const key = randomBytes(32);
    expect(loadNewKeyEncryptionKey({ NEW_KEY_ENCRYPTION_KEY: key.toString("base64"), NEW_KEY_ENCRYPTION_KEY_ID: "k2" })).toEqual({ id: "k2", key });
  });

  // Slow by nature: two API starts and two runs of the command, each opening the database afresh.
  it("moves every wrapped key to the new key-encryption key; the old one no longer opens them, sealed passwords and webhook secrets still do", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-rewrap-"));
    // Own key ids: on a PostgreSQL database shared with other test files, only this test's keys carry them.
    const old = newKey("old");
    const next = newKey("new");
    try {
      const settings = { DATA_DIR: dataDir, WEBHOOK_ALLOW_PRIVATE_TARGETS: "1" };
      let api = await Api.start({ ...settings, KEY_ENCRYPTION_KEY: old.encoded, KEY_ENCRYPTION_KEY_ID: old.id });
      const msp = await seed(api).msp();
      const customers = [await msp.customer(), await msp.customer()];
      // Each customer: a password sealed to its key pair, and a webhook whose secret its data key encrypts.
      const users = [await customers[0]!.user({ password: newPassword() }), await customers[1]!.user({ password: newPassword() })];
      const hooks = [await createWebhook(api, msp.token, customers[0]!.id), await createWebhook(api, msp.token, customers[1]!.id)];
      const before = await api.db.tenantDataKey.findMany({ where: { tenantId: { in: customers.map((c) => c.id) } } });
      expect(before.map((k) => k.keyId)).toEqual([old.id, old.id]);
      const pairsBefore = await api.db.tenantKeyPair.findMany({ where: { tenantId: { in: customers.map((c) => c.id) } } });
      expect(pairsBefore.map((k) => k.keyId)).toEqual([old.id, old.id]);
      // The embedded database belongs to one process at a time: the operator stops the API first.
      await api.stop();

      const rotation = {
        DATA_DIR: dataDir,
        KEY_ENCRYPTION_KEY: old.encoded,
        KEY_ENCRYPTION_KEY_ID: old.id,
        NEW_KEY_ENCRYPTION_KEY: next.encoded,
        NEW_KEY_ENCRYPTION_KEY_ID: next.id,
      };
      const first = await rewrap(rotation);
      expect(first, first.stderr).toMatchObject({ code: 0 });
      // Both kinds of key: the tenants' key pairs and their data keys.
      expect(first.stdout.match(/^rewrapped: 2$/gm)).toHaveLength(2);
      expect(first.stdout).toMatch(/^failed: 0$/m);
      // A second run finds nothing left to do.
      const again = await rewrap(rotation);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^rewrapped: 0$/m);
      expect(again.stdout).toMatch(new RegExp(`^already under "${next.id}": 2$`, "m"));

      api = await Api.start({ ...settings, KEY_ENCRYPTION_KEY: next.encoded, KEY_ENCRYPTION_KEY_ID: next.id });
      try {
        for (const pair of await api.db.tenantKeyPair.findMany({ where: { tenantId: { in: customers.map((c) => c.id) } } })) {
          const previous = pairsBefore.find((k) => k.tenantId === pair.tenantId)!;
          expect(pair).toMatchObject({ keyId: next.id, publicKey: previous.publicKey, signingPublicKey: previous.signingPublicKey, rotatedAt: expect.any(Date) });
          // The escrowed signing key moved with the private key: the same key, under the new key-encryption key only.
          expect(previous.wrappedSigningKey).toBeTruthy();
          expect(() => unwrapTenantSigningKey(old, pair.tenantId, pair.wrappedSigningKey!)).toThrow();
          expect(unwrapTenantSigningKey(next, pair.tenantId, pair.wrappedSigningKey!).equals(unwrapTenantSigningKey(old, pair.tenantId, previous.wrappedSigningKey!))).toBe(true);
        }
        const { tenantKeys, keyring } = api.app.services;
        for (const [index, customer] of customers.entries()) {
          const user = await api.db.user.findUniqueOrThrow({ where: { id: users[index]!.id } });
          expect(await tenantKeys.openPassword(api.db, { ...user, opaqueRecord: user.opaqueRecord!, sealedPassword: user.sealedPassword as never })).toBe(users[index]!.password);
          const row = await api.db.tenantDataKey.findUniqueOrThrow({ where: { tenantId: customer.id } });
          const previous = before.find((k) => k.tenantId === customer.id)!;
          expect(row).toMatchObject({ keyId: next.id, rotatedAt: expect.any(Date), createdAt: previous.createdAt });
          expect(() => unwrapDataKey(old, customer.id, row.wrappedKey)).toThrow();
          // The data key is the same one, now wrapped under the new key.
          expect(unwrapDataKey(next, customer.id, row.wrappedKey).equals(unwrapDataKey(old, customer.id, previous.wrappedKey))).toBe(true);
          await expect(new TenantKeyring(old).existingDataKey(api.db, customer.id)).rejects.toThrow(/wrapped under key-encryption key "new-/);
          expect(await openedSecret(api, keyring, hooks[index]!.webhook.id)).toBe(hooks[index]!.secret);
          expect((await passwordLogIn(api, { tenant: customer.slug, login: users[index]!.email, password: users[index]!.password! })).outcome).toBe("AuthPayload");
        }
      } finally {
        await api.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
