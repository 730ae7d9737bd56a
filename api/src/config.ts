// The only place that reads process.env: validated once, passed down.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { KEY_ID_PATTERN, decodeKeyEncryptionKey, parseCidr, type KeyEncryptionKey } from "@latchkey/schema";
import { KSF_NAMES, type Ksf } from "@latchkey/passwords";
import { z } from "zod";
import { DEFAULT_COST_BUDGETS, DEFAULT_TRANSPORT_LIMITS, type CostBudgets, type TransportLimits } from "./limits.ts";
import type { RedisTarget } from "./pubsub.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((value) => value === "true" || value === "1" || value === "yes");

const list = z
  .string()
  .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean));

/** A secret key: base64 of exactly 32 random bytes, e.g. `openssl rand -base64 32`. */
const secretKey = z.string().transform((value, issue) => {
  const key = decodeKeyEncryptionKey(value);
  if (!key) {
    issue.addIssue({ code: "custom", message: "must be base64 of exactly 32 bytes (generate one with `openssl rand -base64 32`)" });
    return z.NEVER;
  }
  return key;
});

/** An OPAQUE server setup as @serenity-kit/opaque writes it (`npx @serenity-kit/opaque@1.1.0 create-server-setup`). */
const opaqueServerSetup = z.string().transform((value, issue) => {
  const text = value.trim();
  // The setup itself is checked once the OPAQUE library has loaded (buildApp).
  if (/^[A-Za-z0-9_-]{100,4096}$/.test(text)) return text;
  issue.addIssue({ code: "custom", message: "must be an OPAQUE server setup (base64url), generated once and shared by every instance" });
  return z.NEVER;
});

const json = z.string().transform((value, issue) => {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    issue.addIssue({ code: "custom", message: "must be JSON" });
    return z.NEVER;
  }
});

const transportLimitNames = Object.keys(DEFAULT_TRANSPORT_LIMITS) as [keyof TransportLimits, ...(keyof TransportLimits)[]];

const keyId = z.string().regex(KEY_ID_PATTERN, "use 1 to 64 letters, digits, dots, dashes or underscores");

const env = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  API_HOST: z.string().default("0.0.0.0"),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  WEB_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATA_DIR: z.string().default(`${repoRoot}.data`),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z.string().url().optional(),
  /** Sentinels watching the Redis primary, `host:port,host:port`; with REDIS_SENTINEL_MASTER. */
  REDIS_SENTINELS: list.optional(),
  REDIS_SENTINEL_MASTER: z.string().default("mymaster"),
  /** Some nodes of a Redis Cluster, `host:port,host:port`. */
  REDIS_CLUSTER_NODES: list.optional(),
  WEB_ORIGIN: list.optional(),
  /** Each tenant's portal answers at `<slug>.<BASE_DOMAIN>` (the portal's origins' scheme and port). */
  BASE_DOMAIN: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9]+([.-][a-z0-9]+)*$/, "BASE_DOMAIN is a host name, e.g. portal.example")
    .default("localhost"),
  TRUSTED_PROXIES: list.default([]),
  SIGNUP_ENABLED: flag.default(true),
  SIGNUPS_PER_HOUR_PER_IP: z.coerce.number().int().positive().default(10),
  SESSION_IDLE_MINUTES: z.coerce.number().positive().default(60),
  SESSION_MAX_AGE_HOURS: z.coerce.number().positive().default(12),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_PSEUDONYM_KEY: z.string().min(32).optional(),
  /**
   * JSON: per-limit budgets replacing the defaults, e.g. {"challengeStartPerIp":{"points":1000,"durationSeconds":60}};
   * the cost budgets too, e.g. {"costPerApiKey":{"points":50000,"durationSeconds":3600}} (names in limits.ts).
   */
  RATE_LIMIT_OVERRIDES: json
    .pipe(z.record(z.string(), z.object({ points: z.number().int().positive(), durationSeconds: z.number().int().positive() })))
    .optional(),
  /** JSON: transport caps replacing the defaults, e.g. {"unauthenticatedSocketsPerAddress":500} (names in limits.ts). */
  TRANSPORT_LIMITS: json.pipe(z.partialRecord(z.enum(transportLimitNames), z.number().int().positive())).optional(),
  RATE_LIMIT_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).default("rl"),
  CHALLENGE_TTL_SECONDS: z.coerce.number().int().min(1).max(600).default(90),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().default("Latchkey <no-reply@latchkey.invalid>"),
  KEY_ENCRYPTION_KEY: secretKey.optional(),
  KEY_ENCRYPTION_KEY_ID: keyId.default("k1"),
  DEVICE_COOKIE_KEY: secretKey.optional(),
  EMAIL_CODE_KEY: secretKey.optional(),
  /** Webhooks may be delivered to loopback, private, link-local... addresses too (development, tests). Also allows http:// URLs. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: flag.default(false),
  /** Comma-separated CIDR ranges webhooks may be delivered to although they are not public. */
  WEBHOOK_ALLOWED_TARGET_RANGES: list
    .pipe(z.array(z.string().refine((value) => parseCidr(value) !== null, "each entry must be an IPv4 or IPv6 CIDR range")))
    .default([]),
  OPAQUE_SERVER_SETUP: opaqueServerSetup.optional(),
  LOGIN_STATE_KEY: secretKey.optional(),
  PASSWORD_KSF: z.enum(KSF_NAMES as [Ksf, ...Ksf[]]).default("v1"),
  /** pg-boss keeps its tables in this PostgreSQL schema. */
  /** Prometheus metrics on their own port; off unless set. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().default("127.0.0.1"),
  /** How long a stopping instance lets in-flight requests finish. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(600).default(10),
  /**
   * `registered`: a portal session (the session cookie) may run only the portal's own
   * operations, by the hash the portal was built with; `any`: no such restriction.
   */
  PORTAL_DOCUMENTS: z.enum(["registered", "any"]).optional(),
  /** The portal builds' operation manifests, `path,path` (an old and a new build during an upgrade). */
  PORTAL_DOCUMENT_MANIFESTS: list.optional(),
  JOB_QUEUE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,49}$/, "use 1 to 50 lower-case letters, digits or underscores, not starting with a digit")
    .default("pgboss"),
  /** Where this instance appends the revocations it makes (DATA_DIR/revocations when unset); read by post-restore. */
  REVOCATION_JOURNAL_DIR: z.string().optional(),
});

