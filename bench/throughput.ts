// Throughput of the portal's authenticated pages on our API, against the limit
// of what such a page costs on this machine, in the same run:
//
//   - bare yoga: graphql-yoga answering `{ hello }` (no authentication, no database);
//   - hand-written: graphql-yoga serving the same pages with one hand-written SQL
//     statement per request through `pg`, with our authentication, session memory
//     and tenant rule (handwritten-server.ts): the anchor;
//   - ours: the API (api/src/main.ts).
//
//   npm run bench:throughput --workspace bench
//
// Each server is a child process on loopback in NODE_ENV=production. The world
// (an MSP, its customers and their directories, technicians, a second MSP) is
// created through the public API, its login history and account locks with SQL.
// Before any timing, ours and the hand-written server must answer byte-for-byte the
// same data for the same requests (three kinds of viewer, reachable and
// unreachable tenants), or the bench fails. Then each server is loaded with
// autocannon per query shape (warm-up, measured window), reading each server's
// CPU time and memory from /proc around the window, and the CPU of the database
// backends serving it (PostgreSQL on this machine). Prints req/s, p50/p99, CPU
// per request, RSS, the ratios ours/hand-written and ours/bare, the load average
// at start and end; writes the figures as JSON to bench/results/. Never fails on
// a timing: it exits non-zero only when a server cannot start, seeding fails, or
// the answers differ.
//
// PostgreSQL (DATABASE_URL, and REDIS_URL if set): the run gets a database of its
// own on that server, dropped at the end (BENCH_FRESH_DATABASE=0 uses DATABASE_URL
// itself). Embedded (no DATABASE_URL): PGlite lives inside the API's process and
// admits no second client, so the hand-written server is not measured there: no
// anchor, and no ours/hand-written ratio, only ours/bare.
//
// Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 3),
// BENCH_CONNECTIONS (default 50), BENCH_SHAPES (comma list of customers, users,
// loginEvents; default all), BENCH_CUSTOMERS (20), BENCH_USERS (users per customer,
// 60), BENCH_TECHNICIANS (3), BENCH_LOGIN_EVENTS (login events per customer, 1000),
// BENCH_SEED_CONCURRENCY (8), BENCH_OURS_NODE_ARGS (node flags for our API, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_API_ENTRY (another entry file for
// ours), BENCH_VERBOSE=1 to stream the servers' output.
import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import autocannon from "autocannon";
import { createServerSetup } from "@latchkey/schema";
import pg from "pg";
import { FreshDatabase, withClient } from "@latchkey/db/fresh-database";
import { isLoopback, withApplicationName } from "./database-url.ts";
import { cpuSeconds, GroupCpu, memory } from "./process-stats.ts";
import { freePort, killAllServers, lastOutput, positive, sleep, startServer, stopAllServers, stopServer, type ServerProcess } from "./server-processes.ts";
import { post, seedThroughApi, seedThroughSql, type GraphQLBody, type World } from "./throughput-world.ts";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const apiMain = process.env.BENCH_API_ENTRY || join(repoRoot, "api", "src", "main.ts");

const DURATION = positive("BENCH_DURATION", 10);
const WARMUP = positive("BENCH_WARMUP", 3);
const CONNECTIONS = positive("BENCH_CONNECTIONS", 50);
const CUSTOMERS = positive("BENCH_CUSTOMERS", 20);
const USERS = positive("BENCH_USERS", 60);
const TECHNICIANS = positive("BENCH_TECHNICIANS", 3);
const LOGIN_EVENTS = positive("BENCH_LOGIN_EVENTS", 1000);
const SEED_CONCURRENCY = positive("BENCH_SEED_CONCURRENCY", 8);
const VERBOSE = process.env.BENCH_VERBOSE === "1";
const READY_TIMEOUT_MS = 120_000;
const NODE_ENV = "production";

// ---------------------------------------------------------------- query shapes

type ShapeName = "customers" | "users" | "loginEvents";
type Shape = { name: ShapeName; query: string; variables: (tenantId: string) => Record<string, unknown>; rows: (data: unknown) => number | null };

const edgesOf = (field: string) => (data: unknown) => {
  const connection = (data as Record<string, { edges?: unknown[] } | null> | null)?.[field];
  return connection ? (connection.edges?.length ?? 0) : null;
};

