// The configuration check: every instance of a deployment must share its
// secrets, so the first records keyed fingerprints of them in the database and
// an instance (or `npm run doctor`) with another secret is refused, naming the
// secret and what to do, never showing it. Run as an operator runs them: the
// API's own process and the commands, against the embedded database (or the
// PostgreSQL that DATABASE_URL names, as in CI).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServerSetup } from "@latchkey/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretFingerprint } from "../src/secret-fingerprints.ts";
import { freePort } from "./api-process.ts";
import { Api, dropSchema, serverSetupFor } from "./harness.ts";

const DATABASE_URL = process.env.DATABASE_URL;
const apiRoot = fileURLToPath(new URL("../", import.meta.url));
const TSX_CLI = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
const BUILT_MANIFEST = fileURLToPath(new URL("../../web/src/gql/operations-manifest.json", import.meta.url));

/** Runs an API script (main.ts, a command) to its end as an operator would, with only `env`. */
function run(script: string, env: Record<string, string>, args: string[] = [], timeoutMs = 90_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX_CLI, script, ...args], {
      cwd: apiRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", LOG_LEVEL: "warn", API_HOST: "127.0.0.1", API_PORT: "0", ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    // An instance that was not refused would run on: it is stopped, and the test fails on its code.
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const newKey = (name: string) => ({ id: `${name}-${randomBytes(4).toString("hex")}`, encoded: randomBytes(32).toString("base64") });

/** Every way a secret could be written down in a dump. */
function spellings(secret: string, decoded?: Buffer) {
  const bytes = decoded ?? Buffer.from(secret);
  return [secret, bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("hex")];
}

let dataDir: string;
let deployment: Record<string, string>;
const kek = newKey("doctor");
const jobQueue = `jobs_doctor_${randomBytes(6).toString("hex")}`;
const emailCodeKey = randomBytes(32).toString("base64");
const logPseudonymKey = randomBytes(32).toString("base64url");

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "latchkey-doctor-"));
  // One deployment: its own job queue, so on a PostgreSQL database shared with other test files its fingerprints are its own.
  deployment = {
    DATA_DIR: dataDir,
    DATABASE_URL: DATABASE_URL ?? "",
    REDIS_URL: "",
    JOB_QUEUE_SCHEMA: jobQueue,
    KEY_ENCRYPTION_KEY: kek.encoded,
    KEY_ENCRYPTION_KEY_ID: kek.id,
    EMAIL_CODE_KEY: emailCodeKey,
    LOG_PSEUDONYM_KEY: logPseudonymKey,
    // A database accepts one OPAQUE server setup: on a shared PostgreSQL, the one every test server uses.
    OPAQUE_SERVER_SETUP: DATABASE_URL ? process.env.OPAQUE_SERVER_SETUP || (await serverSetupFor(DATABASE_URL)) : await createServerSetup(),
    DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
    LOGIN_STATE_KEY: randomBytes(32).toString("base64"),
    PASSWORD_KSF: "test",
  };
  // The first instance records the deployment's fingerprints.
  const first = await Api.start(deployment);
  await first.stop();
}, 120_000);

afterAll(async () => {
  if (DATABASE_URL) await dropSchema(DATABASE_URL, jobQueue);
  await rm(dataDir, { recursive: true, force: true });
});

