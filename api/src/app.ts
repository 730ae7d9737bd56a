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
import { createYoga } from "graphql-yoga";
import { openDatabase } from "@latchkey/db";
import {
  ChallengeWaiters,
  SessionCache,
  SessionDeadlines,
  DeviceCookies,
  SignInAdmission,
  systemClock,
  type Clock,
  PasswordAuthentication,
  TenantKeys,
  RateLimits,
  ReplayGuard,
  refreshUsernameKeys,
  enqueueDueDeliveries,
  TenantKeyring,
  limiterFactory,
  schema,
  type Services,
} from "@latchkey/schema";
import { isAuditExportRequest, serveAuditExport } from "./audit-export-route.ts";
import { isBrandingRequest, serveBrandingImage } from "./branding-route.ts";
import { clientIpResolver } from "./client-ip.ts";
import type { Config } from "./config.ts";
import { contextFactory, isPortalSession } from "./context.ts";
import { keepDataDirRestricted, localSecret, prepareDataDir, restrictDataDir } from "./data-dir.ts";
import { checkedServerPublicKey, deploymentFor, ensureTenantKeyPairs, resolveServerSetup } from "./password-setup.ts";
import { DurableJobQueue } from "./jobs.ts";
import { resolveKeyEncryptionKey } from "./key-encryption-key.ts";
import { answeredWithin } from "./answered-within.ts";
import { maskedErrors, yogaLogging } from "./error-reporting.ts";
import { OPERATION_LIMITS, OpenCounts, type TransportLimits } from "./limits.ts";
import { createLogger, requestScope } from "./log.ts";
import { useGraphqlSpans } from "./observability/graphql-spans.ts";
import { Metrics } from "./observability/metrics.ts";
import { tracingEnabled } from "./observability/tracing.ts";
import { REQUEST_ID_HEADER, requestIdResolver } from "./observability/request-id.ts";
import { originRule } from "./origins.ts";
import { TenantAddresses } from "./tenant-addresses.ts";
import { useOperationLimits } from "./plugins/limits.ts";
import { RATE_LIMIT_HEADERS, useOperationCost } from "./plugins/operation-cost.ts";
import { loadTrustedDocuments, useTrustedDocuments } from "./trusted-documents.ts";
import { useRequestBodyLimit } from "./plugins/request-body.ts";
import { useSubscriptionRevocation } from "./plugins/revocation.ts";
import { useHttpSubscriptionCaps } from "./plugins/subscription-caps.ts";
import { startHousekeeping } from "./housekeeping.ts";
import { createMailer } from "./mailer.ts";
import { createWebhookSender, startWebhookRetries, type HostResolver } from "./webhook-sender.ts";
import { RevocationJournalFile } from "./revocation-journal.ts";
import { checkSecretFingerprints } from "./secret-fingerprints.ts";
import { createAppPubSub } from "./pubsub.ts";
import { attachWebSocket } from "./websocket.ts";

// The multipart parser keeps parts in memory: bound what it will hold whatever
// the Content-Length said (or if there was none, as with a chunked body).
function uploadFetchAPI(limits: TransportLimits) {
  return createFetch({
    formDataLimits: { files: 1, fileSize: limits.uploadBodyBytes, parts: 4, fieldSize: limits.requestBodyBytes },
  });
}

export type App = {
  /** Listens on `port` (0 picks a free one) and resolves to the bound URL. */
  start(port?: number, host?: string): Promise<string>;
  /** Where GET /metrics answers once started; null when METRICS_PORT is unset. */
  readonly metricsUrl: string | null;
  /**
   * Stops gracefully: refuses new connections, answers /readyz with 503, asks
   * WebSocket clients to reconnect elsewhere (close code 1012), lets in-flight
   * requests finish within SHUTDOWN_GRACE_SECONDS, then stops.
   */
  drain(): Promise<void>;
  stop(): Promise<void>;
  services: Services;
  /** The durable job queue and its workers. */
  jobs: DurableJobQueue;
};

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
 * A secret every instance must share: configured, or for the embedded default
 * generated once under DATA_DIR/secrets. Instances sharing PostgreSQL must
 * share it, so there it has to be configured.
 */
