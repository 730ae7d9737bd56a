// Many waiting requesters: approval-to-notification latency and memory per idle
// subscription, with two API processes sharing PostgreSQL and Redis.
//
//   npm run bench:subscribers --workspace bench      (or: npm run bench, which runs both benches)
//
// For each N (default 1,000 and 10,000): two fresh API processes (A and B) on
// loopback; N PORTAL_LOGIN challenges started through the public
// `startLoginChallenge`; N graphql-ws `challengeUpdated` subscriptions opened on
// A over ceil(N / 20) WebSocket connections (the API allows 20 per connection);
// A's resident memory (VmRSS of its node process) and its JS heap (after a
// garbage collection asked for through A's loopback inspector) read before and
// after, with as many warm-up waiters (up to 2,000) already waiting; then a
// sample of the challenges scanned and approved one after another by the
// reference mobile authenticator talking to B, timing the moment the approve
// mutation is answered against the moment A's waiter receives APPROVED. In the
// same run, the same number of raw Redis messages (ioredis publisher ->
// subscriber) give the floor the fan-out cannot beat. Prints a table, writes
// JSON to bench/results/, never fails on a timing.
//
// Needs PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set; otherwise a
// throw-away database created with psql on BENCH_PG_ADMIN_URL (default
// postgresql://postgres@127.0.0.1:5432/postgres, dropped at the end) and
// redis://127.0.0.1:6379. Without either it prints why and exits 0.
//
// Knobs (environment): BENCH_SUBSCRIBERS (comma list, default "1000,10000"),
// BENCH_SAMPLE (approvals per N, default 200), BENCH_SUBS_PER_CONNECTION (default
// 20), BENCH_CREATE_CONCURRENCY
// (default 32), BENCH_CREATE_SECONDS / BENCH_OPEN_SECONDS / BENCH_APPROVE_SECONDS (time
// bounds per N, default 90 / 120 / 60: past one, the bench goes on with what it has
// and says so), BENCH_IDLE_SECONDS (idle window for CPU and memory, default 10),
// BENCH_DATABASE_POOL_SIZE (the APIs' DATABASE_POOL_SIZE; their default otherwise),
// BENCH_VERBOSE=1 to stream the servers' output, BENCH_A_NODE_ARGS (node flags for
// instance A only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Authenticator } from "@latchkey/mobile";
import { registerPassword } from "@latchkey/passwords";
import { createServerSetup } from "@latchkey/schema";
import { collectedHeapBytes } from "./process-stats.ts";
import { freePort, killAllServers, lastOutput, positive, sleep, startServer, stopServer, type ServerProcess } from "./server-processes.ts";
import { createClient, type Client } from "graphql-ws";
import { Redis } from "ioredis";
import WebSocket from "ws";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const TSX_CLI = join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
const API_MAIN = join(repoRoot, "api", "src", "main.ts");

const SIZES = (process.env.BENCH_SUBSCRIBERS || "1000,10000")
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const SAMPLE = positive("BENCH_SAMPLE", 200);
const PER_CONNECTION = positive("BENCH_SUBS_PER_CONNECTION", 20);
const CREATE_MS = positive("BENCH_CREATE_SECONDS", 90) * 1000;
const OPEN_MS = positive("BENCH_OPEN_SECONDS", 120) * 1000;
const APPROVE_MS = positive("BENCH_APPROVE_SECONDS", 60) * 1000;
const IDLE_MS = positive("BENCH_IDLE_SECONDS", 10) * 1000;
const CREATE_CONCURRENCY = positive("BENCH_CREATE_CONCURRENCY", 32);
const VERBOSE = process.env.BENCH_VERBOSE === "1";
const TARGETS = { p99Ms: 25, p99At: 10_000, bytesPerSubscription: 20 * 1024 };

class OutOfTime extends Error {}

/** A deadline for one N: every loop checks it, so the bench ends with what it measured. */
function deadline(ms: number) {
  const end = Date.now() + ms;
  return {
    left: () => end - Date.now(),
    check(what: string) {
      if (Date.now() > end) throw new OutOfTime(`time bound (${ms / 1000} s) reached while ${what}`);
    },
  };
}
type Deadline = ReturnType<typeof deadline>;

// ---------------------------------------------------------------- child processes

/** The pid of the node process that runs the API: tsx's CLI starts it as a child. */
function apiPid(child: ServerProcess): number {
  const root = child.process.pid!;
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    let kids: number[] = [];
    try {
      for (const task of readdirSyncSafe(`/proc/${pid}/task`)) {
        kids.push(...readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number));
      }
    } catch {
      kids = [];
    }
    for (const kid of kids) {
      const cmdline = readFileSafe(`/proc/${kid}/cmdline`).replace(/\0/g, " ");
      if (cmdline.includes("main.ts") && !cmdline.includes("cli.mjs")) return kid;
      queue.push(kid);
    }
  }
  return root; // tsx ran it in-process
}

