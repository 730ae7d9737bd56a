// Checks an instance's configuration as the API would read it, and lists what
// an operator must act on. Run it with the instance's own environment:
//
//   DATABASE_URL=... npm run doctor --workspace @latchkey/api
//   npm run doctor --workspace @latchkey/api -- --accept-replaced EMAIL_CODE_KEY
//
// It prints every setting in effect and where it came from, then its findings.
// FATAL findings (exit status 1) are what the API refuses to start with or what
// breaks a deployment: secrets whose fingerprints differ from those the
// deployment recorded, a secret PostgreSQL deployments must be given, a
// DATA_DIR others may write to or files in it others may read, portal origins
// that do not fit BASE_DOMAIN, a portal operations manifest that is missing
// (with PORTAL_DOCUMENTS=registered) or not one, an unreachable database or Redis. WARN findings
// deserve a look: among them users who had a password but no OPAQUE
// registration record (an admin sets a new password for each). No secret is
// printed, nor more of a fingerprint than its first characters.
//
// `--accept-replaced EMAIL_CODE_KEY` (or LOG_PSEUDONYM_KEY) records this
// configuration's key as the deployment's, after it was replaced on every
// instance on purpose. The key-encryption key changes only through
// `rewrap-keys`, the OPAQUE server setup never.
//
// With the embedded database, stop the API first: only one process may open it.
import { stat } from "node:fs/promises";
import { isIP } from "node:net";
import { join, relative } from "node:path";
import { openDatabase, type Database } from "@latchkey/db";
import { serverSetupPublicKey } from "@latchkey/schema";
import { answeredWithin } from "../answered-within.ts";
import { loadConfig, settingsInEffect, type Config } from "../config.ts";
import { filesOpenToOthers } from "../data-dir.ts";
import { closeDatabase, runCommand } from "./command.ts";
import { connectRedis, redisConfigured } from "../pubsub.ts";
import { readPortalManifests } from "../trusted-documents.ts";
import {
  compareSecretFingerprints,
  describeMismatch,
  fingerprintsOf,
  readSharedSecrets,
  recordReplacedSecret,
  shortFingerprint,
  type SharedSecretName,
} from "../secret-fingerprints.ts";

type Level = "FATAL" | "WARN" | "ok";

const findings: { level: Level; text: string }[] = [];
const report = (level: Level, text: string) => findings.push({ level, text });

/** Secrets an operator may replace on purpose; the others have commands of their own or cannot change. */
const REPLACEABLE: SharedSecretName[] = ["EMAIL_CODE_KEY", "LOG_PSEUDONYM_KEY"];

/** How long an unreachable database or Redis may keep the doctor waiting. */
const REACH_TIMEOUT_MS = 15_000;

function acceptedReplacements(args: string[]): SharedSecretName[] {
  const accepted: SharedSecretName[] = [];
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] !== "--accept-replaced") throw new Error(`unknown argument ${args[i]}; usage: doctor [--accept-replaced EMAIL_CODE_KEY|LOG_PSEUDONYM_KEY]`);
    const name = args[(i += 1)] as SharedSecretName;
    if (!REPLACEABLE.includes(name)) {
      throw new Error(
        `--accept-replaced takes ${REPLACEABLE.join(" or ")}; the key-encryption key is replaced with rewrap-keys, the OPAQUE server setup never`,
      );
    }
    accepted.push(name);
  }
  return accepted;
}

function printSettings() {
  console.log("settings in effect");
  const rows = settingsInEffect();
  const width = Math.max(...rows.map((row) => row.name.length));
  for (const row of rows) console.log(`  ${row.name.padEnd(width)}  ${row.from.padEnd(11)}  ${row.value}`);
}

