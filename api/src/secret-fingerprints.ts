// Instances of one deployment must share their secrets: an instance with
// another key-encryption key writes tenant keys the others cannot open, one
// with another OPAQUE server setup fails every password, one with another
// email-code key fails the codes the others sent. So the first instance of a
// deployment records a keyed fingerprint of each in the database (HMAC-SHA-256
// keyed by the secret itself over a fixed label: it tells whether two instances
// hold the same secret and nothing about the secret), and an instance, or
// `npm run doctor`, with another one is refused. Instances sharing a job queue
// (JOB_QUEUE_SCHEMA) are one deployment: several may share a PostgreSQL
// database (test runs do), each with its own secrets.
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PrismaClient } from "@latchkey/db";
import { decodeKeyEncryptionKey, type KeyEncryptionKey } from "@latchkey/schema";
import type { Config } from "./config.ts";
import { LOCAL_KEY_ID, localKeyFile } from "./key-encryption-key.ts";
import { localServerSetupFile } from "./password-setup.ts";

export type SharedSecretName = "KEY_ENCRYPTION_KEY" | "OPAQUE_SERVER_SETUP" | "LOG_PSEUDONYM_KEY" | "EMAIL_CODE_KEY";

export type SharedSecrets = {
  keyEncryptionKey: KeyEncryptionKey;
  opaqueServerSetup: string;
  emailCodeKey: Buffer;
  /**
   * Null when every instance makes its own (unset, with PostgreSQL): then
   * there is nothing to compare, and doctor warns instead.
   */
  logPseudonymKey: string | null;
};

export type Fingerprint = { secret: SharedSecretName; keyId: string | null; fingerprint: string };

/** A fingerprint as it is ever printed: its first eight hex digits. */
export function shortFingerprint(fingerprint: string) {
  return `${fingerprint.slice(0, 8)}…`;
}

export function secretFingerprint(secret: SharedSecretName, key: Buffer | string, keyId: string | null = null): string {
  // The key id is part of the label: "k1" must always name the same key.
  return createHmac("sha256", key).update(`latchkey-secret-fingerprint-v1|${secret}|${keyId ?? ""}`).digest("hex");
}

function keyEncryptionKeyFingerprint(key: KeyEncryptionKey): Fingerprint {
  return { secret: "KEY_ENCRYPTION_KEY", keyId: key.id, fingerprint: secretFingerprint("KEY_ENCRYPTION_KEY", key.key, key.id) };
}

export function fingerprintsOf(secrets: Partial<SharedSecrets>): Fingerprint[] {
  const fingerprints: Fingerprint[] = [];
  if (secrets.keyEncryptionKey) fingerprints.push(keyEncryptionKeyFingerprint(secrets.keyEncryptionKey));
  if (secrets.opaqueServerSetup) fingerprints.push({ secret: "OPAQUE_SERVER_SETUP", keyId: null, fingerprint: secretFingerprint("OPAQUE_SERVER_SETUP", secrets.opaqueServerSetup) });
  if (secrets.emailCodeKey) fingerprints.push({ secret: "EMAIL_CODE_KEY", keyId: null, fingerprint: secretFingerprint("EMAIL_CODE_KEY", secrets.emailCodeKey) });
  if (secrets.logPseudonymKey) fingerprints.push({ secret: "LOG_PSEUDONYM_KEY", keyId: null, fingerprint: secretFingerprint("LOG_PSEUDONYM_KEY", secrets.logPseudonymKey) });
  return fingerprints;
}

/** What an operator does about each secret that differs. */
const REMEDIES: Record<SharedSecretName, string> = {
  KEY_ENCRYPTION_KEY:
    "Start this instance with the KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_ID the deployment's other instances use. " +
    "A new key-encryption key is brought in only by `npm run rewrap-keys`, which records it.",
  OPAQUE_SERVER_SETUP:
    "Start this instance with the deployment's OPAQUE_SERVER_SETUP: every password and every enrolled agent depends on it, and it cannot be replaced.",
  EMAIL_CODE_KEY:
    "Give every instance the same EMAIL_CODE_KEY. If you replaced it on every instance on purpose, record the new one: " +
    "`npm run doctor --workspace @latchkey/api -- --accept-replaced EMAIL_CODE_KEY`.",
  LOG_PSEUDONYM_KEY:
    "Give every instance the same LOG_PSEUDONYM_KEY. If you replaced it on every instance on purpose, record the new one: " +
    "`npm run doctor --workspace @latchkey/api -- --accept-replaced LOG_PSEUDONYM_KEY`.",
};

type Recorded = { keyId: string | null; fingerprint: string; replacedAt: Date | null };

export type SecretMismatch = { secret: SharedSecretName; here: Fingerprint; recorded: Recorded };

export function describeMismatch({ secret, here, recorded }: SecretMismatch): string {
  const kek = secret === "KEY_ENCRYPTION_KEY";
  const mine = kek ? `KEY_ENCRYPTION_KEY (id "${here.keyId}")` : secret;
  const replaced = recorded.replacedAt ? `, recorded ${kek ? "by rewrap-keys" : "as a replacement"} at ${recorded.replacedAt.toISOString()}` : "";
  const theirs = kek ? `the deployment's key-encryption key (id "${recorded.keyId}"${replaced})` : `the deployment's${replaced}`;
  return (
    `${mine} differs from ${theirs}: fingerprint ${shortFingerprint(here.fingerprint)} here, ${shortFingerprint(recorded.fingerprint)} recorded. ` +
    REMEDIES[secret]
  );
}

export type Comparison = {
  mismatches: SecretMismatch[];
  /** Fingerprints the deployment has no record of (none once an instance has started with them). */
  unrecorded: Fingerprint[];
};