function readFileSafe(path: string) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function readdirSyncSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** VmRSS in bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSafe(`/proc/${pid}/status`))?.[1];
  if (!kb) throw new Error(`cannot read VmRSS of ${pid}`);
  return Number(kb) * 1024;
}

/** CPU seconds (user + system) the process used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSafe(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / 100;
}

/** Median of a few readings, `gapMs` apart: RSS moves with the garbage collector. */
async function steadyRss(pid: number, readings = 5, gapMs = 400) {
  const values: number[] = [];
  for (let i = 0; i < readings; i++) {
    values.push(rss(pid));
    if (i < readings - 1) await sleep(gapMs);
  }
  return values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

// ---------------------------------------------------------------- API instances over HTTP

type GraphQLResponse = { data?: Record<string, any> | null; errors?: { message: string }[] };

async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Record<string, any>> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let body: GraphQLResponse;
  try {
    body = JSON.parse(text) as GraphQLResponse;
  } catch {
    throw new Error(`HTTP ${response.status} from ${url}, not JSON: ${text.slice(0, 300)}`);
  }
  if (body.errors?.length) throw new Error(`GraphQL errors (HTTP ${response.status}): ${JSON.stringify(body.errors)}`);
  return body.data ?? {};
}

type Env = {
  databaseUrl: string;
  redisUrl: string;
  kek: string;
  deviceCookieKey: string;
  emailCodeKey: string;
  loginStateKey: string;
  opaqueServerSetup: string;
  namespace: string;
};

type Instance = {
  name: string;
  child: ServerProcess;
  base: string;
  url: string;
  wsUrl: string;
  dataDir: string;
  pid: number;
  /** Instance A's inspector, through which the bench collects its garbage before reading memory. */
  inspectorPort: number | null;
};


async function startInstance(name: string, env: Env): Promise<Instance> {
  const dataDir = await mkdtemp(join(tmpdir(), `latchkey-bench-${name}-`));
  const port = await freePort();
  const inspectorPort = name === "a" ? await freePort() : null;
  const child = startServer(
    `api-${name}`,
    process.execPath,
    // The waiting instance runs with tsx as a loader (no CLI wrapper), its inspector on loopback
    // for garbage collection before memory readings, and any diagnostic node flags (e.g. --cpu-prof).
    inspectorPort
      ? [`--inspect=127.0.0.1:${inspectorPort}`, ...(process.env.BENCH_A_NODE_ARGS ?? "").split(" ").filter(Boolean), "--import", "tsx", API_MAIN]
      : [TSX_CLI, API_MAIN],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "production",
        API_HOST: "127.0.0.1",
        API_PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: env.databaseUrl,
        REDIS_URL: env.redisUrl,
        LOG_LEVEL: "warn",
        KEY_ENCRYPTION_KEY: env.kek,
        DEVICE_COOKIE_KEY: env.deviceCookieKey,
        EMAIL_CODE_KEY: env.emailCodeKey,
        LOGIN_STATE_KEY: env.loginStateKey,
        OPAQUE_SERVER_SETUP: env.opaqueServerSetup,
        // Only the sign-up registers a password: cheap key stretching for the bench's own client.
        PASSWORD_KSF: "test",
        ...(process.env.BENCH_DATABASE_POOL_SIZE ? { DATABASE_POOL_SIZE: process.env.BENCH_DATABASE_POOL_SIZE } : {}),
        // Long enough for the slowest N to open and approve.
        CHALLENGE_TTL_SECONDS: "600",
        SIGNUPS_PER_HOUR_PER_IP: "100000",
        RATE_LIMIT_NAMESPACE: env.namespace,
        // Every waiting requester is a socket from 127.0.0.1 without a credential.
        TRANSPORT_LIMITS: JSON.stringify({ unauthenticatedSocketsPerAddress: 1_000_000, operationsPerSocket: Math.max(20, PER_CONNECTION) }),
        // The bench is one client at 127.0.0.1, one tenant and one phone.
        RATE_LIMIT_OVERRIDES: JSON.stringify({
          challengeStartPerIp: { points: 10_000_000, durationSeconds: 60 },
          decisionPerDevice: { points: 1_000_000, durationSeconds: 60 },
          decisionPerUser: { points: 1_000_000, durationSeconds: 60 },
          emailCodePerIp: { points: 1_000_000, durationSeconds: 3600 },
          emailCodePerAddress: { points: 1_000_000, durationSeconds: 3600 },
          emailVerifyPerIp: { points: 1_000_000, durationSeconds: 3600 },
        }),
      },
      dataDir,
      verbose: VERBOSE,
      // Redis warnings would crowd out the output kept for error reports.
      ignore: (line) => line.includes("redis connection error"),
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 120_000;
  for (;;) {
    if (child.exited) throw new Error(`API ${name} exited before it was ready\n${lastOutput(child)}`);
    const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3_000) }).then(
      async (r) => (await r.arrayBuffer(), r.status === 200),
      () => false,
    );
    if (ready) break;
    if (Date.now() > end) throw new Error(`API ${name}: /readyz not 200 within 120 s\n${lastOutput(child)}`);
    await sleep(200);
  }
  return { name, child, base, url: `${base}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, dataDir, pid: apiPid(child), inspectorPort };
}

const SIGN_UP = `mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename
  ... on AuthPayload { token user { id } tenant { id slug } } ... on Error { code message } } }`;
const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id } qrPayload watchToken } ... on Error { code message } } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code message } } }`;
const APPROVE_PHONE = `mutation($id: ID!) { approveAuthenticator(input: { id: $id }) { __typename ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;

type Challenge = { id: string; qrPayload: string; watchToken: string };

async function seedTenant(a: Instance, b: Instance) {
  const slug = `bench-${randomBytes(4).toString("hex")}`;
  const email = `admin@${slug}.example.com`;
  const { registrationId } = await registerPassword((query, variables) => graphql(a.url, query, variables), { password: "a long random passphrase-2931" });
  const data = await graphql(a.url, SIGN_UP, {
    input: { slug, displayName: `Bench ${slug}`, firstName: "Bench", lastName: "Admin", email, passwordRegistrationId: registrationId },
  });
  if (data.signUpMsp?.__typename !== "AuthPayload") throw new Error(`signUpMsp: ${JSON.stringify(data.signUpMsp)}`);
  const { token, user } = data.signUpMsp as { token: string; user: { id: string } };

  // The phone talks to B; the job that emails its code runs on either instance.
  const phone = await Authenticator.create({ apiUrl: b.url });
  await phone.requestEmailVerification(email);
  const code = await emailedCode([a, b], email);
  await phone.verifyEmail(email, code, "Bench phone");
  const onboarding = await graphql(a.url, ONBOARD, { userId: user.id }, token);
  if (onboarding.startDeviceOnboarding?.__typename !== "StartDeviceOnboardingPayload") throw new Error(`startDeviceOnboarding: ${JSON.stringify(onboarding)}`);
  const { authenticator } = await phone.onboard(onboarding.startDeviceOnboarding.qrPayload);
  // The MSP's owner showed their own code: they approve their first phone themselves.
  const approved = await graphql(a.url, APPROVE_PHONE, { id: authenticator.id }, token);
  if (approved.approveAuthenticator?.__typename !== "ApproveAuthenticatorPayload") throw new Error(`approveAuthenticator: ${JSON.stringify(approved)}`);
  return { slug, phone };
}

async function emailedCode(instances: Instance[], address: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    for (const instance of instances) {
      const dir = join(instance.dataDir, "outbox");
      const names = (await readdir(dir).catch(() => [] as string[])).sort();
      const mails = await Promise.all(names.map((n) => readFile(join(dir, n), "utf8")));
      const mine = mails.filter((m) => m.toLowerCase().includes(`to: ${address.toLowerCase()}`));
      const code = /verification code is (\d{6,10})/.exec(mine.at(-1) ?? "")?.[1];
      if (code) return code;
    }
    await sleep(100);
  }
  throw new Error(`no code emailed to ${address} in ${instances.map((i) => i.name).join(" or ")}'s outbox`);
}