async function checkDataDir(config: Config) {
  const where = `DATA_DIR ${config.dataDir}`;
  const stats = await stat(config.dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (!stats) return report("ok", `${where} does not exist yet: the API makes it (mode 0700) at its first start`);
  if (!stats.isDirectory()) return report("FATAL", `${where} is not a directory`);
  const mode = stats.mode & 0o777;
  const octal = mode.toString(8).padStart(4, "0");
  if (mode & 0o022) {
    return report("FATAL", `${where} is writable by ${mode & 0o020 ? "its group" : "others"} (mode ${octal}): the API refuses to start on it. chmod 700 ${config.dataDir}`);
  }
  const open = await filesOpenToOthers(config.dataDir);
  if (open.length > 0) {
    const shown = open.slice(0, 5).join(", ");
    report("FATAL", `${open.length} file(s) in ${where} are open to others (${shown}${open.length > 5 ? ", …" : ""}): it holds keys and the database. chmod -R go-rwx ${config.dataDir}`);
  } else if (mode & 0o055) {
    report("WARN", `${where} may be listed by ${mode & 0o050 ? "its group" : "others"} (mode ${octal}); what is in it is owner-only. chmod 700 ${config.dataDir}`);
  } else {
    report("ok", `${where} is owner-only`);
  }
}

/** A WEB_ORIGIN entry and BASE_DOMAIN disagree when tenants' addresses (`<slug>.<BASE_DOMAIN>`) could not be where the portal is. */
function checkOrigins(config: Config) {
  const base = config.baseDomain;
  if (isIP(base)) {
    report("FATAL", `BASE_DOMAIN ${base} is an IP address: tenants' addresses <slug>.${base} cannot exist. Set it to the portal's host name`);
    return;
  }
  const fitting: string[] = [];
  for (const entry of config.webOrigins) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      report("FATAL", `WEB_ORIGIN entry "${entry}" is not an origin (scheme://host[:port]): no browser page is admitted by it`);
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      report("FATAL", `WEB_ORIGIN entry "${entry}" is not an http(s) origin: no browser page is admitted by it`);
      continue;
    }
    if (url.pathname !== "/" || url.search || url.hash) report("WARN", `WEB_ORIGIN entry "${entry}" has a path; only its origin ${url.origin} counts`);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    // The default pair (localhost and 127.0.0.1) is one machine: loopback addresses fit "localhost".
    const loopback = base === "localhost" && (host === "127.0.0.1" || host === "::1");
    if (host === base || host.endsWith(`.${base}`) || loopback) fitting.push(url.origin);
    else report("WARN", `WEB_ORIGIN entry ${url.origin} is not BASE_DOMAIN (${base}) or under it: tenants' addresses are <slug>.${base}, not beside this origin`);
  }
  if (fitting.length === 0) {
    report(
      "FATAL",
      `no WEB_ORIGIN entry is at BASE_DOMAIN (${base}) or under it: the origin rule admits tenants' portals at <slug>.${base}, ` +
        `which is not where the portal is. Set BASE_DOMAIN to the portal's host name (e.g. the host of ${config.webOrigins[0] ?? "WEB_ORIGIN"})`,
    );
  } else {
    report("ok", `origins: ${fitting.join(", ")} and tenants' addresses <slug>.${base}`);
  }
}

/** Which portal operations a portal session may run, from which manifests, as the API will read them at start. */
function checkPortalDocuments(config: Config) {
  let read;
  try {
    read = readPortalManifests(config.portalDocuments);
  } catch (error) {
    return report("FATAL", `${(error as Error).message.replace(/^Invalid configuration: /, "")}: the API refuses to start`);
  }
  for (const one of read.manifests) {
    if (one.operations === 0) report("WARN", `portal operations manifest ${one.path} registers no operations: a portal held to it can do nothing`);
    else report("ok", `portal operations manifest ${one.path}: version ${one.version}, ${one.operations} operations`);
  }
  if (read.manifests.length > 0) for (const path of read.missing) report("WARN", `no portal operations manifest at ${path}, one of PORTAL_DOCUMENT_MANIFESTS: pages of that build are refused`);
  if (read.registeredOnly) {
    if (!config.portalDocuments.mode) report("ok", "PORTAL_DOCUMENTS unset: a portal session runs only the registered operations, as a manifest is there");
    else report("ok", "a portal session runs only the registered operations");
  } else if (config.portalDocuments.mode === "any") {
    report("WARN", "PORTAL_DOCUMENTS=any: a portal session may run any operation, so a script riding a portal session can explore the API");
  } else {
    report("WARN", `no portal operations manifest at ${config.portalDocuments.manifests.join(", ")}: a portal session may run any operation. Build the portal, or set PORTAL_DOCUMENTS=registered in production`);
  }
}

async function checkRedis(config: Config) {
  if (!redisConfigured(config.redis)) return report("ok", "Redis: not configured (in-process pub/sub and counters, one instance only)");
  const client = connectRedis(config.redis, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 5_000, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await answeredWithin(
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      REACH_TIMEOUT_MS,
      "Redis",
    );
    report("ok", "Redis answers");
  } catch (error) {
    report("FATAL", `Redis is unreachable: ${(error as Error).message}. Every instance needs it for pub/sub and shared counters`);
  } finally {
    client.disconnect();
  }
}

/** Secrets PostgreSQL deployments must be given (the embedded default generates them under DATA_DIR). */
function checkRequiredSecrets(config: Config) {
  if (!config.databaseUrl) return;
  const required: [string, unknown][] = [
    ["OPAQUE_SERVER_SETUP", config.opaqueServerSetup],
    ["EMAIL_CODE_KEY", config.emailCodeKey],
    ["DEVICE_COOKIE_KEY", config.deviceCookieKey],
    ["LOGIN_STATE_KEY", config.loginStateKey],
  ];
  for (const [name, value] of required) {
    if (!value) report("FATAL", `${name} is required when DATABASE_URL is set: the API refuses to start without it. Give every instance the same one`);
  }
  if (!config.pseudonymKey) {
    report("WARN", "LOG_PSEUDONYM_KEY is unset with PostgreSQL: each instance generates its own, so log pseudonyms do not match across instances");
  }
}

type Secrets = Awaited<ReturnType<typeof readSharedSecrets>>;