const SHAPES: Record<ShapeName, Shape> = {
  // The MSP dashboard, as the bench has always measured it.
  customers: {
    name: "customers",
    query: /* GraphQL */ `query BenchCustomers {
      customers(first: 20) { edges { node { id slug displayName userCount adminCount technicianCount } } }
    }`,
    variables: () => ({}),
    rows: edgesOf("customers"),
  },
  // A customer's directory page with the state of each account.
  users: {
    name: "users",
    query: /* GraphQL */ `query BenchUsers($tenantId: ID!) {
      users(tenantId: $tenantId, first: 50) {
        edges { node { id username firstName lastName email role status hasPassword lockedUntil } }
      }
    }`,
    variables: (tenantId) => ({ tenantId }),
    rows: edgesOf("users"),
  },
  // The live login feed's history, with the fields the feed shows.
  loginEvents: {
    name: "loginEvents",
    query: /* GraphQL */ `query BenchLoginEvents($tenantId: ID!) {
      loginEvents(tenantId: $tenantId, first: 50) {
        edges { node { id username loginPseudonym workstationId workstationName method outcome reason accountOutcome accountDetail ip createdAt } }
        pageInfo { hasNextPage }
      }
    }`,
    variables: (tenantId) => ({ tenantId }),
    rows: edgesOf("loginEvents"),
  },
};

const HELLO_QUERY = /* GraphQL */ `query BenchHello { hello }`;

function chosenShapes(): Shape[] {
  const raw = process.env.BENCH_SHAPES?.trim();
  if (!raw) return Object.values(SHAPES);
  return raw.split(",").map((name) => {
    const shape = SHAPES[name.trim() as ShapeName];
    if (!shape) throw new Error(`BENCH_SHAPES: unknown shape "${name.trim()}" (known: ${Object.keys(SHAPES).join(", ")})`);
    return shape;
  });
}

// ---------------------------------------------------------------- servers

type ServerKey = "bare" | "handwritten" | "ours";
type Server = {
  key: ServerKey;
  label: string;
  child: ServerProcess;
  url: string;
  /** The node process serving requests (started directly, no wrapper). */
  pid: number;
  /** How its database connections are named in pg_stat_activity; null when it has none there. */
  applicationName: string | null;
};

const LABELS: Record<ServerKey, string> = { bare: "bare yoga", handwritten: "hand-written", ours: "latchkey" };

/**
 * The young generation the API runs with in production (`npm start`, the
 * container's CMD), given to all three servers alike: without it each spends a
 * fifth more of its CPU collecting garbage, and ours is not measured as it runs.
 */
const PRODUCTION_NODE_ARGS = ["--max-semi-space-size=64"];

function startNode(key: ServerKey, entry: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = [], applicationName: string | null = null) {
  // tsx as a loader rather than its CLI, so the pid is the server's own node process.
  const child = startServer(LABELS[key], process.execPath, [...PRODUCTION_NODE_ARGS, ...nodeArgs, "--import", "tsx", entry], {
    cwd: repoRoot,
    env: { ...env, NODE_ENV },
    verbose: VERBOSE,
    ignore: (line) => line.includes("redis connection error"),
  });
  return { key, label: LABELS[key], child, pid: child.process.pid!, applicationName };
}