export type Config = {
  production: boolean;
  development: boolean;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  /** Redis as ioredis reaches it: a URL, Sentinel or Cluster; undefined: in-process pub/sub. */
  redis: RedisTarget | undefined;
  /** The portal's origins: allowed by CORS and to open WebSockets, besides the API's own origin. */
  webOrigins: string[];
  baseDomain: string;
  trustedProxies: string[];
  signUpEnabled: boolean;
  signUpsPerHourPerIp: number;
  sessionIdleMinutes: number;
  sessionMaxAgeHours: number;
  logLevel: string;
  pseudonymKey: string | undefined;
  /** Which operations a portal session may run; `mode` unset: `registered` when a manifest is there. */
  portalDocuments: { mode: "registered" | "any" | undefined; manifests: string[] };
  challengeTtlSeconds: number;
  rateLimitNamespace: string;
  rateLimitOverrides: Record<string, { points: number; durationSeconds: number }>;
  /** Cost points each credential may spend per window: the defaults, with RATE_LIMIT_OVERRIDES' replacements. */
  costBudgets: CostBudgets;
  transportLimits: TransportLimits;
  smtpUrl: string | undefined;
  mailFrom: string;
  /**
   * Wraps the per-tenant data keys. Unset only with the embedded database, where
   * one is generated under DATA_DIR/secrets.
   */
  keyEncryptionKey: KeyEncryptionKey | undefined;
  /** Signs browsers' device cookies. Needed with PostgreSQL; generated under DATA_DIR for the embedded database. */
  deviceCookieKey: Buffer | undefined;
  /**
   * Keys the hashes of emailed codes. The API needs it with PostgreSQL; with the
   * embedded database one is generated under DATA_DIR/secrets.
   */
  emailCodeKey: Buffer | undefined;
  /** PostgreSQL schema of the job queue's tables. */
  jobQueueSchema: string;
  /** Non-public webhook targets the operator allows. */
  webhookTargets: { allowPrivate: boolean; allowedRanges: string[] };
  /** Where Prometheus metrics are served (GET /metrics); undefined: not served. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** Milliseconds a stopping instance waits for in-flight requests. */
  shutdownGraceMs: number;
  /** The OPAQUE server setup. Needed with PostgreSQL; generated under DATA_DIR for the embedded database. */
  opaqueServerSetup: string | undefined;
  /** Seals login state between the two steps of a login. Needed with PostgreSQL; generated under DATA_DIR otherwise. */
  loginStateKey: Buffer | undefined;
  /** The key-stretching profile new password registrations use. */
  passwordKsf: Ksf;
  /**
   * Where revocations (sessions, API keys, workstations, phones) are journaled, one file per
   * instance, so `post-restore` can re-apply those a database restore lost.
   */
  revocationJournalDir: string;
};

