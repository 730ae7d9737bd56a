// Throughput of an authenticated `customers` query on our API, next to a bare
// graphql-yoga hello-world server on the same machine, loaded the same way.
//
//   npm run bench                      (from the repo root)
//
// Both servers run as child processes on loopback; autocannon loads each in turn
// (warm-up, then a measured run). Embedded PGlite under a temporary DATA_DIR by
// default; the caller's DATABASE_URL / REDIS_URL when set. Prints req/s, p50/p99
// latency and the ratio ours/bare, writes the figures to bench/results/, and never
// fails on a timing: it exits non-zero only when a server cannot be started or seeded.
//
// "failed" counts non-2xx answers, connection errors and timeouts, and 200s carrying GraphQL errors.
//
// Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2),
// BENCH_CONNECTIONS (default 50), BENCH_CUSTOMERS (default 20), BENCH_VERBOSE=1 to
// stream the servers' output.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import {
  freePort,
  killAllServers,
  lastOutput,
  positive,
  sleep,
  startServer,
  stopAllServers,
  type ServerProcess,
} from "./server-processes.ts";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const tsxBin = join(repoRoot, "node_modules", ".bin", "tsx");
// BENCH_API_ENTRY points the bench at another entry file (e.g. a stand-in while the API is written).
const apiMain = process.env.BENCH_API_ENTRY || join(repoRoot, "api", "src", "main.ts");

const DURATION = positive("BENCH_DURATION", 10);
const WARMUP = positive("BENCH_WARMUP", 2);
const CONNECTIONS = positive("BENCH_CONNECTIONS", 50);
const CUSTOMERS = positive("BENCH_CUSTOMERS", 20);
const VERBOSE = process.env.BENCH_VERBOSE === "1";
const READY_TIMEOUT_MS = 120_000;

const CUSTOMERS_QUERY = /* GraphQL */ `query BenchCustomers {
  customers(first: 20) { edges { node { id slug displayName userCount adminCount technicianCount } } }
}`;
const HELLO_QUERY = /* GraphQL */ `query BenchHello { hello }`;


// ---------------------------------------------------------------- child processes

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, dataDir?: string): ServerProcess {
  return startServer(name, tsxBin, args, { cwd: repoRoot, env, dataDir, verbose: VERBOSE });
}

// Last resort if we die before the finally block runs.
process.on("exit", killAllServers);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    void stopAllServers().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- helpers

async function waitFor(child: ServerProcess, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exited) throw new Error(`${child.name} exited before ${what}\n${lastOutput(child, 200)}`);
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${child.name}: no ${what} within ${READY_TIMEOUT_MS / 1000} s\n${lastOutput(child, 200)}`);
}

type GraphQLResponse = { data?: Record<string, unknown> | null; errors?: { message: string }[] };

async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: GraphQLResponse;
  try {
    body = JSON.parse(text) as GraphQLResponse;
  } catch {
    throw new Error(`HTTP ${response.status} from ${url}, not JSON: ${text.slice(0, 500)}`);
  }
  if (body.errors?.length) throw new Error(`GraphQL errors (HTTP ${response.status}): ${JSON.stringify(body.errors)}`);
  return body;
}

// ---------------------------------------------------------------- seeding

async function seed(url: string): Promise<string> {
  const suffix = randomBytes(4).toString("hex");
  const slug = `bench-${suffix}`;
  const signUp = await graphql(
    url,
    /* GraphQL */ `mutation BenchSignUp($input: SignUpMspInput!) {
      signUpMsp(input: $input) { __typename ... on AuthPayload { token } ... on Error { message } }
    }`,
    {
      input: {
        slug,
        displayName: `Bench MSP ${suffix}`,
        firstName: "Bench",
        lastName: "Admin",
        email: `admin@${slug}.example.com`,
        password: "a long random passphrase-2931",
        tokenDelivery: "BEARER",
      },
    },
  );
  const payload = signUp.data?.signUpMsp as { __typename?: string; token?: string } | undefined;
  if (!payload?.token) throw new Error(`signUpMsp returned no token: ${JSON.stringify(signUp.data)}`);
  const token = payload.token;

  for (let i = 1; i <= CUSTOMERS; i++) {
    const n = String(i).padStart(2, "0");
    const created = await graphql(
      url,
      /* GraphQL */ `mutation BenchCreateCustomer($input: CreateCustomerInput!) {
        createCustomer(input: $input) { __typename ... on Error { message } }
      }`,
      { input: { name: `customer${n}`, displayName: `Bench Customer ${n}` } },
      token,
    );
    const typename = (created.data?.createCustomer as { __typename?: string } | undefined)?.__typename ?? "";
    // A union answer that names an error (e.g. ValidationError) is a failure too.
    if (/error/i.test(typename)) throw new Error(`createCustomer #${i} answered ${typename}: ${JSON.stringify(created.data)}`);
  }

  // Pre-flight: the measured query must really answer with the seeded customers.
  const check = await graphql(url, CUSTOMERS_QUERY, {}, token);
  const edges = (check.data?.customers as { edges?: unknown[] } | undefined)?.edges ?? [];
  if (edges.length !== Math.min(CUSTOMERS, 20)) {
    throw new Error(`customers returned ${edges.length} edges, expected ${Math.min(CUSTOMERS, 20)}: ${JSON.stringify(check.data).slice(0, 500)}`);
  }
  return token;
}

// ---------------------------------------------------------------- load

