// One API instance: yoga over HTTP and graphql-ws on the same path, health
// endpoints beside them. buildApp() wires the parts; start()/stop() own the
// port and every connection, so tests and `main.ts` run the same thing.
import { createHmac, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { useCookies } from "@whatwg-node/server-plugin-cookies";
import { createFetch } from "@whatwg-node/fetch";
import { createGraphQLError, createYoga, maskError } from "graphql-yoga";
import { openDatabase } from "@latchkey/db";
import {
  ChallengeWaiters,
  SessionCache,
  LoginThrottle,
  PasswordHasher,
  PasswordVault,
  RateLimits,
  TenantKeyring,
  limiterFactory,
  schema,
  type Services,
} from "@latchkey/schema";
import { isBrandingRequest, serveBrandingImage } from "./branding-route.ts";
import { clientIpResolver } from "./client-ip.ts";
import type { Config } from "./config.ts";
import { contextFactory } from "./context.ts";
import { keepDataDirRestricted, localSecret, prepareDataDir, restrictDataDir } from "./data-dir.ts";
import { DurableJobQueue } from "./jobs.ts";
import { resolveKeyEncryptionKey } from "./key-encryption-key.ts";
import { createLogger } from "./log.ts";
import { useOperationLimits } from "./plugins/limits.ts";
import { useSubscriptionRevocation } from "./plugins/revocation.ts";
import { startHousekeeping } from "./housekeeping.ts";
import { createMailer } from "./mailer.ts";
import { createAppPubSub } from "./pubsub.ts";
import { attachWebSocket } from "./websocket.ts";

/** Largest accepted HTTP request body. */
const MAX_BODY_BYTES = 256 * 1024;
/** Multipart requests carry one branding image (5 MiB at most) beside the operation. */
const MAX_UPLOAD_BODY_BYTES = 6 * 1024 * 1024;
// The multipart parser keeps parts in memory: bound what it will hold whatever
// the Content-Length said (or if there was none, as with a chunked body).
const uploadFetchAPI = createFetch({
  formDataLimits: { files: 1, fileSize: MAX_UPLOAD_BODY_BYTES, parts: 4, fieldSize: MAX_BODY_BYTES },
});

export type App = {
  /** Listens on `port` (0 picks a free one) and resolves to the bound URL. */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  services: Services;
  /** The durable job queue and its workers. */
  jobs: DurableJobQueue;
};

/**
 * Finds one of the schema's expected errors (an AppError) in a wrapped error.
 * Checked by shape, not instanceof: graphql ships both ESM and CommonJS builds,
 * and errors may come from either copy.
 */
function expectedError(error: unknown): { message: string; code: string } | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth += 1) {
    const candidate = current as { message?: unknown; code?: unknown; extensions?: { code?: unknown }; originalError?: unknown };
    if (typeof candidate.code === "string" && candidate.extensions?.code === candidate.code && typeof candidate.message === "string") {
      return { message: candidate.message, code: candidate.code };
    }
    current = candidate.originalError;
  }
  return null;
}

/** A key for pseudonymising log values, kept under DATA_DIR so it survives restarts. */
async function pseudonymKey(config: Config): Promise<string> {
  if (config.pseudonymKey) return config.pseudonymKey;
  const dir = join(config.dataDir, "secrets");
  const file = join(dir, "log-pseudonym.key");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const key = randomBytes(32).toString("base64url");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, key, { mode: 0o600, flag: "wx" }).catch(() => undefined);
    return (await readFile(file, "utf8")).trim();
  }
}

/**
 * The key of emailed codes' hashes: configured, or for the embedded default
 * generated once under DATA_DIR/secrets. Instances sharing PostgreSQL must
 * share it, so there it has to be configured.
 */
async function emailCodeKey(config: Pick<Config, "emailCodeKey" | "databaseUrl" | "dataDir">): Promise<Buffer> {
  if (config.emailCodeKey) return config.emailCodeKey;
  if (config.databaseUrl) {
    // A code hashed by one instance is checked by whichever instance the phone reaches next.
    throw new Error(
      "Invalid configuration: EMAIL_CODE_KEY is required when DATABASE_URL is set. Every API instance " +
        "must share one key for emailed codes: generate it once with `openssl rand -base64 32` and give the same " +
        "EMAIL_CODE_KEY to every instance.",
    );
  }
  return localSecret(config.dataDir, "email-code.key");
}