/**
 * Compares `fingerprints` with what the deployment recorded. With `record`,
 * those it has no record of are recorded first (the first instance to start;
 * of two starting at once, one wins and the other is compared with it).
 */
export async function compareSecretFingerprints(
  db: PrismaClient,
  jobQueueSchema: string,
  fingerprints: Fingerprint[],
  { record }: { record: boolean },
): Promise<Comparison> {
  if (record) await db.secretFingerprint.createMany({ data: fingerprints.map((one) => ({ jobQueueSchema, ...one })), skipDuplicates: true });
  const rows = new Map((await db.secretFingerprint.findMany({ where: { jobQueueSchema } })).map((row) => [row.secret, row]));
  const comparison: Comparison = { mismatches: [], unrecorded: [] };
  for (const here of fingerprints) {
    const recorded = rows.get(here.secret);
    if (!recorded) comparison.unrecorded.push(here);
    else if (recorded.fingerprint !== here.fingerprint) comparison.mismatches.push({ secret: here.secret, here, recorded });
  }
  return comparison;
}

export class SecretMismatchError extends Error {
  override name = "SecretMismatchError";
}

/** At start-up: the first instance of a deployment records its fingerprints; an instance whose secrets differ does not start. */
export async function checkSecretFingerprints(db: PrismaClient, jobQueueSchema: string, secrets: SharedSecrets) {
  const { mismatches } = await compareSecretFingerprints(db, jobQueueSchema, fingerprintsOf(secrets), { record: true });
  if (mismatches.length === 0) return;
  throw new SecretMismatchError(
    `This instance's secrets differ from those the deployment (JOB_QUEUE_SCHEMA "${jobQueueSchema}") recorded, so it will not start:\n` +
      mismatches.map((mismatch) => `- ${describeMismatch(mismatch)}`).join("\n"),
  );
}

/**
 * `rewrap-keys` moved the tenant keys from `from` to `to`: every deployment
 * that recorded `from` records `to` instead. Returns how many did.
 */
export async function recordRewrappedKeyEncryptionKey(db: PrismaClient, from: KeyEncryptionKey, to: KeyEncryptionKey): Promise<number> {
  const next = keyEncryptionKeyFingerprint(to);
  const { count } = await db.secretFingerprint.updateMany({
    where: { secret: "KEY_ENCRYPTION_KEY", fingerprint: keyEncryptionKeyFingerprint(from).fingerprint },
    data: { keyId: next.keyId, fingerprint: next.fingerprint, replacedAt: new Date() },
  });
  return count;
}

/** `doctor --accept-replaced`: an operator replaced a secret on every instance on purpose. */
export async function recordReplacedSecret(db: PrismaClient, jobQueueSchema: string, replacement: Fingerprint) {
  await db.secretFingerprint.upsert({
    where: { jobQueueSchema_secret: { jobQueueSchema, secret: replacement.secret } },
    create: { jobQueueSchema, ...replacement },
    update: { keyId: replacement.keyId, fingerprint: replacement.fingerprint, replacedAt: new Date() },
  });
}

/** A secret as this configuration has it: configured, generated under DATA_DIR, or neither. */
export type SecretSource = {
  secret: SharedSecretName;
  from: "environment" | "generated" | "not generated yet" | "each instance its own" | "missing";
  file?: string;
};

/**
 * The shared secrets of this configuration, read without generating any
 * (doctor must not make a key the API would then take for the deployment's).
 */
export async function readSharedSecrets(config: Config): Promise<{ secrets: Partial<SharedSecrets>; sources: SecretSource[] }> {
  const secrets: Partial<SharedSecrets> = {};
  const sources: SecretSource[] = [];
  /** Configured; else generated under DATA_DIR by the embedded default, or (LOG_PSEUDONYM_KEY) by each instance for itself. */
  async function take<K extends keyof SharedSecrets>(
    secret: SharedSecretName,
    key: K,
    configured: SharedSecrets[K] | undefined,
    file: string,
    parse: (text: string) => SharedSecrets[K],
  ) {
    if (configured) {
      secrets[key] = configured;
      sources.push({ secret, from: "environment" });
    } else if (config.databaseUrl) {
      const eachInstance = secret === "LOG_PSEUDONYM_KEY";
      if (eachInstance) secrets[key] = null as SharedSecrets[K];
      sources.push({ secret, from: eachInstance ? "each instance its own" : "missing", ...(eachInstance ? { file } : {}) });
    } else {
      try {
        secrets[key] = parse(await readFile(file, "utf8"));
        sources.push({ secret, from: "generated", file });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        sources.push({ secret, from: "not generated yet", file });
      }
    }
  }
  const dir = join(config.dataDir, "secrets");
  const kekFile = localKeyFile(config.dataDir);
  await take("KEY_ENCRYPTION_KEY", "keyEncryptionKey", config.keyEncryptionKey, kekFile, (text) => {
    const key = decodeKeyEncryptionKey(text);
    if (!key) throw new Error(`${kekFile} does not hold a base64 key of 32 bytes; restore it from a backup`);
    return { id: LOCAL_KEY_ID, key };
  });
  await take("OPAQUE_SERVER_SETUP", "opaqueServerSetup", config.opaqueServerSetup, localServerSetupFile(config.dataDir), (text) => text.trim());
  await take("EMAIL_CODE_KEY", "emailCodeKey", config.emailCodeKey, join(dir, "email-code.key"), (text) => Buffer.from(text.trim(), "base64"));
  await take("LOG_PSEUDONYM_KEY", "logPseudonymKey", config.pseudonymKey, join(dir, "log-pseudonym.key"), (text) => text.trim());
  return { secrets, sources };
}