type Figures = {
  server: string;
  url: string;
  reqPerSec: number;
  requests: number;
  latencyMs: { p50: number; p90: number; p99: number; avg: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  throughputBytesPerSec: number;
};

async function load(server: string, url: string, query: string, token?: string): Promise<Figures> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const options: autocannon.Options = {
    url,
    method: "POST",
    headers,
    body: JSON.stringify({ query }),
    connections: CONNECTIONS,
    // A 200 carrying GraphQL errors (auth, limits) must not count as a success.
    verifyBody: (body) => !String(body ?? "").includes('"errors"'),
  };
  process.stdout.write(`  ${server}: warm-up ${WARMUP} s ... `);
  await autocannon({ ...options, duration: WARMUP });
  process.stdout.write(`measuring ${DURATION} s ... `);
  const result = await autocannon({ ...options, duration: DURATION });
  console.log("done");
  const mismatches = (result as unknown as { mismatches?: number }).mismatches ?? 0;
  return {
    server,
    url,
    reqPerSec: result.requests.average,
    requests: result.requests.total,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      avg: result.latency.average,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches,
    throughputBytesPerSec: result.throughput.average,
  };
}

function table(rows: Figures[], ratio: number): string {
  const header = ["server", "req/s", "p50 ms", "p99 ms", "requests", "failed"];
  const lines = rows.map((r) => [
    r.server,
    r.reqPerSec.toFixed(0),
    r.latencyMs.p50.toFixed(1),
    r.latencyMs.p99.toFixed(1),
    String(r.requests),
    String(r.non2xx + r.errors + r.mismatches),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt), "", `ratio ours/bare: ${ratio.toFixed(3)} (${(ratio * 100).toFixed(1)} %)`].join("\n");
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (!existsSync(apiMain)) throw new Error(`${apiMain} does not exist yet: nothing to benchmark`);
  if (!existsSync(tsxBin)) throw new Error(`${tsxBin} is missing: run npm install at the repo root`);

  const embedded = !process.env.DATABASE_URL;
  try {
    const barePort = await freePort();
    const apiPort = await freePort();

    // Loopback only: the API binds 0.0.0.0 unless told otherwise.
    const apiEnv: NodeJS.ProcessEnv = { ...process.env, API_HOST: "127.0.0.1", API_PORT: String(apiPort) };
    // The embedded API's temporary DATA_DIR, removed when its server stops.
    let dataDir: string | undefined;
    if (embedded) {
      dataDir = await mkdtemp(join(tmpdir(), "latchkey-bench-"));
      apiEnv.DATA_DIR = dataDir;
    } else {
      // PostgreSQL requires a key-encryption key; a throw-away one serves the tenants this run creates.
      apiEnv.KEY_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");
      apiEnv.DEVICE_COOKIE_KEY ??= randomBytes(32).toString("base64");
    }

    console.log(`latchkey throughput bench: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per server`);
    console.log(`  database: ${embedded ? `embedded PGlite in ${dataDir}` : "DATABASE_URL"}; pub/sub: ${process.env.REDIS_URL ? "REDIS_URL" : "in-process"}`);
    console.log(`  machine: ${cpus().length} cores, node ${process.version}; load generator shares the machine with the servers`);

    const bare = startChild("bare-yoga", [join(benchDir, "bare-server.ts")], { ...process.env, BARE_PORT: String(barePort), NODE_ENV: "production" });
    const api = startChild("latchkey-api", [apiMain], apiEnv, dataDir);

    const bareUrl = `http://127.0.0.1:${barePort}/graphql`;
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const apiUrl = `${apiBase}/graphql`;

    await waitFor(bare, "hello answer", async () => {
      const body = await graphql(bareUrl, HELLO_QUERY, {});
      return body.data?.hello === "world";
    });
    console.log(`  bare yoga ready on ${bareUrl}`);
    await waitFor(api, "200 from /readyz", async () => {
      const response = await fetch(`${apiBase}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      return response.status === 200;
    });
    console.log(`  latchkey API ready on ${apiUrl}`);

    const token = await seed(apiUrl).catch((error: unknown) => {
      throw new Error(`seeding through the API failed: ${error instanceof Error ? error.message : String(error)}\n${lastOutput(api, 200)}`);
    });
    console.log(`  seeded 1 MSP and ${CUSTOMERS} customers through the public API`);

    console.log("\nload:");
    const bareFigures = await load("bare yoga (hello)", bareUrl, HELLO_QUERY);
    const oursFigures = await load("latchkey (customers)", apiUrl, CUSTOMERS_QUERY, token);
    const ratio = bareFigures.reqPerSec > 0 ? oursFigures.reqPerSec / bareFigures.reqPerSec : 0;

    console.log(`\n${table([bareFigures, oursFigures], ratio)}`);
    for (const f of [bareFigures, oursFigures]) {
      if (f.non2xx + f.errors + f.mismatches > 0) {
        console.log(
          `note: ${f.server} had ${f.non2xx} non-2xx, ${f.errors} connection errors (${f.timeouts} of them timeouts), ${f.mismatches} GraphQL-error bodies`,
        );
      }
    }

    const results = {
      bench: "throughput",
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      database: embedded ? "pglite" : "postgres",
      pubsub: process.env.REDIS_URL ? "redis" : "in-process",
      nodeEnv: process.env.NODE_ENV ?? null,
      connections: CONNECTIONS,
      warmupSeconds: WARMUP,
      durationSeconds: DURATION,
      customers: CUSTOMERS,
      bare: bareFigures,
      ours: oursFigures,
      ratio,
    };
    const outDir = join(benchDir, "results");
    await mkdir(outDir, { recursive: true });
    const outFile = join(outDir, `throughput-${results.date.replace(/[:.]/g, "-")}.json`);
    await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nfigures written to ${outFile}`);
  } finally {
    await stopAllServers();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