export type BuildOptions = {
  /** Where log lines go (stdout by default); tests read them back. */
  logDestination?: { write(line: string): void };
  /** Sees every SQL statement (tests count them to catch N+1 queries). */
  onQuery?: (sql: string) => void;
};

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<App> {
  const log = createLogger(config.logLevel, options.logDestination);
  // Before anything is written there: others must not be able to change what we keep.
  await prepareDataDir(config.dataDir);
  // Before the database opens: an instance without its keys must not start at all.
  const keyEncryptionKey = await resolveKeyEncryptionKey(config);
  const codeKey = await emailCodeKey(config);
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
    poolSize: config.databasePoolSize,
    onQuery: options.onQuery,
  });
  const bus = await createAppPubSub(config.redisUrl, log);
  const key = await pseudonymKey(config);
  const limiter = limiterFactory(bus.redis ?? undefined, config.rateLimitNamespace);

  const challengeWaiters = new ChallengeWaiters(db.prisma, log);
  const sessionCache = new SessionCache();
  // Whatever Redis dropped while our subscriber was away, the waiters re-read,
  // and sessions ended meanwhile must not live on in the cache.
  bus.onResumed(() => {
    challengeWaiters.wakeAll();
    sessionCache.clear();
  });
  const endedSessions = bus.pubsub.subscribe("sessions:ended");
  void (async () => {
    for await (const { sessionIds } of endedSessions) sessionCache.forget(sessionIds);
  })().catch((error: unknown) => log.error("session cache listener stopped", { error: String(error) }));
  const jobs = await DurableJobQueue.start({ database: db, prisma: db.prisma, schema: config.jobQueueSchema, log });
  const services: Services = {
    db: db.prisma,
    challengeWaiters,
    sessionCache,
    pubsub: bus.pubsub,
    jobs,
    log,
    passwords: new PasswordHasher(config.argon2Concurrency),
    vault: new PasswordVault(new TenantKeyring(keyEncryptionKey)),
    throttle: new LoginThrottle(limiter),
    desktopThrottle: new LoginThrottle(limiter, "desktopLogin"),
    limits: new RateLimits(limiter, {
      signUp: { points: config.signUpsPerHourPerIp, durationSeconds: 3600 },
      ...config.rateLimitOverrides,
    }),
    config: {
      signUpEnabled: config.signUpEnabled,
      challengeTtlSeconds: config.challengeTtlSeconds,
      sessionIdleMinutes: config.sessionIdleMinutes,
      sessionMaxAgeHours: config.sessionMaxAgeHours,
      pseudonymize: (value) => createHmac("sha256", key).update(value).digest("hex").slice(0, 32),
      hashEmailCode: (emailKey, code) => createHmac("sha256", codeKey).update(`${emailKey}:${code}`).digest("hex"),
    },
  };
  // Only jobs send mail: requests enqueue it and answer.
  await jobs.work({
    ...services,
    mailer: createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: join(config.dataDir, "outbox") }),
  });
  // PGlite has made its files (0666) by now, and the queue its tables.
  await restrictDataDir(config.dataDir);
  const stopRestricting = keepDataDirRestricted(config.dataDir, (error) => log.warn("could not restrict DATA_DIR", { error: String(error) }));

  const clientIp = clientIpResolver(config.trustedProxies);
  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }>({
    schema,
    context: contextFactory(services, clientIp) as never,
    graphqlEndpoint: "/graphql",
    fetchAPI: uploadFetchAPI,
    graphiql: config.development,
    landingPage: false,
    // Expected failures outside a result union (a refused subscription, an
    // unauthorised field) keep their code and message; anything else is logged
    // and masked, never its message or stack.
    maskedErrors: {
      isDev: false,
      maskError(error, message) {
        const expected = expectedError(error);
        if (expected) {
          const { nodes, path } = error as { nodes?: never; path?: readonly (string | number)[] };
          return createGraphQLError(expected.message, { nodes, path, extensions: { code: expected.code } });
        }
        return maskError(error, message, false);
      },
    },
    logging: {
      debug: () => undefined,
      info: (...args) => log.info(String(args[0])),
      warn: (...args) => log.warn(String(args[0])),
      error: (...args) => log.error("unexpected error", { error: args.map(String).join(" ") }),
    },
    cors: { origin: config.webOrigins, credentials: true, methods: ["GET", "POST"] },
    // Cookie-authenticated requests must not be forgeable cross-site: a request
    // without a preflight-forcing header is refused.
    plugins: [
      useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] }),
      useCookies(),
      useOperationLimits(config.development),
      useSubscriptionRevocation(),
      {
        onRequest({ request, fetchAPI, endResponse }) {
          const length = Number(request.headers.get("content-length") ?? 0);
          const multipart = request.headers.get("content-type")?.toLowerCase().startsWith("multipart/form-data") ?? false;
          if (length > (multipart ? MAX_UPLOAD_BODY_BYTES : MAX_BODY_BYTES)) {
            endResponse(new fetchAPI.Response("Request too large", { status: 413 }));
          }
        },
      },
    ],
  });

  const server = createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (req.url === "/readyz") {
      const checks = await Promise.allSettled([db.ping(), bus.ping()]);
      const ready = checks.every((check) => check.status === "fulfilled");
      res
        .writeHead(ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ready ? "ready" : "unavailable", database: checks[0]!.status === "fulfilled", pubsub: checks[1]!.status === "fulfilled" }));
      return;
    }
    if (isBrandingRequest(req)) {
      await serveBrandingImage(req, res, { db: db.prisma, log });
      return;
    }
    // The node adapter passes { req, res } on to the context as server context.
    await yoga(req, res);
  });
  const ws = attachWebSocket(server, yoga as never, config.webOrigins);
  const stopHousekeeping = startHousekeeping(services);

  return {
    services,
    jobs,
    start(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost === "0.0.0.0" ? "127.0.0.1" : shownHost}:${address.port}`);
        });
      });
    },
    async stop() {
      stopHousekeeping();
      challengeWaiters.close();
      await endedSessions.return?.();
      await ws.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await jobs.stop();
      await bus.close();
      await db.close();
      stopRestricting();
      await restrictDataDir(config.dataDir);
    },
  };
}