async function createChallenges(instances: Instance[], slug: string, count: number, limit: Deadline): Promise<Challenge[]> {
  const out: Challenge[] = [];
  let next = 0;
  const worker = async (w: number) => {
    while (next < count && limit.left() > 0) {
      next++;
      const instance = instances[w % instances.length]!;
      const data = await graphql(instance.url, START, { input: { tenant: slug, kind: "PORTAL_LOGIN" } });
      const payload = data.startLoginChallenge;
      if (payload?.__typename !== "StartLoginChallengePayload") throw new Error(`startLoginChallenge: ${JSON.stringify(payload)}`);
      out.push({ id: payload.challenge.id, qrPayload: payload.qrPayload, watchToken: payload.watchToken });
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, (_, w) => worker(w)));
  return out;
}

// ---------------------------------------------------------------- waiters

type Arrivals = Map<string, number>;

class Waiters {
  readonly clients: Client[] = [];
  readonly arrivals = new Map<string, Arrivals>();
  readonly failures: string[] = [];
  private readonly wakers = new Map<string, () => void>();

  constructor(private readonly wsUrl: string) {}

  private seen(id: string, status: string) {
    const at = performance.now();
    let map = this.arrivals.get(id);
    if (!map) this.arrivals.set(id, (map = new Map()));
    if (!map.has(status)) map.set(status, at);
    const key = `${id}:${status}`;
    this.wakers.get(key)?.();
    this.wakers.delete(key);
  }