function costBudgets(overrides: Record<string, { points: number; durationSeconds: number }>): CostBudgets {
  const names = Object.keys(DEFAULT_COST_BUDGETS) as (keyof CostBudgets)[];
  return Object.fromEntries(names.map((name) => [name, overrides[name] ?? DEFAULT_COST_BUDGETS[name]])) as CostBudgets;
}

/** `host:port` as ioredis takes it; IPv6 in brackets. */
function hostPort(value: string, variable: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!match) throw new Error(`Invalid configuration: ${variable}: "${value}" is not host:port`);
  return { host: (match[1] ?? match[2])!, port: Number(match[3]) };
}

function redisTarget(url: string | undefined, sentinels: string[] | undefined, master: string, clusterNodes: string[] | undefined): RedisTarget | undefined {
  if (sentinels?.length && clusterNodes?.length) throw new Error("Invalid configuration: set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both");
  if (clusterNodes?.length) return { url, clusterNodes: clusterNodes.map((node) => hostPort(node, "REDIS_CLUSTER_NODES")) };
  if (sentinels?.length) return { url, sentinels: sentinels.map((node) => hostPort(node, "REDIS_SENTINELS")), sentinelMaster: master };
  return url ? { url } : undefined;
}

/** Empty variables mean "unset", as a shell user would expect. */
function setVariables(source: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
}

function parseOrExplain<T extends z.ZodType>(schema: T, source: Record<string, string | undefined>): z.output<T> {
  const parsed = schema.safeParse(setVariables(source));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const e = parseOrExplain(env, source);
  if (e.DATABASE_URL && !e.KEY_ENCRYPTION_KEY) {
    // A key generated per instance would leave each instance unable to read the
    // passwords the others stored, so PostgreSQL deployments must be given one.
    throw new Error(
      "Invalid configuration: KEY_ENCRYPTION_KEY is required when DATABASE_URL is set. Every API instance " +
        "must share one key-encryption key: generate it once with `openssl rand -base64 32` and give the same " +
        "KEY_ENCRYPTION_KEY (and KEY_ENCRYPTION_KEY_ID) to every instance.",
    );
  }
  return {
    production: e.NODE_ENV === "production",
    development: e.NODE_ENV === "development",
    host: e.API_HOST,
    port: e.API_PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    redis: redisTarget(e.REDIS_URL, e.REDIS_SENTINELS, e.REDIS_SENTINEL_MASTER, e.REDIS_CLUSTER_NODES),
    webOrigins: e.WEB_ORIGIN ?? [`http://localhost:${e.WEB_PORT}`, `http://127.0.0.1:${e.WEB_PORT}`],
    baseDomain: e.BASE_DOMAIN,
    trustedProxies: e.TRUSTED_PROXIES,
    signUpEnabled: e.SIGNUP_ENABLED,
    signUpsPerHourPerIp: e.SIGNUPS_PER_HOUR_PER_IP,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    sessionMaxAgeHours: e.SESSION_MAX_AGE_HOURS,
    logLevel: e.LOG_LEVEL,
    pseudonymKey: e.LOG_PSEUDONYM_KEY,
    challengeTtlSeconds: e.CHALLENGE_TTL_SECONDS,
    rateLimitOverrides: e.RATE_LIMIT_OVERRIDES ?? {},
    costBudgets: costBudgets(e.RATE_LIMIT_OVERRIDES ?? {}),
    rateLimitNamespace: e.RATE_LIMIT_NAMESPACE,
    transportLimits: { ...DEFAULT_TRANSPORT_LIMITS, ...e.TRANSPORT_LIMITS },
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    keyEncryptionKey: e.KEY_ENCRYPTION_KEY ? { id: e.KEY_ENCRYPTION_KEY_ID, key: e.KEY_ENCRYPTION_KEY } : undefined,
    deviceCookieKey: e.DEVICE_COOKIE_KEY,
    emailCodeKey: e.EMAIL_CODE_KEY,
    jobQueueSchema: e.JOB_QUEUE_SCHEMA,
    webhookTargets: { allowPrivate: e.WEBHOOK_ALLOW_PRIVATE_TARGETS, allowedRanges: e.WEBHOOK_ALLOWED_TARGET_RANGES },
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    opaqueServerSetup: e.OPAQUE_SERVER_SETUP,
    loginStateKey: e.LOGIN_STATE_KEY,
    passwordKsf: e.PASSWORD_KSF,
    revocationJournalDir: e.REVOCATION_JOURNAL_DIR ?? join(e.DATA_DIR, "revocations"),
    portalDocuments: {
      mode: e.PORTAL_DOCUMENTS,
      manifests: e.PORTAL_DOCUMENT_MANIFESTS ?? [BUILT_PORTAL_MANIFEST],
    },
  };
}