async function waitFor(child: ServerProcess, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exited) throw new Error(`${child.name} exited before ${what}\n${lastOutput(child, 200)}`);
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${child.name}: no ${what} within ${READY_TIMEOUT_MS / 1000} s\n${lastOutput(child, 200)}`);
}

async function startOurs(env: NodeJS.ProcessEnv, port: number, applicationName: string | null): Promise<Server> {
  const nodeArgs = (process.env.BENCH_OURS_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const server = startNode("ours", apiMain, env, nodeArgs, applicationName);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(server.child, "200 from /readyz", async () => {
    const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status === 200;
  });
  return { ...server, url: `${base}/graphql` };
}

// ---------------------------------------------------------------- the same answers

type Check = { viewer: keyof World["tokens"]; shape: Shape; tenantId: string; what: string; rows: number | null };

function checks(world: World, shapes: Shape[]): Check[] {
  const pageOf = (size: number, total: number) => Math.min(size, total);
  const delegatedCustomers = world.customers.filter((_, index) => index % 2 === 0).length;
  const all: Check[] = [
    { viewer: "admin", shape: SHAPES.customers, tenantId: world.measured, what: "an MSP admin's customers", rows: pageOf(20, CUSTOMERS) },
    { viewer: "technician", shape: SHAPES.customers, tenantId: world.measured, what: "a technician's delegated customers", rows: pageOf(20, delegatedCustomers) },
    { viewer: "customerAdmin", shape: SHAPES.customers, tenantId: world.measured, what: "a customer admin (no customers)", rows: 0 },
    { viewer: "admin", shape: SHAPES.users, tenantId: world.measured, what: "an MSP admin's view of a customer's users", rows: pageOf(50, USERS) },
    { viewer: "technician", shape: SHAPES.users, tenantId: world.measured, what: "a technician's delegated customer's users", rows: pageOf(50, USERS) },
    { viewer: "technician", shape: SHAPES.users, tenantId: world.undelegated, what: "users of a customer not delegated to the technician", rows: null },
    { viewer: "customerAdmin", shape: SHAPES.users, tenantId: world.measured, what: "a customer admin's own users", rows: pageOf(50, USERS) },
    { viewer: "customerAdmin", shape: SHAPES.users, tenantId: world.undelegated, what: "users of another customer, to a customer admin", rows: null },
    { viewer: "admin", shape: SHAPES.users, tenantId: world.outsider.customerId, what: "users of another MSP's customer", rows: null },
    { viewer: "admin", shape: SHAPES.loginEvents, tenantId: world.measured, what: "a customer's login history", rows: pageOf(50, LOGIN_EVENTS) },
    { viewer: "technician", shape: SHAPES.loginEvents, tenantId: world.undelegated, what: "login history of a customer not delegated to the technician", rows: null },
    { viewer: "customerAdmin", shape: SHAPES.loginEvents, tenantId: world.measured, what: "a customer admin's own login history", rows: pageOf(50, LOGIN_EVENTS) },
    { viewer: "admin", shape: SHAPES.loginEvents, tenantId: world.outsider.customerId, what: "login history of another MSP's customer", rows: null },
  ];
  return all.filter((check) => shapes.includes(check.shape));
}

const errorCodes = (body: GraphQLBody) => (body.errors ?? []).map((error) => error.extensions?.code ?? "(no code)").join(",");

function firstDifference(a: string, b: string) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 120);
  return `first difference at character ${i}:\n    ours:         …${a.slice(from, i + 200)}\n    hand-written: …${b.slice(from, i + 200)}`;
}

/**
 * Ours must answer what the world holds (page sizes, null for unreachable
 * tenants) and, when the hand-written server runs, exactly its data and error codes.
 */
async function checkAnswers(world: World, shapes: Shape[], ours: Server, handwritten: Server | null): Promise<number> {
  const problems: string[] = [];
  const list = checks(world, shapes);
  for (const check of list) {
    const variables = check.shape.variables(check.tenantId);
    const token = world.tokens[check.viewer];
    const mine = await post(ours.url, check.shape.query, variables, token);
    const rows = check.shape.rows(mine.body.data ?? null);
    if (rows !== check.rows) {
      problems.push(`${check.shape.name}, ${check.what}: ours answered ${rows ?? "null"} rows, the world holds ${check.rows ?? "null"}: ${mine.text.slice(0, 300)}`);
      continue;
    }
    if (check.rows !== null && mine.body.errors?.length) problems.push(`${check.shape.name}, ${check.what}: ours answered errors ${JSON.stringify(mine.body.errors)}`);
    if (!handwritten) continue;
    const theirs = await post(handwritten.url, check.shape.query, variables, token);
    const a = JSON.stringify(mine.body.data ?? null);
    const b = JSON.stringify(theirs.body.data ?? null);
    if (a !== b) problems.push(`${check.shape.name}, ${check.what}: the data differ; ${firstDifference(a, b)}`);
    else if (errorCodes(mine.body) !== errorCodes(theirs.body)) {
      problems.push(`${check.shape.name}, ${check.what}: error codes differ: ours [${errorCodes(mine.body)}], hand-written [${errorCodes(theirs.body)}]`);
    }
  }
  if (problems.length) throw new Error(`the answers are not what they must be:\n  - ${problems.join("\n  - ")}`);
  return list.length;
}

// ---------------------------------------------------------------- load

type Figures = {
  server: ServerKey;
  shape: ShapeName | "hello";
  reqPerSec: number;
  requests: number;
  latencyMs: { p50: number; p90: number; p99: number; avg: number; max: number };
  failed: { non2xx: number; errors: number; timeouts: number; graphqlErrors: number };
  /** Server process CPU (all threads) over the measured window, per request. */
  cpuMsPerRequest: number | null;
  /** CPU of the PostgreSQL backends serving this server, per request (a floor); null without them. */
  databaseCpuMsPerRequest: number | null;
  /** Share of one core the load generator (this process) used during the window. */
  loadGeneratorCores: number;
  rssBytes: number | null;
  peakRssBytes: number | null;
  /** Bytes per response, headers included. */
  bytesPerResponse: number;
};

type Backends = (applicationName: string) => Promise<number[]>;

async function measure(server: Server, shape: Shape | null, variables: Record<string, unknown>, token: string | undefined, backends: Backends | null): Promise<Figures> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = JSON.stringify({ query: shape ? shape.query : HELLO_QUERY, variables });
  const options: autocannon.Options = {
    url: server.url,
    method: "POST",
    headers,
    body,
    connections: CONNECTIONS,
    // A 200 carrying GraphQL errors (auth, limits) must not count as a success.
    verifyBody: (response) => !String(response ?? "").includes('"errors"'),
  };
  const name = shape?.name ?? "hello";
  process.stdout.write(`  ${name.padEnd(11)} ${server.label.padEnd(12)} warm-up ${WARMUP} s ... `);
  await autocannon({ ...options, duration: WARMUP });
  // Requests the warm-up left in flight are still being served; their work must not land in the window.
  await settle(server.pid);

  const database = backends && server.applicationName ? { name: server.applicationName, cpu: new GroupCpu(await backends(server.applicationName)) } : null;
  const cpuBefore = cpuSeconds(server.pid);
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  process.stdout.write(`measuring ${DURATION} s ... `);
  const result = await autocannon({ ...options, duration: DURATION });
  const elapsed = (performance.now() - started) / 1000;
  const generator = process.cpuUsage(generatorBefore);
  const cpuAfter = cpuSeconds(server.pid);
  const databaseSeconds = database ? database.cpu.since(await backends!(database.name)) : null;
  const mem = memory(server.pid);
  console.log("done");

  const requests = result.requests.total;
  const perRequest = (seconds: number | null) => (seconds !== null && requests > 0 ? (seconds * 1000) / requests : null);
  return {
    server: server.key,
    shape: name,
    reqPerSec: result.requests.average,
    requests,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, avg: result.latency.average, max: result.latency.max },
    failed: {
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      graphqlErrors: (result as unknown as { mismatches?: number }).mismatches ?? 0,
    },
    cpuMsPerRequest: perRequest(cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null),
    databaseCpuMsPerRequest: perRequest(databaseSeconds),
    loadGeneratorCores: (generator.user + generator.system) / 1e6 / elapsed,
    rssBytes: mem?.rss ?? null,
    peakRssBytes: mem?.peak ?? null,
    bytesPerResponse: result.throughput.total / Math.max(1, requests),
  };
}

/** Waits (at most a minute) until the process has stopped using CPU: it has served every request sent to it. */
async function settle(pid: number) {
  const end = Date.now() + 60_000;
  let last = cpuSeconds(pid);
  while (last !== null && Date.now() < end) {
    await sleep(300);
    const now = cpuSeconds(pid);
    if (now === null || now - last < 0.03) return;
    last = now;
  }
}

const failedCount = (f: Figures) => f.failed.non2xx + f.failed.errors + f.failed.graphqlErrors;
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b > 0 ? a / b : null);

function table(rows: Figures[]): string {
  const header = ["shape", "server", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "DB CPU ms/req", "RSS MB", "requests", "failed"];
  const fixed = (value: number | null, digits: number) => (value === null ? "n/a" : value.toFixed(digits));
  const lines = rows.map((r) => [
    r.shape,
    LABELS[r.server],
    r.reqPerSec.toFixed(0),
    r.latencyMs.p50.toFixed(1),
    r.latencyMs.p99.toFixed(1),
    fixed(r.cpuMsPerRequest, 2),
    fixed(r.databaseCpuMsPerRequest, 2),
    fixed(r.rssBytes === null ? null : r.rssBytes / 2 ** 20, 0),
    String(r.requests),
    String(failedCount(r)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [format(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(format)].join("\n");
}

const percent = (value: number | null) => (value === null ? "n/a" : `${(value * 100).toFixed(1)} %`);
const times = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(2)}×`);
const load = () => loadavg().map((value) => Number(value.toFixed(2)));

