// Idle desktop agents and how fast a revocation reaches them.
//
//   npm run bench:elevation-agents --workspace bench
//   BENCH_AGENTS=1000 npm run bench:elevation-agents --workspace bench     (a quick run)
//
// One API process on PostgreSQL (in-process pub/sub: one instance). N
// workstations enrolled through the public `enrollWorkstation`, each with its
// own Ed25519 key; N agents connected, each with its own WebSocket (its own
// credential, as a real agent has) and its `workstationCommandAdded` subscription,
// idle. The API's resident memory (VmRSS) and JS heap (after a garbage
// collection asked for through its loopback inspector) are read before and
// after: memory per idle agent. Then S of those workstations get an open
// technician session of one technician (written to the database directly:
// the approvals are not what is measured), the technician's delegation is
// revoked with `revokeCustomerAccess`, and each of the S agents notes when its
// END_TECHNICIAN_SESSION command arrives: revocation reach, p50/p99 from the
// moment the mutation was sent. Prints a table, writes JSON to bench/results/,
// never fails on a timing.
//
// Database: DATABASE_URL when set (a fresh schema is not needed: the bench makes
// its own tenant); otherwise a throw-away database created on BENCH_PG_ADMIN_URL
// (default postgresql://postgres@127.0.0.1:5432/postgres) and dropped at the end.
// Knobs: BENCH_AGENTS (default 10000), BENCH_REVOKED (S, default 200),
// BENCH_CONCURRENCY (enrollments and connections at once, default 32),
// BENCH_VERBOSE=1 to stream the server's output.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { registerPassword } from "@latchkey/passwords";
import { createClient, type Client } from "graphql-ws";
import { SignJWT } from "jose";
import pg from "pg";
import WebSocket from "ws";
import { collectedHeapBytes, memory } from "./process-stats.ts";
import { freePort, killAllServers, lastOutput, positive, sleep, startServer, stopServer } from "./server-processes.ts";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const API_MAIN = join(repoRoot, "api", "src", "main.ts");

const AGENTS = positive("BENCH_AGENTS", 10_000);
const REVOKED = Math.min(positive("BENCH_REVOKED", 200), AGENTS);
const CONCURRENCY = positive("BENCH_CONCURRENCY", 32);
const VERBOSE = process.env.BENCH_VERBOSE === "1";

process.on("exit", killAllServers);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

/** Runs `work` for 0..count-1 with at most `limit` at once. */
async function pool(count: number, limit: number, work: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}


type Agent = { id: string; key: KeyObject; client: Client | null; receivedAt: number | null };

function credential(agent: Agent) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(agent.id)
    .setSubject(agent.id)
    .setAudience("latchkey")
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .setJti(randomBytes(16).toString("base64url"))
    .sign(agent.key);
}