describe("secret fingerprints", () => {
  it("are recorded by the first instance and tell nothing of the secrets: the database's dump holds none of them", async () => {
    const api = await Api.start(deployment);
    try {
      const rows = await api.db.secretFingerprint.findMany({ where: { jobQueueSchema: jobQueue }, orderBy: { secret: "asc" } });
      expect(rows.map((row) => row.secret)).toEqual(["EMAIL_CODE_KEY", "KEY_ENCRYPTION_KEY", "LOG_PSEUDONYM_KEY", "OPAQUE_SERVER_SETUP"]);
      expect(rows.find((row) => row.secret === "KEY_ENCRYPTION_KEY")).toMatchObject({
        keyId: kek.id,
        fingerprint: secretFingerprint("KEY_ENCRYPTION_KEY", Buffer.from(kek.encoded, "base64"), kek.id),
      });
      // A dump of every table, as text: the fingerprints are there, the secrets in no spelling.
      const tables = await api.db.$queryRawUnsafe<{ name: string }[]>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      let dump = "";
      for (const { name } of tables) {
        const lines = await api.db.$queryRawUnsafe<{ line: string }[]>(`SELECT row_to_json(t)::text AS line FROM "${name}" t`);
        dump += lines.map((row) => row.line).join("\n");
      }
      for (const row of rows) expect(dump).toContain(row.fingerprint);
      const secrets = [
        ...spellings(kek.encoded, Buffer.from(kek.encoded, "base64")),
        ...spellings(emailCodeKey, Buffer.from(emailCodeKey, "base64")),
        ...spellings(logPseudonymKey),
        ...spellings(deployment.OPAQUE_SERVER_SETUP!),
      ];
      for (const secret of secrets) expect(dump.includes(secret), "a secret in the dump").toBe(false);
    } finally {
      await api.stop();
    }
  }, 120_000);

  it("refuse an instance with another key-encryption key, or another OPAQUE server setup, at start; the matching one starts", async () => {
    const other = newKey("other");
    // As an operator starts it: its own process, which says why and exits 1.
    const wrongKey = await run("src/main.ts", { ...deployment, KEY_ENCRYPTION_KEY: other.encoded, KEY_ENCRYPTION_KEY_ID: other.id });
    expect(wrongKey.code, wrongKey.output).toBe(1);
    expect(wrongKey.output).toContain(`KEY_ENCRYPTION_KEY (id "${other.id}") differs from the deployment's key-encryption key (id "${kek.id}")`);
    expect(wrongKey.output).toMatch(/Start this instance with the KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_ID the deployment's other instances use/);
    expect(wrongKey.output).not.toContain(kek.encoded);
    expect(wrongKey.output).not.toContain(other.encoded);
    expect(wrongKey.output).not.toMatch(/[0-9a-f]{64}/);
    // Another key under the deployment's key id is refused just the same.
    await expect(Api.start({ ...deployment, KEY_ENCRYPTION_KEY: other.encoded })).rejects.toThrow(`KEY_ENCRYPTION_KEY (id "${kek.id}") differs`);
    await expect(Api.start({ ...deployment, OPAQUE_SERVER_SETUP: await createServerSetup() })).rejects.toThrow(
      /OPAQUE server setup is not the one this database was set up with.*start it with the deployment's OPAQUE_SERVER_SETUP/,
    );

    const matching = await Api.start(deployment);
    try {
      expect((await fetch(`${matching.url}/readyz`)).status).toBe(200);
    } finally {
      await matching.stop();
    }
  }, 180_000);

  it("npm run doctor prints a mismatch (its fingerprint's first characters only) and exits non-zero; with the deployment's secrets it passes", async () => {
    const other = newKey("other");
    const mismatch = await run("src/commands/doctor.ts", { ...deployment, KEY_ENCRYPTION_KEY: other.encoded, KEY_ENCRYPTION_KEY_ID: other.id });
    expect(mismatch.code, mismatch.output).toBe(1);
    expect(mismatch.output).toMatch(new RegExp(`^FATAL  KEY_ENCRYPTION_KEY \\(id "${other.id}"\\) differs from the deployment's key-encryption key`, "m"));
    const theirs = secretFingerprint("KEY_ENCRYPTION_KEY", Buffer.from(other.encoded, "base64"), other.id);
    expect(mismatch.output).toContain(`fingerprint ${theirs.slice(0, 8)}… here`);
    expect(mismatch.output).not.toContain(theirs.slice(0, 9));
    expect(mismatch.output).not.toContain(other.encoded);
    // Every setting, and where it came from; secrets only as set.
    expect(mismatch.output).toMatch(/^ {2}KEY_ENCRYPTION_KEY +environment +\(set\)$/m);
    expect(mismatch.output).toMatch(/^ {2}SESSION_IDLE_MINUTES +default +60$/m);
    expect(mismatch.output).toMatch(new RegExp(`^ {2}JOB_QUEUE_SCHEMA +environment +${jobQueue}$`, "m"));

    const healthy = await run("src/commands/doctor.ts", deployment);
    expect(healthy.code, healthy.output).toBe(0);
    expect(healthy.output).toMatch(/^ok +KEY_ENCRYPTION_KEY, OPAQUE_SERVER_SETUP, EMAIL_CODE_KEY, LOG_PSEUDONYM_KEY: the deployment's \(fingerprints match\)$/m);
    expect(healthy.output).not.toMatch(/^FATAL/m);
    // The built portal's manifest (npm run generate wrote it), by its version.
    const built = JSON.parse(await readFile(BUILT_MANIFEST, "utf8")) as { version: string; documents: object };
    expect(healthy.output).toContain(`ok     portal operations manifest ${BUILT_MANIFEST}: version ${built.version}, ${Object.keys(built.documents).length} operations`);
    expect(healthy.output).toMatch(/^ok +PORTAL_DOCUMENTS unset: a portal session runs only the registered operations/m);
  }, 180_000);

  it("follow the key-encryption key through rewrap-keys: the new key starts, the old one is refused", async () => {
    const next = newKey("rewrapped");
    const rewrap = await run("src/commands/rewrap-keys.ts", { ...deployment, NEW_KEY_ENCRYPTION_KEY: next.encoded, NEW_KEY_ENCRYPTION_KEY_ID: next.id });
    expect(rewrap.code, rewrap.output).toBe(0);
    expect(rewrap.output).toContain(`recorded "${next.id}" as the key-encryption key of 1 deployment(s) that had "${kek.id}"`);

    await expect(Api.start(deployment)).rejects.toThrow(
      new RegExp(`KEY_ENCRYPTION_KEY \\(id "${kek.id}"\\) differs from the deployment's key-encryption key \\(id "${next.id}", recorded by rewrap-keys at `),
    );
    // From now on the deployment's key is the new one.
    deployment = { ...deployment, KEY_ENCRYPTION_KEY: next.encoded, KEY_ENCRYPTION_KEY_ID: next.id };
    const api = await Api.start(deployment);
    await api.stop();
  }, 180_000);

  it("a replaced email-code key is refused until doctor records it as the deployment's", async () => {
    const replaced = { ...deployment, EMAIL_CODE_KEY: randomBytes(32).toString("base64") };
    const before = await run("src/commands/doctor.ts", replaced);
    expect(before.code, before.output).toBe(1);
    expect(before.output).toMatch(/^FATAL  EMAIL_CODE_KEY differs from the deployment's: .*--accept-replaced EMAIL_CODE_KEY/m);
    const accepted = await run("src/commands/doctor.ts", replaced, ["--accept-replaced", "EMAIL_CODE_KEY"]);
    expect(accepted.code, accepted.output).toBe(0);
    expect(accepted.output).toMatch(/^ok +EMAIL_CODE_KEY: recorded this configuration's key as the deployment's/m);
    expect(accepted.output).not.toMatch(/^FATAL/m);
    await expect(Api.start(deployment)).rejects.toThrow(/EMAIL_CODE_KEY differs from the deployment's, recorded as a replacement at /);
  }, 180_000);
});

describe("npm run doctor", () => {
  it("reports a DATA_DIR others may write to, portal origins outside BASE_DOMAIN, a missing portal manifest, and an unreachable database and Redis; no password shown", async () => {
    const loose = await mkdtemp(join(tmpdir(), "latchkey-doctor-loose-"));
    try {
      await chmod(loose, 0o777);
      const closed = await freePort();
      const { code, output } = await run("src/commands/doctor.ts", {
        ...deployment,
        DATA_DIR: loose,
        DATABASE_URL: `postgresql://latchkey:hunter2-not-shown@127.0.0.1:${closed}/latchkey`,
        REDIS_URL: `redis://:redis-secret-not-shown@127.0.0.1:${closed}`,
        WEB_ORIGIN: "https://portal.example.com",
        BASE_DOMAIN: "latchkey.example.net",
        PORTAL_DOCUMENTS: "registered",
        PORTAL_DOCUMENT_MANIFESTS: join(loose, "operations-manifest.json"),
      });
      expect(code, output).toBe(1);
      expect(output).toMatch(new RegExp(`^FATAL  DATA_DIR ${loose} is writable by its group \\(mode 0777\\)`, "m"));
      expect(output).toMatch(/^FATAL  no WEB_ORIGIN entry is at BASE_DOMAIN \(latchkey\.example\.net\) or under it/m);
      expect(output).toMatch(/^WARN   WEB_ORIGIN entry https:\/\/portal\.example\.com is not BASE_DOMAIN/m);
      expect(output).toMatch(/^FATAL  PORTAL_DOCUMENTS=registered, but no manifest was found at .*: the API refuses to start$/m);
      expect(output).toMatch(/^FATAL  Redis is unreachable/m);
      expect(output).toMatch(/^FATAL  the database is unreachable: .*ECONNREFUSED/m);
      expect(output).toMatch(new RegExp(`^ {2}DATABASE_URL +environment +postgresql://latchkey:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/latchkey$`, "m"));
      for (const secret of ["hunter2-not-shown", "redis-secret-not-shown", kek.encoded, emailCodeKey, logPseudonymKey, deployment.OPAQUE_SERVER_SETUP!]) {
        expect(output).not.toContain(secret);
      }
    } finally {
      await rm(loose, { recursive: true, force: true });
    }
  }, 120_000);
});