  /** Resolves with the arrival time (performance.now()) of `status` on `id`. */
  when(id: string, status: string, timeoutMs: number): Promise<number> {
    const already = this.arrivals.get(id)?.get(status);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wakers.delete(`${id}:${status}`);
        reject(new Error(`no ${status} for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.wakers.set(`${id}:${status}`, () => {
        clearTimeout(timer);
        resolve(this.arrivals.get(id)!.get(status)!);
      });
    });
  }

  /** One WebSocket connection carrying `group.length` subscriptions; resolves once each has its first (PENDING) event. */
  async open(group: Challenge[], timeoutMs: number) {
    const client = createClient({ url: this.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    this.clients.push(client);
    for (const challenge of group) {
      client.subscribe<{ challengeUpdated: { id: string; status: string } }>(
        { query: WATCH, variables: { id: challenge.id, watchToken: challenge.watchToken } },
        {
          next: (value) => {
            const status = value.data?.challengeUpdated?.status;
            if (status) this.seen(challenge.id, status);
            else this.failures.push(`${challenge.id}: ${JSON.stringify(value.errors ?? value)}`);
          },
          error: (error) => void this.failures.push(`${challenge.id}: ${error instanceof Error ? error.message : JSON.stringify(error)}`),
          complete: () => undefined,
        },
      );
    }
    await Promise.all(group.map((c) => this.when(c.id, "PENDING", timeoutMs)));
  }

  async close() {
    await Promise.all(this.clients.splice(0).map((c) => Promise.resolve(c.dispose()).catch(() => undefined)));
  }
}

/** Waits until Redis counts a subscriber on every challenge's channel (A subscribes without waiting for Redis). */
async function untilSubscribedInRedis(redis: Redis, ids: string[], limit: Deadline) {
  let missing = ids;
  while (missing.length) {
    limit.check(`waiting for ${missing.length} Redis channel subscriptions`);
    const still: string[] = [];
    for (let i = 0; i < missing.length; i += 1000) {
      const chunk = missing.slice(i, i + 1000);
      const reply = (await redis.call("PUBSUB", "NUMSUB", ...chunk.map((id) => `challenge:updated:${id}`))) as (string | number)[];
      chunk.forEach((id, j) => {
        if (Number(reply[j * 2 + 1]) < 1) still.push(id);
      });
    }
    missing = still;
    if (missing.length) await sleep(100);
  }
}

// ---------------------------------------------------------------- figures

type Percentiles = { count: number; p50: number; p95: number; p99: number; max: number; mean: number };

function percentiles(values: number[]): Percentiles | null {
  if (!values.length) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1)!),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
  };
}

/** Raw Redis: one publisher, one subscriber, `count` messages one after another. */
async function redisBaseline(redisUrl: string, count: number): Promise<Percentiles | null> {
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const channel = `bench:latency:${randomBytes(6).toString("hex")}`;
  try {
    await subscriber.subscribe(channel);
    let wake: ((at: number) => void) | null = null;
    subscriber.on("message", (_channel, _message) => {
      const at = performance.now();
      wake?.(at);
    });
    const samples: number[] = [];
    for (let i = 0; i < count + 10; i++) {
      const received = new Promise<number>((resolve) => (wake = resolve));
      const sent = performance.now();
      await publisher.publish(channel, JSON.stringify({ id: randomBytes(16).toString("hex") }));
      const at = await Promise.race([received, sleep(5_000).then(() => Number.NaN)]);
      if (i >= 10 && Number.isFinite(at)) samples.push(at - sent); // the first 10 warm up
      await sleep(5);
    }
    return percentiles(samples);
  } finally {
    publisher.disconnect();
    subscriber.disconnect();
  }
}

// The phone's approve mutation, timed where it leaves and where its answer arrives.
type Timing = { sent: number; answered: number };
let lastApprove: Timing | null = null;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const approving = typeof init?.body === "string" && init.body.includes("approveChallenge(");
  const sent = performance.now();
  const response = await realFetch(input, init);
  if (approving) lastApprove = { sent, answered: performance.now() };
  return response;
};

type Run = {
  subscribers: number;
  connections: number;
  /** Subscriptions that received their first (PENDING) event in time. */
  opened: number;
  complete: boolean;
  notes: string[];
  timings: { createSeconds: number | null; openSeconds: number | null; approveSeconds: number | null };
  memory: {
    rssBeforeBytes: number | null;
    /** Median of a few readings at the end of the idle window. */
    rssAfterBytes: number | null;
    bytesPerSubscription: number | null;
    /** Lowest and highest reading in the idle window: the waiters' own garbage (the poll) swings RSS between GCs. */
    rssIdleMinBytes: number | null;
    rssIdleMaxBytes: number | null;
    bytesPerSubscriptionAtFloor: number | null;
    /** A's JS heap in use, each read right after a forced garbage collection. */
    heapBeforeBytes: number | null;
    heapAfterBytes: number | null;
    heapBytesPerSubscription: number | null;
  };
  idleCpuPercentOfOneCore: number | null;
  approvals: { requested: number; notified: number; failed: string[] };
  latencyMs: {
    /** approve mutation answered -> APPROVED at the waiter (negative: the waiter heard first). */
    fromApproveResponse: Percentiles | null;
    /** approve mutation sent -> APPROVED at the waiter. */
    fromApproveRequest: Percentiles | null;
    /** scan mutation answered -> SCANNED at the waiter. */
    scanFromResponse: Percentiles | null;
    redisPublishToReceive: Percentiles | null;
  };
  ratio: { p50: number | null; p95: number | null; p99: number | null };
  subscriptionErrors: string[];
  /** 1-minute load average at the start and the end: other work on the machine skews every figure. */
  loadAverage: { start: number; end: number | null };
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function runOne(n: number, env: Env): Promise<Run> {
  const connections = Math.ceil(n / PER_CONNECTION);
  const run: Run = {
    subscribers: n,
    connections,
    opened: 0,
    complete: false,
    notes: [],
    timings: { createSeconds: null, openSeconds: null, approveSeconds: null },
    memory: {
      rssBeforeBytes: null,
      rssAfterBytes: null,
      bytesPerSubscription: null,
      rssIdleMinBytes: null,
      rssIdleMaxBytes: null,
      bytesPerSubscriptionAtFloor: null,
      heapBeforeBytes: null,
      heapAfterBytes: null,
      heapBytesPerSubscription: null,
    },
    idleCpuPercentOfOneCore: null,
    approvals: { requested: 0, notified: 0, failed: [] },
    latencyMs: { fromApproveResponse: null, fromApproveRequest: null, scanFromResponse: null, redisPublishToReceive: null },
    ratio: { p50: null, p95: null, p99: null },
    subscriptionErrors: [],
    loadAverage: { start: round(loadavg()[0]!), end: null },
  };
  console.log(
    `\n== ${n.toLocaleString("en")} waiting subscribers on A (${connections} WebSocket connections); bounds: ` +
      `create ${CREATE_MS / 1000} s, open ${OPEN_MS / 1000} s, approve ${APPROVE_MS / 1000} s`,
  );
  const instances: Instance[] = [];
  let waiters: Waiters | null = null;
  let warmWaiters: Waiters | null = null;
  const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 1 });
  const approveFromResponse: number[] = [];
  const approveFromRequest: number[] = [];
  const scanFromResponse: number[] = [];
  try {
    const [a, b] = await Promise.all([startInstance("a", env), startInstance("b", env)]);
    instances.push(a, b);
    console.log(`  API A ${a.base} (pid ${a.pid}), API B ${b.base} (pid ${b.pid})`);
    const { slug, phone } = await seedTenant(a, b);
    console.log(`  seeded tenant ${slug}; phone enrolled and onboarded through B`);

    // ---- create
    const batch = 25; // connections opened at once
    // Warm up with as many waiters as will be measured (up to 2,000), opened
    // in the same bursts and left waiting: the first bursts grow V8's heap
    // spaces once (tens of MB), and that one-off growth must land before the
    // baseline, not be divided among the measured subscriptions. What is
    // measured is then the cost of each further idle subscription.
    const warmUp = Math.min(Math.max(n, batch * PER_CONNECTION), 2_000);
    let t = performance.now();
    const all = await createChallenges([a, b], slug, n + warmUp, deadline(CREATE_MS));
    run.timings.createSeconds = round((performance.now() - t) / 1000);
    console.log(`  started ${all.length} PORTAL_LOGIN challenges through startLoginChallenge in ${run.timings.createSeconds} s`);
    if (all.length < n + warmUp) run.notes.push(`only ${all.length - warmUp} of ${n} challenges started within ${CREATE_MS / 1000} s`);
    const warm = all.slice(0, warmUp);
    const challenges = all.slice(warmUp);

    // Warm A's WebSocket path, then let it settle before the baseline.
    warmWaiters = new Waiters(a.wsUrl);
    const warmGroups: Challenge[][] = [];
    for (let j = 0; j < warm.length; j += PER_CONNECTION) warmGroups.push(warm.slice(j, j + PER_CONNECTION));
    for (let j = 0; j < warmGroups.length; j += batch) {
      await Promise.all(warmGroups.slice(j, j + batch).map((group) => warmWaiters!.open(group, 30_000)));
    }
    await sleep(3_000);
    run.memory.heapBeforeBytes = await collectedHeapBytes(a.inspectorPort!);
    run.memory.rssBeforeBytes = await steadyRss(a.pid);

    // ---- open
    waiters = new Waiters(a.wsUrl);
    const open = deadline(OPEN_MS);
    t = performance.now();
    let progress = 0;
    const cpuAtOpen = cpuSeconds(a.pid);
    try {
      for (let i = 0; i < challenges.length; i += batch * PER_CONNECTION) {
        open.check(`opening subscriptions`);
        const groups: Challenge[][] = [];
        for (let j = i; j < Math.min(challenges.length, i + batch * PER_CONNECTION); j += PER_CONNECTION) groups.push(challenges.slice(j, j + PER_CONNECTION));
        const results = await Promise.allSettled(groups.map((g) => waiters!.open(g, Math.max(1_000, Math.min(30_000, open.left())))));
        const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
        if (failed) throw new OutOfTime(`gave up opening: ${message(failed.reason)}`);
        const opened = i + groups.reduce((sum, g) => sum + g.length, 0);
        if (opened - progress >= Math.max(1000, n / 10) || opened === challenges.length) {
          progress = opened;
          const seconds = (performance.now() - t) / 1000;
          console.log(`  ${opened} open after ${seconds.toFixed(1)} s (A used ${(((cpuSeconds(a.pid) - cpuAtOpen) / seconds) * 100).toFixed(0)} % of a core)`);
        }
      }
    } catch (error) {
      if (!(error instanceof OutOfTime)) throw error;
      run.notes.push(`${error.message}`);
    }
    run.opened = [...waiters.arrivals.values()].filter((m) => m.has("PENDING")).length;
    const openIds = challenges.filter((c) => waiters!.arrivals.get(c.id)?.has("PENDING"));
    await untilSubscribedInRedis(redis, openIds.map((c) => c.id), deadline(Math.max(15_000, open.left()))).catch((error: unknown) => {
      if (!(error instanceof OutOfTime)) throw error;
      run.notes.push(error.message);
    });
    run.timings.openSeconds = round((performance.now() - t) / 1000);
    console.log(`  ${run.opened} of ${n} subscriptions waiting (first event received, Redis channel subscribed) after ${run.timings.openSeconds} s`);

    // ---- idle: nothing changes; what A spends now is its timers and the 5 s poll
    await sleep(2_000);
    const cpu0 = cpuSeconds(a.pid);
    const wall0 = performance.now();
    const idleSamples: number[] = [rss(a.pid)];
    while (performance.now() - wall0 < IDLE_MS) {
      await sleep(Math.min(1_000, IDLE_MS));
      idleSamples.push(rss(a.pid));
    }
    const idleSeconds = (performance.now() - wall0) / 1000;
    run.idleCpuPercentOfOneCore = round(((cpuSeconds(a.pid) - cpu0) / idleSeconds) * 100);
    run.memory.heapAfterBytes = await collectedHeapBytes(a.inspectorPort!);
    run.memory.rssAfterBytes = await steadyRss(a.pid);
    idleSamples.push(run.memory.rssAfterBytes);
    run.memory.rssIdleMinBytes = Math.min(...idleSamples);
    run.memory.rssIdleMaxBytes = Math.max(...idleSamples);
    if (VERBOSE) console.log(`  RSS while idle (MB): ${idleSamples.map((v) => mb(v)).join(" ")}`);
    if (run.opened > 0) {
      run.memory.bytesPerSubscription = Math.round((run.memory.rssAfterBytes - run.memory.rssBeforeBytes) / run.opened);
      run.memory.bytesPerSubscriptionAtFloor = Math.round((run.memory.rssIdleMinBytes - run.memory.rssBeforeBytes) / run.opened);
      run.memory.heapBytesPerSubscription = Math.round((run.memory.heapAfterBytes - run.memory.heapBeforeBytes) / run.opened);
    }
    console.log(
      `  A's RSS ${mb(run.memory.rssBeforeBytes)} -> ${mb(run.memory.rssAfterBytes)} MB (idle ${mb(run.memory.rssIdleMinBytes)}..${mb(run.memory.rssIdleMaxBytes)}): ` +
        `${kb(run.memory.bytesPerSubscription)} kB per idle subscription (${kb(run.memory.bytesPerSubscriptionAtFloor)} at the floor); ` +
        `idle CPU ${run.idleCpuPercentOfOneCore} % of a core`,
    );
    console.log(
      `  A's JS heap after garbage collection ${mb(run.memory.heapBeforeBytes)} -> ${mb(run.memory.heapAfterBytes)} MB: ` +
        `${kb(run.memory.heapBytesPerSubscription)} kB per idle subscription`,
    );

    // ---- approvals, one after another, spread over the waiting challenges
    const approve = deadline(APPROVE_MS);
    const sample = Math.min(SAMPLE, openIds.length);
    const step = openIds.length / Math.max(1, sample);
    t = performance.now();
    try {
      for (let k = 0; k < sample; k++) {
        approve.check(`approving (${k} of ${sample} done)`);
        const challenge = openIds[Math.floor(k * step)]!;
        const wait = Math.max(1_000, Math.min(15_000, approve.left()));
        run.approvals.requested++;
        try {
          await phone.scan(challenge.qrPayload);
          const scanAnswered = performance.now();
          const scanSeen = await waiters.when(challenge.id, "SCANNED", wait);
          scanFromResponse.push(scanSeen - scanAnswered);
          lastApprove = null;
          const seen = waiters.when(challenge.id, "APPROVED", wait);
          seen.catch(() => undefined);
          await phone.approve(challenge.qrPayload);
          const timing = lastApprove as Timing | null;
          if (!timing) throw new Error("approve mutation not seen");
          const at = await seen;
          approveFromResponse.push(at - timing.answered);
          approveFromRequest.push(at - timing.sent);
          run.approvals.notified++;
        } catch (error) {
          run.approvals.failed.push(`${challenge.id}: ${message(error)}`);
        }
        if (k % 50 === 49) console.log(`  approved ${k + 1}/${sample} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
      }
    } catch (error) {
      if (!(error instanceof OutOfTime)) throw error;
      run.notes.push(error.message);
    }
    run.timings.approveSeconds = round((performance.now() - t) / 1000);

    // ---- the floor: raw Redis, same message count, same conditions
    run.latencyMs.redisPublishToReceive = await redisBaseline(env.redisUrl, Math.max(run.approvals.requested, 1));
    run.complete = run.opened === n && run.approvals.notified === Math.min(SAMPLE, n);
  } finally {
    run.loadAverage.end = round(loadavg()[0]!);
    run.latencyMs.fromApproveResponse = percentiles(approveFromResponse);
    run.latencyMs.fromApproveRequest = percentiles(approveFromRequest);
    run.latencyMs.scanFromResponse = percentiles(scanFromResponse);
    const api = run.latencyMs.fromApproveResponse;
    const raw = run.latencyMs.redisPublishToReceive;
    if (api && raw) {
      // A ratio means nothing where the waiter heard before the phone's answer came back (<= 0).
      const ratio = (ours: number, floor: number) => (ours > 0 && floor > 0 ? round(ours / floor) : null);
      run.ratio = { p50: ratio(api.p50, raw.p50), p95: ratio(api.p95, raw.p95), p99: ratio(api.p99, raw.p99) };
    }
    if (waiters) {
      run.subscriptionErrors = waiters.failures.slice(0, 20);
      await waiters.close();
    }
    await warmWaiters?.close();
    redis.disconnect();
    for (const instance of instances) {
      if (instance.child.exited) console.log(`  API ${instance.name} exited during the run\n${lastOutput(instance.child)}`);
      else if (VERBOSE || run.approvals.failed.length) console.log(lastOutput(instance.child));
    }
    await Promise.all(instances.map((i) => stopServer(i.child)));
  }
  return run;
}

const round = (v: number) => Math.round(v * 100) / 100;
const mb = (bytes: number | null) => (bytes === null ? "-" : (bytes / 1024 / 1024).toFixed(1));
const kb = (bytes: number | null) => (bytes === null ? "-" : (bytes / 1024).toFixed(2));

function table(runs: Run[]) {
  const p = (x: Percentiles | null) => (x ? `${x.p50} / ${x.p95} / ${x.p99}` : "-");
  const rows: [string, (r: Run) => string, string][] = [
    ["waiting subscribers (A), opened / asked", (r) => `${r.opened.toLocaleString("en")} / ${r.subscribers.toLocaleString("en")}`, ""],
    ["WebSocket connections", (r) => String(r.connections), ""],
    ["challenges started (s)", (r) => String(r.timings.createSeconds ?? "-"), ""],
    ["subscriptions opened (s)", (r) => String(r.timings.openSeconds ?? "-"), ""],
    ["A RSS before / after (MB)", (r) => `${mb(r.memory.rssBeforeBytes)} / ${mb(r.memory.rssAfterBytes)}`, ""],
    ["A RSS while idle, min..max (MB)", (r) => `${mb(r.memory.rssIdleMinBytes)}..${mb(r.memory.rssIdleMaxBytes)}`, ""],
    ["per idle subscription (kB), after / floor", (r) => `${kb(r.memory.bytesPerSubscription)} / ${kb(r.memory.bytesPerSubscriptionAtFloor)}`, `< ${TARGETS.bytesPerSubscription / 1024}`],
    ["JS heap per idle subscription, after GC (kB)", (r) => kb(r.memory.heapBytesPerSubscription), `< ${TARGETS.bytesPerSubscription / 1024}`],
    ["A idle CPU (% of a core)", (r) => String(r.idleCpuPercentOfOneCore ?? "-"), ""],
    ["approvals notified / sent", (r) => `${r.approvals.notified} / ${r.approvals.requested}`, ""],
    ["approve answered -> APPROVED p50/p95/p99 ms", (r) => p(r.latencyMs.fromApproveResponse), `p99 < ${TARGETS.p99Ms} at ${TARGETS.p99At.toLocaleString("en")}`],
    ["approve sent -> APPROVED p50/p95/p99 ms", (r) => p(r.latencyMs.fromApproveRequest), ""],
    ["scan answered -> SCANNED p50/p95/p99 ms", (r) => p(r.latencyMs.scanFromResponse), ""],
    ["raw Redis publish -> receive p50/p95/p99 ms", (r) => p(r.latencyMs.redisPublishToReceive), ""],
    ["ratio API / raw Redis p50/p95/p99", (r) => `${r.ratio.p50 ?? "n/a"} / ${r.ratio.p95 ?? "n/a"} / ${r.ratio.p99 ?? "n/a"}`, ""],
    ["machine load average, start / end", (r) => `${r.loadAverage.start} / ${r.loadAverage.end ?? "-"}`, `${cpus().length} cores`],
    ["complete", (r) => (r.complete ? "yes" : "no"), ""],
  ];
  const header = ["", ...runs.map((r) => `N = ${r.subscribers.toLocaleString("en")}`), "target"];
  const lines = rows.map(([label, value, target]) => [label, ...runs.map(value), target]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

// ---------------------------------------------------------------- infrastructure

type Infra = { databaseUrl: string; redisUrl: string; dropDatabase: (() => void) | null; describe: string };

async function infrastructure(): Promise<Infra | string> {
  const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  const redisUp = await probe.connect().then(() => probe.ping().then(() => true), () => false);
  probe.disconnect();
  if (!redisUp) return `Redis is not reachable at ${redisUrl} (set REDIS_URL)`;

  if (process.env.DATABASE_URL) return { databaseUrl: process.env.DATABASE_URL, redisUrl, dropDatabase: null, describe: "DATABASE_URL" };
  const admin = process.env.BENCH_PG_ADMIN_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
  const name = `latchkey_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  try {
    execFileSync("psql", [admin, "-v", "ON_ERROR_STOP=1", "-qc", `CREATE DATABASE ${name}`], { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
  } catch (error) {
    return `no DATABASE_URL, and psql could not create a throw-away database on ${admin}: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    databaseUrl: url.toString(),
    redisUrl,
    describe: `throw-away database ${name} (dropped at the end)`,
    dropDatabase: () => {
      if (dropped) return;
      dropped = true;
      try {
        execFileSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore", timeout: 30_000 });
      } catch {
        console.error(`could not drop database ${name}`);
      }
    },
  };
}

let infra: Infra | null = null;

function lastResort() {
  killAllServers();
  infra?.dropDatabase?.();
}
process.on("exit", lastResort);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    lastResort();
    process.exit(130);
  });
}

async function main() {
  if (!SIZES.length) throw new Error("BENCH_SUBSCRIBERS names no positive integer");
  const found = await infrastructure();
  if (typeof found === "string") {
    console.log(`latchkey subscribers bench: skipped: ${found}`);
    return;
  }
  infra = found;
  const env: Env = {
    databaseUrl: found.databaseUrl,
    redisUrl: found.redisUrl,
    kek: randomBytes(32).toString("base64"),
    deviceCookieKey: randomBytes(32).toString("base64"),
    emailCodeKey: randomBytes(32).toString("base64"),
    loginStateKey: randomBytes(32).toString("base64"),
    // A fresh database per run: it records this setup at the first start.
    opaqueServerSetup: await createServerSetup(),
    // This run's rate-limit counters in Redis, apart from everything else using it.
    namespace: `bench-${randomBytes(6).toString("hex")}`,
  };
  console.log(`latchkey subscribers bench: N = ${SIZES.join(", ")}; ${SAMPLE} approvals each; ${PER_CONNECTION} subscriptions per connection`);
  console.log(`  database: ${found.describe}; redis: ${found.redisUrl}`);
  console.log(`  machine: ${cpus().length} cores, node ${process.version}; the clients, both APIs, PostgreSQL and Redis share it`);

  const runs: Run[] = [];
  try {
    for (const n of SIZES) {
      const run = await runOne(n, env);
      runs.push(run);
      for (const note of run.notes) console.log(`  note: ${note}`);
    }
  } finally {
    infra.dropDatabase?.();
  }

  console.log(`\n${table(runs)}`);
  console.log(
    "\nLatency is measured from the moment the phone's approve mutation is answered by B to the moment the waiter on A\n" +
      "receives APPROVED (negative: A's waiter heard before B's answer reached the phone); the raw Redis row is one\n" +
      "ioredis publisher and one subscriber on the same server, same message count. Memory is A's VmRSS growth\n" +
      "divided by N. Targets are for reference only: nothing here fails on a timing.",
  );
  for (const run of runs) {
    if (run.approvals.failed.length) console.log(`N = ${run.subscribers}: ${run.approvals.failed.length} approvals failed, e.g. ${run.approvals.failed.slice(0, 3).join("; ")}`);
    if (run.subscriptionErrors.length) console.log(`N = ${run.subscribers}: subscription errors, e.g. ${run.subscriptionErrors.slice(0, 3).join("; ")}`);
    if (!run.complete) console.log(`N = ${run.subscribers}: did not complete within the time bounds on this machine (${cpus().length} cores), figures above are what was measured (${run.opened} of ${run.subscribers} waiting, ${run.approvals.notified} of ${Math.min(SAMPLE, run.subscribers)} approvals seen): ${run.notes.join("; ") || "see above"}`);
  }

  const results = {
    bench: "subscribers",
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    database: found.describe.startsWith("throw-away") ? "postgres (throw-away database)" : "postgres (DATABASE_URL)",
    redis: found.redisUrl.replace(/\/\/[^@]*@/, "//"),
    sample: SAMPLE,
    subscriptionsPerConnection: PER_CONNECTION,
    databasePoolSize: process.env.BENCH_DATABASE_POOL_SIZE ? Number(process.env.BENCH_DATABASE_POOL_SIZE) : "API default",
    boundsSeconds: { create: CREATE_MS / 1000, open: OPEN_MS / 1000, approve: APPROVE_MS / 1000 },
    targets: TARGETS,
    runs,
  };
  const outDir = join(benchDir, "results");
  await mkdir(outDir, { recursive: true });
  const outFile = join(outDir, `subscribers-${results.date.replace(/[:.]/g, "-")}.json`);
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nfigures written to ${outFile}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