function printSecrets(config: Config, { sources }: Secrets) {
  console.log("\nshared secrets (fingerprinted)");
  const shown = (file: string) => (relative(config.dataDir, file).startsWith("..") ? file : `DATA_DIR/${relative(config.dataDir, file)}`);
  for (const source of sources) console.log(`  ${source.secret.padEnd(20)} ${source.from}${source.file ? ` (${shown(source.file)})` : ""}`);
}

async function checkSecrets(db: Database, config: Config, { secrets }: Secrets, accepted: SharedSecretName[]) {
  if (secrets.opaqueServerSetup) {
    const publicKey = await serverSetupPublicKey(secrets.opaqueServerSetup).catch(() => null);
    const deployment = await db.prisma.deployment.findUnique({ where: { id: 1 } });
    if (!publicKey) report("FATAL", "OPAQUE_SERVER_SETUP is not an OPAQUE server setup");
    else if (deployment && deployment.opaqueServerPublicKey !== publicKey) {
      report("FATAL", "OPAQUE_SERVER_SETUP is not the one this database was set up with (its public key differs): start every instance with the deployment's");
    }
  }
  const fingerprints = fingerprintsOf(secrets);
  for (const name of accepted) {
    const replacement = fingerprints.find((one) => one.secret === name);
    if (!replacement) {
      report("FATAL", `--accept-replaced ${name}: this configuration has no ${name} of its own to record`);
      continue;
    }
    await recordReplacedSecret(db.prisma, config.jobQueueSchema, replacement);
    report("ok", `${name}: recorded this configuration's key as the deployment's (fingerprint ${shortFingerprint(replacement.fingerprint)})`);
  }
  const { mismatches, unrecorded } = await compareSecretFingerprints(db.prisma, config.jobQueueSchema, fingerprints, { record: false });
  for (const mismatch of mismatches) report("FATAL", describeMismatch(mismatch));
  for (const one of unrecorded) report("ok", `${one.secret}: no fingerprint recorded yet for JOB_QUEUE_SCHEMA "${config.jobQueueSchema}"; the first instance to start records it`);
  const matching = fingerprints.filter((one) => !mismatches.some((m) => m.secret === one.secret) && !unrecorded.includes(one));
  if (matching.length > 0) report("ok", `${matching.map((one) => one.secret).join(", ")}: the deployment's (fingerprints match)`);
}

async function checkPasswords(db: Database) {
  const users = await db.prisma.user.findMany({
    where: { opaqueRecord: null, passwordChangedAt: { not: null } },
    select: { id: true, username: true, email: true, status: true, tenant: { select: { slug: true } } },
    orderBy: [{ tenant: { slug: "asc" } }, { username: "asc" }],
  });
  if (users.length === 0) report("ok", "every user with a password has an OPAQUE registration record");
  else report("WARN", `${users.length} user(s) without an OPAQUE registration record: an admin must set a new password for each (listed below)`);
  return users;
}

/** The database, or null for an embedded one not made yet: the doctor makes nothing the API would then take for its own. */
async function openExisting(config: Config): Promise<Database | null> {
  if (config.databaseUrl) return answeredWithin(openDatabase({ url: config.databaseUrl, poolSize: 2 }), REACH_TIMEOUT_MS, "the database");
  const files = join(config.dataDir, "pglite");
  if (!(await stat(files).catch(() => null))) {
    report("ok", `database: the embedded one (${files}) is made at the API's first start`);
    return null;
  }
  return openDatabase({ dataDir: config.dataDir });
}

async function main() {
  const accepted = acceptedReplacements(process.argv.slice(2));
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.log(`FATAL  ${(error as Error).message}`);
    return 1;
  }
  printSettings();
  const secrets = await readSharedSecrets(config);
  printSecrets(config, secrets);
  checkRequiredSecrets(config);
  await checkDataDir(config);
  checkOrigins(config);
  checkPortalDocuments(config);
  await checkRedis(config);

  let users: Awaited<ReturnType<typeof checkPasswords>> | undefined;
  const database = await openExisting(config).catch((error: unknown) => {
    report("FATAL", `the database is unreachable: ${(error as Error).message || String(error)}`);
    return null;
  });
  if (database) {
    try {
      report("ok", `database: ${config.databaseUrl ? "PostgreSQL" : "embedded"} answers`);
      await checkSecrets(database, config, secrets, accepted);
      users = await checkPasswords(database);
    } finally {
      await closeDatabase(database, config);
    }
  }

  console.log("\nfindings");
  for (const finding of findings) console.log(`${finding.level.padEnd(5)}  ${finding.text}`);
  if (users?.length) {
    console.log("\nusers without an OPAQUE registration record");
    console.log(["tenant", "username", "email", "status", "user id"].join("\t"));
    for (const user of users) console.log([user.tenant.slug, user.username, user.email, user.status, user.id].join("\t"));
  }
  return findings.some((finding) => finding.level === "FATAL") ? 1 : 0;
}

runCommand(main);