async function sharedSecret(
  config: Pick<Config, "databaseUrl" | "dataDir">,
  configured: Buffer | undefined,
  variable: string,
  file: string,
  why: string,
): Promise<Buffer> {
  if (configured) return configured;
  if (config.databaseUrl) {
    throw new Error(
      `Invalid configuration: ${variable} is required when DATABASE_URL is set. ${why} Generate it once with ` +
        `\`openssl rand -base64 32\` and give the same ${variable} to every instance.`,
    );
  }
  return localSecret(config.dataDir, file);
}

export type BuildOptions = {
  /** Where log lines go (stdout by default); tests read them back. */
  logDestination?: { write(line: string): void };
  /** Sees every SQL statement (tests count them to catch N+1 queries). */
  onQuery?: (sql: string) => void;
  /** What sessions are timed by; tests move theirs by hand. */
  clock?: Clock;
  /** Rows per page an audit export reads (at most, and by default, 1,000); tests ask for smaller pages. */
  auditExportPageSize?: number;
  /** Awaited before an audit export reads each page after its first: tests hold it there. */
  beforeAuditExportPage?: (pagesSent: number) => Promise<void>;
  /** Resolves webhook targets' names (the system's DNS by default); tests answer what they need. */
  webhookResolver?: HostResolver;
  /** How often this instance looks for webhook retries that are due (5 s by default). */
  webhookRetryCheckMs?: number;
};