async function main() {
  let databaseUrl = process.env.DATABASE_URL;
  let dropDatabase: (() => Promise<void>) | null = null;
  if (!databaseUrl) {
    const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
    const name = `latchkey_bench_elevation_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    try {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
    } catch (error) {
      console.log(`elevation-agents: skipped, no PostgreSQL at ${adminUrl} (${(error as Error).message}); set DATABASE_URL or BENCH_PG_ADMIN_URL`);
      return;
    } finally {
      await admin.end().catch(() => undefined);
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  }

  const port = await freePort();
  const inspectorPort = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "latchkey-bench-elevation-"));
  const server = startServer("api", process.execPath, [`--inspect=127.0.0.1:${inspectorPort}`, "--import", "tsx", API_MAIN], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      API_HOST: "127.0.0.1",
      API_PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "warn",
      KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
      EMAIL_CODE_KEY: randomBytes(32).toString("base64"),
      JOB_QUEUE_SCHEMA: `jobs_bench_${randomBytes(4).toString("hex")}`,
      RATE_LIMIT_NAMESPACE: `bench-elevation-${randomBytes(4).toString("hex")}`,
      // Every agent here connects from 127.0.0.1.
      TRANSPORT_LIMITS: JSON.stringify({ unauthenticatedSocketsPerAddress: 1_000_000 }),
      RATE_LIMIT_OVERRIDES: JSON.stringify({ enrollPerIp: { points: 10_000_000, durationSeconds: 3600 } }),
    },
    dataDir,
    verbose: VERBOSE,
  });
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 120_000;
  while (!(await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false))) {
    if (server.exited || Date.now() > end) throw new Error(`the API did not start\n${lastOutput(server)}`);
    await sleep(200);
  }
  const apiPid = server.process.pid!;

  const gql = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const response = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };

  try {
    const slug = `bench${randomBytes(3).toString("hex")}`;
    const { registrationId } = await registerPassword(gql, { password: "bench-orbit-lantern-cascade-42" });
    const { signUpMsp } = await gql(`mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { ... on AuthPayload { token tenant { id } } ... on Error { message } } }`, {
      input: { slug, displayName: "Bench MSP", firstName: "Bench", lastName: "Admin", email: `admin@${slug}.test`, passwordRegistrationId: registrationId },
    });
    const token = signUpMsp.token as string;
    const { createCustomer } = await gql(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { ... on CreateCustomerPayload { customer { id } } } }`, { input: { name: "fleet", displayName: "Fleet" } }, token);
    const customerId = createCustomer.customer.id as string;
    await gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename } }`, { input: { tenantId: customerId, sharedAccountName: "LatchkeyAdmin" } }, token);
    const { createUser } = await gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserPayload { user { id } } } }`, {
      input: { tenantId: signUpMsp.tenant.id, firstName: "Tech", lastName: "Nician", username: "technician", email: `tech@${slug}.test`, role: "TECHNICIAN" },
    }, token);
    const technicianId = createUser.user.id as string;
    await gql(`mutation($input: DelegateCustomerAccessInput!) { delegateCustomerAccess(input: $input) { __typename } }`, { input: { technicianId, customerId } }, token);
    const { createInstallToken } = await gql(`mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { ... on CreateInstallTokenPayload { installToken } } }`, {
      input: { tenantId: customerId, autoApprove: true, maxUses: AGENTS },
    }, token);

    console.log(`enrolling ${AGENTS} workstations…`);
    const agents: Agent[] = [];
    const enrollStart = performance.now();
    await pool(AGENTS, CONCURRENCY, async (index) => {
      const { publicKey, privateKey } = generateKeyPairSync("ed25519");
      const { enrollWorkstation } = await gql(`mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { ... on WorkstationPayload { workstation { id } } ... on Error { code message } } }`, {
        input: { installToken: createInstallToken.installToken, hostname: `WS-${index}`, os: "Windows 11", publicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64") },
      });
      if (!enrollWorkstation.workstation) throw new Error(`enrollment failed: ${JSON.stringify(enrollWorkstation)}`);
      agents[index] = { id: enrollWorkstation.workstation.id, key: privateKey, client: null, receivedAt: null };
    });
    const enrollSeconds = (performance.now() - enrollStart) / 1000;

    // Both readings right after a collection, so the difference is what the agents hold.
    const heapBefore = await collectedHeapBytes(inspectorPort);
    const rssBefore = memory(apiPid)!.rss;
    console.log(`connecting ${AGENTS} agents (a WebSocket and a command subscription each)…`);
    const connectStart = performance.now();
    await pool(AGENTS, CONCURRENCY, async (index) => {
      const agent = agents[index]!;
      await new Promise<void>((resolve, reject) => {
        const client = createClient({
          url: `ws://127.0.0.1:${port}/graphql`,
          webSocketImpl: WebSocket,
          lazy: true,
          retryAttempts: 0,
          connectionParams: async () => ({ authorization: `Bearer ${await credential(agent)}` }),
          on: { connected: () => resolve(), closed: (event) => reject(new Error(`agent ${index} closed: ${JSON.stringify(event)}`)) },
        });
        agent.client = client;
        client.subscribe(
          { query: `subscription { workstationCommandAdded { id kind sessionId reason } }` },
          { next: () => void (agent.receivedAt ??= performance.now()), error: () => undefined, complete: () => undefined },
        );
      });
    });
    const connectSeconds = (performance.now() - connectStart) / 1000;
    await sleep(2_000);
    const heapAfter = await collectedHeapBytes(inspectorPort);
    const rssAfter = memory(apiPid)!.rss;

    // S open sessions of the technician, one per sampled workstation.
    const sample = agents.filter((_, index) => index % Math.floor(AGENTS / REVOKED) === 0).slice(0, REVOKED);
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    for (const agent of sample) {
      await db.query(
        `INSERT INTO "TechnicianSession" (id, "tenantId", "challengeId", "workstationId", "workstationName", mode, "accountName", "accountKey", "requestedMinutes", status, "technicianId", "technicianLabel", "approvedAt", "startedAt", "endsAt", "updatedAt")
         VALUES ($1, $2, $3, $4, 'bench', 'SIGN_IN', 'LatchkeyAdmin', 'LATCHKEYADMIN', 60, 'STARTED', $5, 'Tech Nician', now(), now(), now() + interval '1 hour', now())`,
        [randomUUID(), customerId, randomUUID(), agent.id, technicianId],
      );
    }
    await db.end();

    console.log(`revoking the delegation that ${sample.length} open sessions depend on…`);
    const sent = performance.now();
    await gql(`mutation($input: RevokeCustomerAccessInput!) { revokeCustomerAccess(input: $input) { __typename } }`, { input: { technicianId, customerId } }, token);
    const answered = performance.now();
    const deadline = Date.now() + 120_000;
    while (sample.some((agent) => agent.receivedAt === null) && Date.now() < deadline) await sleep(20);
    const reach = sample.filter((agent) => agent.receivedAt !== null).map((agent) => agent.receivedAt! - sent).sort((x, y) => x - y);
    const unreached = sample.length - reach.length;
    const spurious = agents.filter((agent) => !sample.includes(agent) && agent.receivedAt !== null).length;

    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavg: loadavg() },
      agents: AGENTS,
      enrollSeconds,
      connectSeconds,
      memory: {
        rssBeforeBytes: rssBefore,
        rssAfterBytes: rssAfter,
        heapBeforeBytes: heapBefore,
        heapAfterBytes: heapAfter,
        rssPerAgentBytes: Math.round((rssAfter - rssBefore) / AGENTS),
        heapPerAgentBytes: Math.round((heapAfter - heapBefore) / AGENTS),
      },
      revocation: {
        sessions: sample.length,
        mutationMs: answered - sent,
        reachP50Ms: percentile(reach, 50),
        reachP99Ms: percentile(reach, 99),
        reachMaxMs: reach.at(-1) ?? NaN,
        unreached,
        commandsToOtherAgents: spurious,
      },
    };
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    console.log(`
elevation agents: ${AGENTS} idle agents on one API instance (${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")})
  enroll ${enrollSeconds.toFixed(1)} s, connect ${connectSeconds.toFixed(1)} s
  memory per idle agent: ${kb(results.memory.rssPerAgentBytes)} resident, ${kb(results.memory.heapPerAgentBytes)} JS heap (after GC)
  revocation of ${sample.length} open sessions: mutation answered in ${results.revocation.mutationMs.toFixed(0)} ms;
    reach p50 ${results.revocation.reachP50Ms.toFixed(1)} ms, p99 ${results.revocation.reachP99Ms.toFixed(1)} ms, max ${results.revocation.reachMaxMs.toFixed(1)} ms
    (from the mutation sent to each agent's command; ${unreached} unreached, ${spurious} commands to agents without a session)`);
    const outDir = join(benchDir, "results");
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, `elevation-agents-${results.date.replace(/[:.]/g, "-")}.json`), `${JSON.stringify(results, null, 2)}\n`);
    await Promise.all(agents.map((agent) => agent.client?.dispose()));
  } finally {
    await stopServer(server);
    await dropDatabase?.();
  }
}

await main();