// ---------------------------------------------------------------- main

const cleanups: (() => Promise<void> | void)[] = [];
let exitCleanups: (() => void)[] = [];

process.on("exit", () => {
  killAllServers();
  for (const cleanup of exitCleanups) cleanup();
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    void stopAllServers()
      .then(async () => {
        for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
      })
      .finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  if (!existsSync(apiMain)) throw new Error(`${apiMain} does not exist: nothing to benchmark`);
  const shapes = chosenShapes();
  const date = new Date().toISOString();
  const loadAtStart = load();
  const baseUrl = process.env.DATABASE_URL;
  const embedded = !baseUrl;
  const runId = randomBytes(3).toString("hex");

  let fresh: FreshDatabase | null = null;
  let databaseUrl: string | undefined;
  let serverVersion: string | null = null;
  let dataDir: string | undefined;
  if (baseUrl) {
    if (process.env.BENCH_FRESH_DATABASE === "0") {
      databaseUrl = baseUrl;
    } else {
      fresh = await FreshDatabase.create(baseUrl, "throughput");
      cleanups.push(() => fresh!.drop());
      databaseUrl = fresh.url;
    }
    serverVersion = await withClient(databaseUrl, async (client) => (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v);
  } else {
    dataDir = await mkdtemp(join(tmpdir(), "latchkey-bench-"));
    const dir = dataDir;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    exitCleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  }

  console.log(`latchkey throughput bench, ${date}`);
  console.log(`  node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), NODE_ENV=${NODE_ENV} for every server`);
  console.log(
    `  database: ${embedded ? `embedded PGlite in ${dataDir}` : `PostgreSQL ${serverVersion}, ${fresh ? `fresh database ${fresh.name} (dropped at the end)` : "DATABASE_URL as given"}`}; pub/sub: ${process.env.REDIS_URL ? "Redis (REDIS_URL)" : "in-process"}`,
  );
  console.log(`  ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s measured per server and shape; shapes: ${shapes.map((s) => s.name).join(", ")}`);
  console.log(`  load average at start: ${loadAtStart.join(" ")} (the load generator shares the machine with the servers)`);

  let admin: pg.Client | null = null;
  try {
    const [barePort, oursPort, handwrittenPort] = [await freePort(), await freePort(), await freePort()];
    const oursName = databaseUrl ? `latchkey-bench-ours-${runId}` : null;
    const oursEnv: NodeJS.ProcessEnv = {
      ...process.env,
      API_HOST: "127.0.0.1",
      API_PORT: String(oursPort),
      // One client makes every account of the world: its sign-ups must not be throttled, nor counted against other runs.
      SIGNUPS_PER_HOUR_PER_IP: "100000",
      RATE_LIMIT_NAMESPACE: `bench-throughput-${runId}`,
      // A few sessions make every measured request: their cost budgets are charged (that work is
      // measured) but must never refuse one.
      RATE_LIMIT_OVERRIDES: JSON.stringify({ costPerUser: { points: 1_000_000_000, durationSeconds: 3600 }, ...JSON.parse(process.env.RATE_LIMIT_OVERRIDES || "{}") }),
      // The world's passwords are registered by this process; the pages measured never stretch one.
      PASSWORD_KSF: process.env.PASSWORD_KSF || "test",
    };
    if (databaseUrl) {
      oursEnv.DATABASE_URL = withApplicationName(databaseUrl, oursName!);
      // PostgreSQL requires these keys; throw-away ones serve the tenants this run creates.
      oursEnv.KEY_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");
      oursEnv.DEVICE_COOKIE_KEY ??= randomBytes(32).toString("base64");
      oursEnv.EMAIL_CODE_KEY ??= randomBytes(32).toString("base64");
      oursEnv.LOGIN_STATE_KEY ??= randomBytes(32).toString("base64");
      // The database records the first server setup it sees: pass its OPAQUE_SERVER_SETUP to reuse one.
      oursEnv.OPAQUE_SERVER_SETUP ??= await createServerSetup();
    } else {
      oursEnv.DATA_DIR = dataDir;
    }

    const bare = { ...startNode("bare", join(benchDir, "bare-server.ts"), { ...process.env, BARE_PORT: String(barePort) }), url: `http://127.0.0.1:${barePort}/graphql` };
    let ours = await startOurs(oursEnv, oursPort, oursName);
    await waitFor(bare.child, "hello answer", async () => (await post(bare.url, HELLO_QUERY, {})).body.data?.hello === "world");
    console.log(`\nservers: bare yoga pid ${bare.pid}, latchkey pid ${ours.pid}`);

    const seedStart = Date.now();
    const world = await seedThroughApi(ours.url, { customers: CUSTOMERS, usersPerCustomer: USERS, technicians: TECHNICIANS, concurrency: SEED_CONCURRENCY }).catch((error: unknown) => {
      throw new Error(`seeding through the API failed: ${error instanceof Error ? error.message : String(error)}\n${lastOutput(ours.child, 100)}`);
    });
    if (databaseUrl) {
      await withClient(databaseUrl, (client) => seedThroughSql(client, world, LOGIN_EVENTS));
    } else {
      // The embedded database admits one process at a time: the API steps aside while the rows go in.
      await stopServer(ours.child);
      const database = new PGlite(join(dataDir!, "pglite"));
      try {
        await seedThroughSql(database, world, LOGIN_EVENTS);
      } finally {
        await database.close();
      }
      ours = await startOurs(oursEnv, oursPort, oursName);
      console.log(`  latchkey restarted after the SQL rows went in: pid ${ours.pid}`);
    }
    const worldFacts = {
      customers: CUSTOMERS,
      usersPerCustomer: USERS,
      technicians: TECHNICIANS,
      loginEventsPerCustomer: LOGIN_EVENTS,
      throughApi: `2 MSP sign-ups, ${CUSTOMERS + 1} customers, ${CUSTOMERS * USERS + TECHNICIANS + 1} users (some with passwords, some disabled), delegations, 2 log-ins: ${world.apiCalls} calls`,
      throughSql: `${CUSTOMERS * LOGIN_EVENTS} login events, 2 account locks`,
      seedSeconds: (Date.now() - seedStart) / 1000,
    };
    console.log(`  seeded in ${worldFacts.seedSeconds.toFixed(1)} s; through the public API: ${worldFacts.throughApi}; through SQL: ${worldFacts.throughSql}`);

    let handwritten: Server | null = null;
    const handwrittenName = `latchkey-bench-handwritten-${runId}`;
    if (databaseUrl) {
      const started = startNode(
        "handwritten",
        join(benchDir, "handwritten-server.ts"),
        {
          ...process.env,
          HANDWRITTEN_PORT: String(handwrittenPort),
          DATABASE_URL: withApplicationName(databaseUrl, handwrittenName),
        },
        [],
        handwrittenName,
      );
      handwritten = { ...started, url: `http://127.0.0.1:${handwrittenPort}/graphql` };
      const url = handwritten.url;
      await waitFor(handwritten.child, "an answer", async () => (await post(url, "{ __typename }", {})).body.data?.__typename === "Query");
      console.log(`  hand-written server pid ${handwritten.pid}`);
    } else {
      console.log("  hand-written server: not measured. Embedded PGlite runs inside the API's process and admits no second client;");
      console.log("  run with DATABASE_URL to measure against it (the ratio ours/hand-written is a PostgreSQL figure).");
    }

    const checked = await checkAnswers(world, shapes, ours, handwritten);
    console.log(
      handwritten
        ? `  answers: ours and the hand-written server give byte-for-byte the same data in ${checked} checks (3 kinds of viewer, reachable and unreachable tenants)`
        : `  answers: ours gives what the world holds in ${checked} checks (no hand-written server to compare with)`,
    );

    let backends: Backends | null = null;
    if (databaseUrl && isLoopback(databaseUrl)) {
      admin = new pg.Client({ connectionString: withApplicationName(databaseUrl, `latchkey-bench-${runId}`) });
      await admin.connect();
      const client = admin;
      backends = async (applicationName) =>
        (await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1", [applicationName])).rows.map((row) => row.pid);
    }

    console.log("\nload:");
    const rows: Figures[] = [];
    const bareFigures = await measure(bare, null, {}, undefined, null);
    rows.push(bareFigures);
    const shapeResults: Record<string, { handwritten: Figures | null; ours: Figures; ratios: Record<string, number | null> }> = {};
    for (const shape of shapes) {
      const variables = shape.variables(world.measured);
      const theirs = handwritten ? await measure(handwritten, shape, variables, world.tokens.admin, backends) : null;
      const mine = await measure(ours, shape, variables, world.tokens.admin, backends);
      if (theirs) rows.push(theirs);
      rows.push(mine);
      shapeResults[shape.name] = {
        handwritten: theirs,
        ours: mine,
        ratios: {
          oursToHandwrittenReqPerSec: ratio(mine.reqPerSec, theirs?.reqPerSec),
          oursToBareReqPerSec: ratio(mine.reqPerSec, bareFigures.reqPerSec),
          handwrittenToBareReqPerSec: ratio(theirs?.reqPerSec, bareFigures.reqPerSec),
          oursToHandwrittenCpuPerRequest: ratio(mine.cpuMsPerRequest, theirs?.cpuMsPerRequest),
          oursToHandwrittenDatabaseCpuPerRequest: ratio(mine.databaseCpuMsPerRequest, theirs?.databaseCpuMsPerRequest),
        },
      };
    }
    const loadAtEnd = load();

    console.log(`\n${table(rows)}\n`);
    for (const shape of shapes) {
      const r = shapeResults[shape.name]!.ratios;
      const againstBare = `ours/bare ${percent(r.oursToBareReqPerSec!)} of req/s`;
      console.log(
        `${shape.name.padEnd(11)} ` +
          (handwritten
            ? `ours/hand-written ${percent(r.oursToHandwrittenReqPerSec!)} of req/s, ${times(r.oursToHandwrittenCpuPerRequest!)} the CPU per request` +
              (r.oursToHandwrittenDatabaseCpuPerRequest != null ? `, ${times(r.oursToHandwrittenDatabaseCpuPerRequest)} the database CPU` : "") +
              `; ${againstBare}; hand-written/bare ${percent(r.handwrittenToBareReqPerSec!)}`
            : `${againstBare} (no hand-written anchor on the embedded database)`),
      );
    }
    for (const f of rows) {
      if (failedCount(f) > 0) {
        console.log(`note: ${f.shape} on ${LABELS[f.server]}: ${f.failed.non2xx} non-2xx, ${f.failed.errors} connection errors (${f.failed.timeouts} timeouts), ${f.failed.graphqlErrors} GraphQL-error bodies`);
      }
    }
    for (const f of rows) {
      if (f.requests < 10 * CONNECTIONS) {
        console.log(`note: ${f.shape} on ${LABELS[f.server]}: only ${f.requests} requests for ${CONNECTIONS} connections, so its CPU per request and percentiles are rough; lengthen BENCH_DURATION`);
      }
    }
    const generator = Math.max(...rows.map((f) => f.loadGeneratorCores));
    console.log(`load generator (this process): up to ${generator.toFixed(2)} cores during a measured window`);
    console.log(`load average at end: ${loadAtEnd.join(" ")}`);
    if (embedded) console.log("embedded: PGlite runs on the API's main thread, so its CPU per request includes the database's.");
    else if (!backends) console.log("database CPU not read: PostgreSQL is not on this machine.");
    else console.log("database CPU: the PostgreSQL backends of each server's connections, read from /proc (a floor: a backend that ends inside the window is lost).");

    const results = {
      bench: "throughput",
      date,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadAverage: { start: loadAtStart, end: loadAtEnd },
      nodeEnv: NODE_ENV,
      database: embedded ? { kind: "pglite" } : { kind: "postgres", serverVersion, freshDatabase: fresh?.name ?? null },
      pubsub: process.env.REDIS_URL ? "redis" : "in-process",
      handwritten: handwritten ? "measured" : "not measured: embedded PGlite admits no second client",
      connections: CONNECTIONS,
      warmupSeconds: WARMUP,
      durationSeconds: DURATION,
      world: worldFacts,
      queries: Object.fromEntries(shapes.map((shape) => [shape.name, shape.query.replace(/\s+/g, " ")])),
      bare: bareFigures,
      shapes: shapeResults,
    };
    const outDir = join(benchDir, "results");
    await mkdir(outDir, { recursive: true });
    const outFile = join(outDir, `throughput-${date.replace(/[:.]/g, "-")}.json`);
    await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nfigures written to ${outFile}`);
  } finally {
    await admin?.end().catch(() => undefined);
    await stopAllServers();
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
    cleanups.length = 0;
    exitCleanups = [];
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
