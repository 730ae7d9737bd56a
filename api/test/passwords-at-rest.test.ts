// Customer directory passwords set through the deprecated clear-password
// operations (still used by the portal) kept reversibly for workstations:
// AES-256-GCM under a per-tenant data key, itself wrapped by the key-encryption
// key. Checked on the raw rows of the real database behind the real API.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  TenantKeyring,
  decodeKeyEncryptionKey,
  decryptPassword,
  passwordAssociatedData,
  unwrapDataKey,
  type KeyEncryptionKey,
} from "@latchkey/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.ts";
import { loadConfig, loadNewKeyEncryptionKey } from "../src/config.ts";
import { Api } from "./harness.ts";
import { PASSWORD, seed } from "./seed.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const TSX_CLI = join(repoRoot, "node_modules/tsx/dist/cli.mjs");
const REWRAP = join(repoRoot, "api/src/commands/rewrap-keys.ts");

const SET_PASSWORD = `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename
  ... on SetUserPasswordPayload { user { id } } ... on Error { code message } } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { __typename ... on AuthPayload { token } ... on Error { code message } } }`;

/** A password strong enough to be accepted and unique enough to search the database for. */
function newPassword() {
  return `${PASSWORD}-${randomBytes(6).toString("hex")}`;
}

function newKey(prefix: string): KeyEncryptionKey & { encoded: string } {
  const key = randomBytes(32);
  return { id: `${prefix}-${randomBytes(4).toString("hex")}`, key, encoded: key.toString("base64") };
}

/** Every row of every table, as text: where a leaked password would show up. */
async function everyRow(api: Api): Promise<string[]> {
  const tables = await api.db.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["User", "TenantDataKey", "AuditEvent"]));
  const rows: string[] = [];
  for (const { table_name } of tables) {
    const found = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
    rows.push(...found.map((r) => r.row));
  }
  return rows;
}

function expectNowhere(haystack: string[], password: string) {
  const forms = [password, Buffer.from(password).toString("base64"), Buffer.from(password).toString("hex")];
  for (const form of forms) expect(haystack.filter((text) => text.includes(form))).toEqual([]);
}

async function setPassword(api: Api, token: string, input: Record<string, unknown>) {
  const { setUserPassword } = await api.gql(SET_PASSWORD, { input }, { token });
  expect(setUserPassword.__typename).toBe("SetUserPasswordPayload");
}

async function logIn(api: Api, tenant: string, login: string, password: string) {
  return (await api.gql(LOG_IN, { input: { tenant, login, password } })).logIn as { __typename: string; token?: string };
}