/**
 * Settings whose values are never shown, only whether they are set. Unset, the
 * embedded default generates each under DATA_DIR/secrets (with PostgreSQL, only LOG_PSEUDONYM_KEY).
 */
const SECRET_SETTINGS = new Set(["KEY_ENCRYPTION_KEY", "DEVICE_COOKIE_KEY", "EMAIL_CODE_KEY", "OPAQUE_SERVER_SETUP", "LOGIN_STATE_KEY", "LOG_PSEUDONYM_KEY"]);

/** Settings that are URLs and may carry a password. */
const URL_SETTINGS = new Set(["DATABASE_URL", "REDIS_URL", "SMTP_URL"]);

export type SettingInEffect = { name: string; value: string; from: "environment" | "default" | "generated" | "unset" };

/**
 * Every setting as this configuration reads it and where its value came from,
 * for `npm run doctor`: secrets only as "(set)", URLs without their password.
 * Throws what loadConfig throws.
 */
export function settingsInEffect(source: Record<string, string | undefined> = process.env): SettingInEffect[] {
  const config = loadConfig(source);
  const given = setVariables(source);
  const parsed = env.parse(given) as Record<string, unknown>;
  // Defaults worked out from other settings.
  const derived: Record<string, string> = {
    WEB_ORIGIN: config.webOrigins.join(","),
    REVOCATION_JOURNAL_DIR: config.revocationJournalDir,
    PORTAL_DOCUMENT_MANIFESTS: config.portalDocuments.manifests.join(","),
  };
  return Object.keys(env.shape).map((name): SettingInEffect => {
    if (name in given) {
      const value = SECRET_SETTINGS.has(name) ? "(set)" : URL_SETTINGS.has(name) ? withoutPassword(given[name]!) : shown(parsed[name]);
      return { name, value, from: "environment" };
    }
    if (derived[name] !== undefined) return { name, value: derived[name], from: "default" };
    if (SECRET_SETTINGS.has(name) && (!config.databaseUrl || name === "LOG_PSEUDONYM_KEY")) return { name, value: "(under DATA_DIR/secrets)", from: "generated" };
    if (parsed[name] === undefined) return { name, value: "", from: "unset" };
    return { name, value: shown(parsed[name]), from: "default" };
  });
}

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function withoutPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(not a URL)";
  }
}

/** The manifest `npm run generate` writes beside the portal in this repository. */
const BUILT_PORTAL_MANIFEST = join(repoRoot, "web/src/gql/operations-manifest.json");

const keyRotationEnv = z.object({
  NEW_KEY_ENCRYPTION_KEY: secretKey,
  NEW_KEY_ENCRYPTION_KEY_ID: keyId,
});

/** The key `rewrap-keys` moves the tenant data keys to; the old one is the configured KEY_ENCRYPTION_KEY. */
export function loadNewKeyEncryptionKey(source: Record<string, string | undefined> = process.env): KeyEncryptionKey {
  const e = parseOrExplain(keyRotationEnv, source);
  return { id: e.NEW_KEY_ENCRYPTION_KEY_ID, key: e.NEW_KEY_ENCRYPTION_KEY };
}