/** How long /readyz waits for the database and Redis to answer a ping. */
const READINESS_TIMEOUT_MS = 2_000;

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<App> {
  const log = createLogger(config.logLevel, options.logDestination);
  // Before anything is written there: others must not be able to change what we keep.
  await prepareDataDir(config.dataDir);
  // Before the database opens: an instance without its keys must not start at all.
  const keyEncryptionKey = await resolveKeyEncryptionKey(config);
  const codeKey = await sharedSecret(config, config.emailCodeKey, "EMAIL_CODE_KEY", "email-code.key", "A code hashed by one instance is checked by whichever instance the phone reaches next.");
  const deviceCookieKey = await sharedSecret(config, config.deviceCookieKey, "DEVICE_COOKIE_KEY", "device-cookie.key", "A browser known to one instance must be known to all of them.");
  const loginStateKey = await sharedSecret(config, config.loginStateKey, "LOGIN_STATE_KEY", "login-state.key", "A password login started on one instance is finished on whichever instance the client reaches next.");
  // Before the database opens: a portal held to a manifest that is missing must not start.
  // Asked only once requests arrive, when `services` below exists.
  const trustedDocuments = loadTrustedDocuments(config.portalDocuments, (token) => isPortalSession(services, token), log);
  log.info("portal operations", {
    registeredOnly: trustedDocuments.registeredOnly,
    manifests: trustedDocuments.manifests.map((one) => `${one.path} (version ${one.version}, ${one.operations} operations)`).join("; ") || "none",
  });
  // A path mistyped in an upgrade's list of two is otherwise only noticed when the other build's pages fail.
  if (config.portalDocuments.mode !== "any") {
    for (const path of trustedDocuments.missing) log.warn("no portal operations manifest at a configured path", { path });
  }
  const serverSetup = await resolveServerSetup(config);
  const serverPublicKey = await checkedServerPublicKey(serverSetup);
  const key = await pseudonymKey(config);
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
    poolSize: config.databasePoolSize,
    onQuery: options.onQuery,
  });
  const deploymentId = await deploymentFor(db.prisma, serverPublicKey)
    .then(async (id) => {
      // Before anything is written with them: secrets that are not the deployment's refuse the start.
      await checkSecretFingerprints(db.prisma, config.jobQueueSchema, {
        keyEncryptionKey,
        opaqueServerSetup: serverSetup,
        emailCodeKey: codeKey,
        // Unset with PostgreSQL, each instance makes its own: nothing shared to compare.
        logPseudonymKey: config.pseudonymKey ?? (config.databaseUrl ? null : key),
      });
      return id;
    })
    .catch(async (error: unknown) => {
      await db.close();
      throw error;
    });
  const tenantKeys = new TenantKeys(keyEncryptionKey);
  await ensureTenantKeyPairs(db.prisma, (tenantId) => tenantKeys.publicKeyFor(db.prisma, tenantId));
  await refreshUsernameKeys({ db: db.prisma, log });
  const bus = await createAppPubSub(config.redis, log);
  const limiter = limiterFactory(bus.redis ?? undefined, config.rateLimitNamespace);

  const clock = options.clock ?? systemClock;
  const challengeWaiters = new ChallengeWaiters(db.prisma, log, clock);
  const sessionCache = new SessionCache();
  const sessionDeadlines = new SessionDeadlines(db.prisma, clock, log);
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
  const revocationJournal = await RevocationJournalFile.open(config.revocationJournalDir, log);
  const services: Services = {
    db: db.prisma,
    challengeWaiters,
    sessionCache,
    sessionDeadlines,
    clock,
    pubsub: bus.pubsub,
    jobs,
    log,
    keyring: new TenantKeyring(keyEncryptionKey),
    passwordAuth: await PasswordAuthentication.create({ serverSetup, deploymentId, loginStateKey, ksf: config.passwordKsf }),
    tenantKeys,
    replayGuard: new ReplayGuard(limiter),
    revocationJournal,
    signInAdmission: new SignInAdmission(limiter, "signIn"),
    desktopAdmission: new SignInAdmission(limiter, "desktopSignIn"),
    deviceCookies: new DeviceCookies(deviceCookieKey),
    webhookSender: createWebhookSender({ allowance: config.webhookTargets, resolve: options.webhookResolver }),
    limits: new RateLimits(limiter, {
      signUp: { points: config.signUpsPerHourPerIp, durationSeconds: 3600 },
      signUpRegistrationPerIp: { points: config.signUpsPerHourPerIp * 2, durationSeconds: 3600 },
      ...config.rateLimitOverrides,
    }),
    config: {
      signUpEnabled: config.signUpEnabled,
      challengeTtlSeconds: config.challengeTtlSeconds,
      sessionIdleMinutes: config.sessionIdleMinutes,
      sessionMaxAgeHours: config.sessionMaxAgeHours,
      pseudonymize: (value) => createHmac("sha256", key).update(value).digest("hex").slice(0, 32),
      hashEmailCode: (emailKey, code) => createHmac("sha256", codeKey).update(`${emailKey}:${code}`).digest("hex"),
      portalUrl: config.webOrigins[0]!,
      webhookTargets: config.webhookTargets,
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
  const requestId = requestIdResolver(config.trustedProxies);
  const metrics =
    config.metricsPort === undefined
      ? null
      : new Metrics({
          challengeWaiters: () => (challengeWaiters as unknown as { waiters: Map<string, Set<unknown>> }).waiters.size,
          jobQueueDepth: () => jobs.pending(),
          databasePool: () => db.poolStats(),
        });
  const tenantAddresses = new TenantAddresses(db.prisma, log);
  await tenantAddresses.start();
  const originAllowed = originRule(config, (slug) => tenantAddresses.has(slug));
  const limits = config.transportLimits;
  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }>({
    schema,
    context: contextFactory(services, clientIp) as never,
    graphqlEndpoint: "/graphql",
    fetchAPI: uploadFetchAPI(limits),
    graphiql: config.development,
    landingPage: false,
    maskedErrors,
    logging: yogaLogging(log),
    // The outer bound; useRequestBodyLimit holds each kind of body to its own.
    maxRequestBodySize: limits.uploadBodyBytes,
    // An allowed origin is echoed back with Vary: Origin (what yoga does for
    // "*", here only once the rule has allowed it); any other gets no CORS headers.
    cors: (request, serverContext) => {
      const origin = request.headers.get("origin");
      return origin !== null && originAllowed(origin, (serverContext as { req?: IncomingMessage } | undefined)?.req)
        ? { origin: ["*"], credentials: true, methods: ["GET", "POST"], exposedHeaders: [REQUEST_ID_HEADER, ...RATE_LIMIT_HEADERS] }
        : false;
    },
    // Cookie-authenticated requests must not be forgeable cross-site: a request
    // without a preflight-forcing header is refused.
    plugins: [
      useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] }),
      useCookies(),
      useTrustedDocuments(trustedDocuments),
      useRequestBodyLimit(limits),
      useOperationLimits(config.development),
      useOperationCost({ maxCost: OPERATION_LIMITS.maxCost, budgets: config.costBudgets, limiter, onRefused: (budget) => metrics?.refused(budget) }),
      useHttpSubscriptionCaps(limits, new OpenCounts()),
      useSubscriptionRevocation(),
      ...(metrics?.plugins() ?? []),
      ...(tracingEnabled() ? [useGraphqlSpans()] : []),
    ],
  });

  let draining = false;
  /** HTTP requests being answered now; a draining instance waits for them. */
  const inFlight = new Map<Promise<void>, ServerResponse>();
  const server = createServer((req, res) => {
    const id = requestId(req);
    res.setHeader(REQUEST_ID_HEADER, id);
    const handled = requestScope.run({ requestId: id }, () => handle(req, res)).catch((error: unknown) => {
      log.error("request failed", { error: String(error) });
      if (!res.headersSent) res.writeHead(500).end();
    });
    const done = handled.then(() => undefined);
    inFlight.set(done, res);
    void done.finally(() => inFlight.delete(done));
  });
  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (draining) res.setHeader("connection", "close");
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (req.url === "/readyz") {
      if (draining) {
        res.writeHead(503, { "content-type": "application/json", connection: "close" }).end('{"status":"draining"}');
        return;
      }
      // A Redis or database that hangs (stopped, or packets dropped) keeps its connection open
      // and never answers: the probe says "not ready" in time rather than hang the orchestrator's check.
      const checks = await Promise.allSettled([
        answeredWithin(db.ping(), READINESS_TIMEOUT_MS, "the database"),
        answeredWithin(bus.ping(), READINESS_TIMEOUT_MS, "pub/sub"),
      ]);
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
    if (isAuditExportRequest(req)) {
      await serveAuditExport(req, res, services, { clientIp, pageSize: options.auditExportPageSize, beforeNextPage: options.beforeAuditExportPage });
      return;
    }
    // The node adapter passes { req, res } on to the context as server context.
    await yoga(req, res);
  }
  const ws = attachWebSocket(server, yoga as never, { limits, originAllowed, clientIp, log, metrics, requestId, trustedDocuments });
  const stopHousekeeping = startHousekeeping(services);
  const stopWebhookRetries = startWebhookRetries(
    () => enqueueDueDeliveries(services),
    options.webhookRetryCheckMs ?? 5_000,
    (error) => log.warn("webhook retries could not be claimed", { error: String(error) }),
  );

  let metricsUrl: string | null = null;
  let stopped: Promise<void> | null = null;

  async function stopEverything() {
    stopHousekeeping();
    tenantAddresses.stop();
    stopWebhookRetries();
    challengeWaiters.close();
    sessionDeadlines.close();
    await endedSessions.return?.();
    await ws.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await metrics?.close();
    await jobs.stop();
    await revocationJournal.close();
    await bus.close();
    await db.close();
    stopRestricting();
    await restrictDataDir(config.dataDir);
  }

  return {
    services,
    jobs,
    get metricsUrl() {
      return metricsUrl;
    },
    async start(port = config.port, host = config.host) {
      if (metrics) {
        metricsUrl = await metrics.listen(config.metricsPort!, config.metricsHost, log);
        log.info("metrics listening", { url: `${metricsUrl}/metrics` });
      }
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost === "0.0.0.0" ? "127.0.0.1" : shownHost}:${address.port}`);
        });
      });
    },
    drain() {
      stopped ??= (async () => {
        draining = true;
        const started = Date.now();
        // No new connections; idle keep-alive ones are closed, busy ones close after their answer.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Waiting screens reconnect to another instance and re-read their state there.
        ws.restart();
        // Each answer still to come closes its connection behind it.
        for (const res of inFlight.values()) if (!res.headersSent) res.setHeader("connection", "close");
        const pending = inFlight.size;
        log.info("draining: no new connections; finishing in-flight requests", { inFlight: pending, graceSeconds: config.shutdownGraceMs / 1000 });
        const grace = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), config.shutdownGraceMs).unref());
        const outcome = await Promise.race([Promise.all([...inFlight.keys()]).then(() => "done" as const), grace]);
        if (outcome === "timeout") log.warn("draining: requests still running at the end of the grace period are cut off", { inFlight: inFlight.size });
        log.info("drained", { ms: Date.now() - started, finished: pending - inFlight.size });
        void closed;
        await stopEverything();
      })();
      return stopped;
    },
    stop() {
      stopped ??= stopEverything();
      return stopped;
    },
  };
}