describe("customer passwords at rest", () => {
  let api: Api;
  beforeAll(async () => {
    api = await Api.start();
  });
  afterAll(() => api?.stop());

  const vault = () => api.app.services.vault;

  it("stores no plaintext password in any table or log line: a hash, and ciphertext for customer users", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const created = newPassword();
    const user = await contoso.user({ password: created, clearPassword: true });
    const changed = newPassword();
    const other = await contoso.user({ clearPassword: true });
    await setPassword(api, msp.token, { userId: other.id, password: changed });
    expect((await logIn(api, contoso.slug, user.email, created)).__typename).toBe("AuthPayload");
    expect((await logIn(api, contoso.slug, other.email, changed)).__typename).toBe("AuthPayload");

    const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordCiphertext).toEqual(expect.any(String));
    const tenantKey = await api.db.tenantDataKey.findUniqueOrThrow({ where: { tenantId: contoso.id } });
    expect(tenantKey.keyId).toBe(vault().keyring.keyId);
    // The data key itself is stored only wrapped.
    const dataKey = (await vault().keyring.existingDataKey(api.db, contoso.id))!;
    expect(tenantKey.wrappedKey).not.toContain(dataKey.toString("base64"));

    const rows = await everyRow(api);
    expectNowhere(rows, created);
    expectNowhere(rows, changed);
    expectNowhere(rows, dataKey.toString("base64"));
    expectNowhere(api.logs, created);
    expectNowhere(api.logs, changed);
  });

  it("opens only with the tenant's key, the user's id and the current password version", async () => {
    const msp = await seed(api).msp();
    const [contoso, fabrikam] = [await msp.customer(), await msp.customer()];
    const [first, second, elsewhere] = [newPassword(), newPassword(), newPassword()];
    const a1 = await contoso.user({ password: first, clearPassword: true });
    const a2 = await contoso.user({ password: second, clearPassword: true });
    const b1 = await fabrikam.user({ password: elsewhere, clearPassword: true });

    expect(await vault().revealPassword(api.db, a1.id)).toBe(first);
    expect(await vault().revealPassword(api.db, a2.id)).toBe(second);
    expect(await vault().revealPassword(api.db, b1.id)).toBe(elsewhere);

    const row = await api.db.user.findUniqueOrThrow({ where: { id: a1.id } });
    const contosoKey = (await vault().keyring.existingDataKey(api.db, contoso.id))!;
    const fabrikamKey = (await vault().keyring.existingDataKey(api.db, fabrikam.id))!;
    expect(contosoKey.equals(fabrikamKey)).toBe(false);
    const ciphertext = row.passwordCiphertext!;
    const version = row.passwordVersion;
    expect(decryptPassword(contosoKey, ciphertext, passwordAssociatedData(contoso.id, a1.id, version))).toBe(first);
    expect(() => decryptPassword(fabrikamKey, ciphertext, passwordAssociatedData(contoso.id, a1.id, version))).toThrow();
    expect(() => decryptPassword(contosoKey, ciphertext, passwordAssociatedData(contoso.id, a2.id, version))).toThrow();
    expect(() => decryptPassword(contosoKey, ciphertext, passwordAssociatedData(contoso.id, a1.id, version + 1))).toThrow();
    expect(() => decryptPassword(contosoKey, ciphertext, passwordAssociatedData(fabrikam.id, a1.id, version))).toThrow();

    // Ciphertexts swapped between two users of one tenant, or copied to another tenant, do not open.
    const second_ = (await api.db.user.findUniqueOrThrow({ where: { id: a2.id } })).passwordCiphertext!;
    const third_ = (await api.db.user.findUniqueOrThrow({ where: { id: b1.id } })).passwordCiphertext!;
    await api.db.user.update({ where: { id: a1.id }, data: { passwordCiphertext: second_ } });
    await api.db.user.update({ where: { id: a2.id }, data: { passwordCiphertext: ciphertext } });
    await api.db.user.update({ where: { id: b1.id }, data: { passwordCiphertext: ciphertext } });
    await expect(vault().revealPassword(api.db, a1.id)).rejects.toThrow(/does not open/);
    await expect(vault().revealPassword(api.db, a2.id)).rejects.toThrow(/does not open/);
    await expect(vault().revealPassword(api.db, b1.id)).rejects.toThrow(/does not open/);
    await api.db.user.update({ where: { id: a1.id }, data: { passwordCiphertext: ciphertext } });
    await api.db.user.update({ where: { id: a2.id }, data: { passwordCiphertext: second_ } });
    await api.db.user.update({ where: { id: b1.id }, data: { passwordCiphertext: third_ } });
    expect(await vault().revealPassword(api.db, b1.id)).toBe(elsewhere);
  });

  it("never keeps an MSP user's password reversibly", async () => {
    const msp = await seed(api).msp();
    const technician = await msp.technician();
    const changed = newPassword();
    await setPassword(api, msp.token, { userId: technician.id, password: changed });
    expect((await logIn(api, msp.slug, technician.email, changed)).__typename).toBe("AuthPayload");

    const users = await api.db.user.findMany({ where: { tenantId: msp.id } });
    expect(users).toHaveLength(2);
    for (const user of users) {
      expect(user.passwordHash !== null || user.opaqueRecord !== null).toBe(true);
      expect(user.passwordCiphertext).toBeNull();
      expect(user.sealedPassword).toBeNull();
    }
    expect(await api.db.tenantDataKey.findUnique({ where: { tenantId: msp.id } })).toBeNull();
    expect(await vault().revealPassword(api.db, technician.id)).toBeNull();
  });

  it("a new password bumps the version and replaces the ciphertext", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const user = await contoso.user({ clearPassword: true });
    const before = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(before.passwordVersion).toBe(1);

    const byAdmin = newPassword();
    await setPassword(api, msp.token, { userId: user.id, password: byAdmin });
    const after = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(after.passwordVersion).toBe(2);
    expect(after.passwordCiphertext).not.toBe(before.passwordCiphertext);
    expect(await vault().revealPassword(api.db, user.id)).toBe(byAdmin);
    // The old ciphertext cannot pass for the new version.
    const dataKey = (await vault().keyring.existingDataKey(api.db, contoso.id))!;
    expect(() => decryptPassword(dataKey, before.passwordCiphertext!, passwordAssociatedData(contoso.id, user.id, 2))).toThrow();

    const bySelf = newPassword();
    const token = (await logIn(api, contoso.slug, user.email, byAdmin)).token!;
    await setPassword(api, token, { userId: user.id, password: bySelf, currentPassword: byAdmin });
    const changed = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(changed.passwordVersion).toBe(3);
    expect(await vault().revealPassword(api.db, user.id)).toBe(bySelf);
    expect((await logIn(api, contoso.slug, user.email, bySelf)).__typename).toBe("AuthPayload");
  });

  it("captures a password set before passwords were kept at its next successful log in", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const password = newPassword();
    const user = await contoso.user({ password, clearPassword: true });
    // As a row written before this feature: a hash and no ciphertext.
    await api.db.user.update({ where: { id: user.id }, data: { passwordCiphertext: null } });

    expect((await logIn(api, contoso.slug, user.email, `${password}-wrong`)).__typename).toBe("UnauthenticatedError");
    expect((await api.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordCiphertext).toBeNull();

    expect((await logIn(api, contoso.slug, user.username, password)).__typename).toBe("AuthPayload");
    const captured = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(captured.passwordCiphertext).toEqual(expect.any(String));
    expect(captured.passwordVersion).toBe(1);
    expect(await vault().revealPassword(api.db, user.id)).toBe(password);
    expectNowhere(await everyRow(api), password);

    // A passwordless customer user has nothing to keep.
    const phoneOnly = await contoso.user({ password: null });
    expect((await api.db.user.findUniqueOrThrow({ where: { id: phoneOnly.id } })).passwordCiphertext).toBeNull();
  });

  it("creates one data key per tenant, however many instances race to create it", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    expect(await api.db.tenantDataKey.findUnique({ where: { tenantId: contoso.id } })).toBeNull();
    const keys = await Promise.all(Array.from({ length: 8 }, () => vault().keyring.dataKeyFor(api.db, contoso.id)));
    for (const key of keys) expect(key.equals(keys[0]!)).toBe(true);
    expect(await api.db.tenantDataKey.count({ where: { tenantId: contoso.id } })).toBe(1);

    const fabrikam = await msp.customer();
    const users = await Promise.all(Array.from({ length: 4 }, () => fabrikam.user({ clearPassword: true })));
    expect(await api.db.tenantDataKey.count({ where: { tenantId: fabrikam.id } })).toBe(1);
    for (const user of users) expect(await vault().revealPassword(api.db, user.id)).toBe(PASSWORD);
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
      const user = await contoso.user({ password, clearPassword: true });
      expect((await api.db.tenantDataKey.findUniqueOrThrow({ where: { tenantId: contoso.id } })).keyId).toBe("local-1");
      await api.stop();

      api = await Api.start(embedded);
      try {
        expect(await readFile(file, "utf8")).toBe(generated);
        expect(await api.app.services.vault.revealPassword(api.db, user.id)).toBe(password);
        expect((await logIn(api, contoso.slug, user.email, password)).__typename).toBe("AuthPayload");
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
  it("moves every data key to the new key-encryption key; the old one no longer opens them, passwords still do", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-rewrap-"));
    // Own key ids: on a PostgreSQL database shared with other test files, only this test's keys carry them.
    const old = newKey("old");
    const next = newKey("new");
    try {
      let api = await Api.start({ DATA_DIR: dataDir, KEY_ENCRYPTION_KEY: old.encoded, KEY_ENCRYPTION_KEY_ID: old.id });
      const msp = await seed(api).msp();
      const customers = [await msp.customer(), await msp.customer()];
      const passwords = [newPassword(), newPassword()];
      const users = [await customers[0]!.user({ password: passwords[0]!, clearPassword: true }), await customers[1]!.user({ password: passwords[1]!, clearPassword: true })];
      // And a password registered by OPAQUE, sealed to the tenant's key pair.
      const sealedPassword = newPassword();
      const sealedUser = await customers[0]!.user({ password: sealedPassword });
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

      api = await Api.start({ DATA_DIR: dataDir, KEY_ENCRYPTION_KEY: next.encoded, KEY_ENCRYPTION_KEY_ID: next.id });
      try {
        for (const pair of await api.db.tenantKeyPair.findMany({ where: { tenantId: { in: customers.map((c) => c.id) } } })) {
          const previous = pairsBefore.find((k) => k.tenantId === pair.tenantId)!;
          expect(pair).toMatchObject({ keyId: next.id, publicKey: previous.publicKey, rotatedAt: expect.any(Date) });
        }
        const row = await api.db.user.findUniqueOrThrow({ where: { id: sealedUser.id } });
        const { tenantKeys } = api.app.services;
        expect(await tenantKeys.openPassword(api.db, { ...row, opaqueRecord: row.opaqueRecord!, sealedPassword: row.sealedPassword as never })).toBe(sealedPassword);
        for (const [index, customer] of customers.entries()) {
          const row = await api.db.tenantDataKey.findUniqueOrThrow({ where: { tenantId: customer.id } });
          const previous = before.find((k) => k.tenantId === customer.id)!;
          expect(row).toMatchObject({ keyId: next.id, rotatedAt: expect.any(Date), createdAt: previous.createdAt });
          expect(() => unwrapDataKey(old, customer.id, row.wrappedKey)).toThrow();
          // The data key is the same one, now wrapped under the new key.
          expect(unwrapDataKey(next, customer.id, row.wrappedKey).equals(unwrapDataKey(old, customer.id, previous.wrappedKey))).toBe(true);
          await expect(new TenantKeyring(old).existingDataKey(api.db, customer.id)).rejects.toThrow(/wrapped under key-encryption key "new-/);
          expect(await api.app.services.vault.revealPassword(api.db, users[index]!.id)).toBe(passwords[index]);
          expect((await logIn(api, customer.slug, users[index]!.email, passwords[index]!)).__typename).toBe("AuthPayload");
        }
      } finally {
        await api.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
