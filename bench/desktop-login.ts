// Password logins at the Windows login screen under a burst, by OPAQUE:
// BENCH_LOGINS (default 200) logins at once, each two requests: every
// `startDesktopPasswordLogin` fired at once (the server's OPAQUE first step,
// the login state sealed and stored, the attempt counted), then, once this
// process has run each agent's client step, every `finishDesktopPasswordLogin`
// at once (the state taken, the proof checked, the attempt given back, the
// login event and the account instruction written).
//
//   npm run bench:desktop-login --workspace bench      (or: cd bench && npx tsx desktop-login.ts)
//
// The API runs in a child process (desktop-login-server.ts, forked with tsx)
// so this process's load generation never shows in the API's event-loop delay;
// over IPC the child opens and closes a measuring window around each burst.
// Embedded PGlite under a temporary DATA_DIR by default; the caller's
// DATABASE_URL / REDIS_URL (and KEY_ENCRYPTION_KEY, OPAQUE_SERVER_SETUP) when
// set. Everything is seeded through the public API over HTTP: an MSP, a
// customer with desktop login enabled, workstations enrolled with an
// auto-approving install token (their keys made here with node:crypto, their
// credentials signed with jose), and one user per login, each password
// registered by OPAQUE from here, so per-account throttling is not what is
// measured.
//
// The server never stretches a password (the client does, with the profile the
// server names): its work per login is the same whatever the profile, so the
// registrations use BENCH_KSF (default `test`, cheap, so this process can run
// 200 client steps inside the login state's 60 seconds); BENCH_KSF=v1 makes
// the client side what a real agent does (about 0.2 s a login, one at a time here).
//
// Prints logins, failures, wall time, logins/s, per-step latency p50/p95/p99/max,
// the API process's event-loop delay p50/p99/max during each burst (and idle,
// for reference), its CPU per password login and RSS; writes JSON to
// bench/results/. Never fails on a timing: exits non-zero only when the API
// cannot start or the seeding (or the pre-flight login) fails.
//
// Knobs (environment): BENCH_LOGINS (default 200), BENCH_WORKSTATIONS (default
// 10), BENCH_ROUNDS (bursts, each with fresh users, default 1), BENCH_WARMUP
// (warm-up logins, default 5), BENCH_KSF (test or v1), BENCH_VERBOSE=1 to
// stream the API's output. Passed on to the API when set: DATABASE_POOL_SIZE,
// UV_THREADPOOL_SIZE.
import { fork, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { answerLogin, registerPassword, startLogin, type RunOperation } from "@latchkey/passwords";
import { createServerSetup } from "@latchkey/schema";
import { SignJWT } from "jose";
import type { ServerReady, ServerRequest, WindowReport } from "./desktop-login-server.ts";
import { positive, sleep } from "./server-processes.ts";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(benchDir, "..");
const serverFile = join(benchDir, "desktop-login-server.ts");

const LOGINS = Math.floor(positive("BENCH_LOGINS", 200));
const WORKSTATIONS = Math.floor(positive("BENCH_WORKSTATIONS", 10));
const ROUNDS = Math.floor(positive("BENCH_ROUNDS", 1));
const WARMUP = Math.floor(positive("BENCH_WARMUP", 5));
const VERBOSE = process.env.BENCH_VERBOSE === "1";
const KSF = process.env.BENCH_KSF === "v1" ? "v1" : "test";
const READY_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 120_000;
/** Users created at once while seeding: each registers a password. */
const SEED_CONCURRENCY = 8;

// ---------------------------------------------------------------- the API process

class ApiProcess {
  readonly output: string[] = [];
  exited = false;
  private waiting: { type: string; resolve: (message: any) => void; reject: (error: Error) => void } | null = null;

  private constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        this.output.push(line);
        if (this.output.length > 200) this.output.shift();
        if (VERBOSE) console.log(`[api] ${line}`);
      }
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("message", (message: { type: string }) => {
      if (this.waiting?.type === message.type) {
        const { resolve } = this.waiting;
        this.waiting = null;
        resolve(message);
      }
    });
    child.on("exit", (code, signal) => {
      this.exited = true;
      this.waiting?.reject(new Error(`the API process exited (${signal ?? `code ${code}`})\n${this.lastOutput()}`));
      this.waiting = null;
    });
  }

  static start(env: NodeJS.ProcessEnv, temporaryDataDir: string): ApiProcess {
    const child = fork(serverFile, [temporaryDataDir], {
      cwd: repoRoot,
      env,
      // Not the parent's execArgv (tsx's CLI flags): a plain node with tsx as its loader.
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    return new ApiProcess(child);
  }

  /** Waits for the message of `type` (one request at a time). */
  next<T>(type: string, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`the API process is not running\n${this.lastOutput()}`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`no "${type}" from the API process within ${timeoutMs / 1000} s\n${this.lastOutput()}`));
      }, timeoutMs);
      this.waiting = {
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  request<T>(type: ServerRequest["type"]): Promise<T> {
    const answer = this.next<T>(type, 30_000);
    this.child.send({ type } satisfies ServerRequest);
    return answer;
  }

  async stop() {
    if (!this.exited) {
      if (this.child.connected) this.child.send({ type: "stop" } satisfies ServerRequest);
      else this.child.kill("SIGTERM");
      const end = Date.now() + 10_000;
      while (!this.exited && Date.now() < end) await sleep(50);
      if (!this.exited) this.child.kill("SIGKILL");
    }
  }

  lastOutput(lines = 60) {
    return this.output.length ? `--- last output of the API ---\n${this.output.slice(-lines).join("\n")}` : "(the API printed nothing)";
  }
}

let api: ApiProcess | null = null;
let dataDir: string | null = null;

// Last resort if we die before the finally block runs: nothing can be awaited here.
process.on("exit", () => {
  if (api && !api.exited) api.child.kill("SIGKILL");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // tsx's CLI passes the signal on, and a terminal sends it too: act on the first.
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the API`);
    void (api?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- workstations

/**
 * A workstation as the protocol describes it: an Ed25519 signing key whose
 * short-lived JWTs authenticate its requests, and an X25519 key-agreement key
 * (what a QR login's password is sealed to; a password login needs none).
 */
class Workstation {
  id = "";
  private readonly signing = generateKeyPairSync("ed25519");
  private readonly agreement = generateKeyPairSync("x25519");

  constructor(readonly hostname: string) {}

  get publicKey() {
    return spki(this.signing.publicKey);
  }

  get keyAgreementKey() {
    return spki(this.agreement.publicKey);
  }

  /** iss = sub = workstation id, aud latchkey, two minutes, a fresh jti. */
  credential() {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setIssuer(this.id)
      .setSubject(this.id)
      .setAudience("latchkey")
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .setJti(randomBytes(16).toString("base64url"))
      .sign(this.signing.privateKey);
  }
}

const spki = (key: KeyObject) => key.export({ format: "der", type: "spki" }).toString("base64");

type Instruction = {
  attemptId: string;
  workstationId: string;
  username: string;
  expiresAt: string;
  passwordSource: string;
  password: { suite: string; enc: string; ciphertext: string } | null;
};

// ---------------------------------------------------------------- GraphQL over HTTP

type GraphQLResponse = { data?: Record<string, any> | null; errors?: { message: string }[] };

async function post(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<{ status: number; body: GraphQLResponse }> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as GraphQLResponse };
  } catch {
    throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
  }
}

/** `data`, failing on any GraphQL error: for seeding, where everything must work. */
async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Record<string, any>> {
  const { status, body } = await post(url, query, variables, token);
  if (body.errors?.length) throw new Error(`GraphQL errors (HTTP ${status}): ${JSON.stringify(body.errors)}`);
  return body.data ?? {};
}

/** The union member, or an error naming what came back instead. */
function unionMember(result: Record<string, any> | undefined, typename: string, what: string): Record<string, any> {
  if (result?.__typename !== typename) throw new Error(`${what} answered ${JSON.stringify(result)}`);
  return result;
}

const SIGN_UP = `mutation BenchSignUp($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename
  ... on AuthPayload { token } ... on Error { code message } } }`;
const CREATE_CUSTOMER = `mutation BenchCreateCustomer($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename
  ... on CreateCustomerPayload { customer { id slug } } ... on Error { code message } } }`;
const SETTINGS = `mutation BenchDesktopSettings($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename
  ... on Error { code message } } }`;
const CREATE_TOKEN = `mutation BenchInstallToken($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename
  ... on CreateInstallTokenPayload { installToken } ... on Error { code message } } }`;
const ENROLL = `mutation BenchEnroll($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename
  ... on WorkstationPayload { workstation { id status } } ... on Error { code message } } }`;
const CREATE_USER = `mutation BenchCreateUser($input: CreateUserInput!) { createUser(input: $input) { __typename
  ... on CreateUserPayload { user { id } } ... on Error { code message } } }`;
const START = `mutation BenchStartDesktopPasswordLogin($input: StartDesktopPasswordLoginInput!) { startDesktopPasswordLogin(input: $input) { __typename
  ... on StartPasswordLogInPayload { loginId response ksf clientIdentity serverIdentity } ... on Error { code message } } }`;
const FINISH = `mutation BenchFinishDesktopPasswordLogin($input: FinishDesktopPasswordLoginInput!) { finishDesktopPasswordLogin(input: $input) { __typename
  ... on DesktopLoginPayload { instruction { action attemptId workstationId username expiresAt passwordSource password { suite enc ciphertext } } }
  ... on Error { code message } } }`;

// ---------------------------------------------------------------- seeding

type DirectoryUser = { username: string; password: string };
type World = { workstations: Workstation[]; users: DirectoryUser[] };

async function seed(url: string, userCount: number): Promise<World> {
  const suffix = randomBytes(4).toString("hex");
  const slug = `bench-${suffix}`;
  const run = (token?: string): RunOperation => (query, variables) => graphql(url, query, variables, token);
  const admin = await registerPassword(run(), { password: "a long random passphrase-2931" });
  const signUp = await graphql(url, SIGN_UP, {
    input: {
      slug,
      displayName: `Bench MSP ${suffix}`,
      firstName: "Bench",
      lastName: "Admin",
      email: `admin@${slug}.example.com`,
      passwordRegistrationId: admin.registrationId,
      tokenDelivery: "BEARER",
    },
  });
  const token = unionMember(signUp.signUpMsp, "AuthPayload", "signUpMsp").token as string;

  const created = await graphql(url, CREATE_CUSTOMER, { input: { name: "frontdesk", displayName: "Front Desk Dental" } }, token);
  const customerId = unionMember(created.createCustomer, "CreateCustomerPayload", "createCustomer").customer.id as string;

  const settings = await graphql(url, SETTINGS, { input: { tenantId: customerId, desktopLoginEnabled: true, method: "PASSWORD" } }, token);
  unionMember(settings.updateDesktopSettings, "UpdateDesktopSettingsPayload", "updateDesktopSettings");

  const install = await graphql(
    url,
    CREATE_TOKEN,
    { input: { tenantId: customerId, autoApprove: true, maxUses: WORKSTATIONS, expiresInHours: 1 } },
    token,
  );
  const installToken = unionMember(install.createInstallToken, "CreateInstallTokenPayload", "createInstallToken").installToken as string;

  const workstations = Array.from({ length: WORKSTATIONS }, (_, i) => new Workstation(`BENCH-PC-${String(i + 1).padStart(3, "0")}`));
  await Promise.all(
    workstations.map(async (workstation) => {
      const enrolled = await graphql(url, ENROLL, {
        input: {
          installToken,
          hostname: workstation.hostname,
          os: "Windows 11 Pro 24H2",
          publicKey: workstation.publicKey,
          keyAgreementKey: workstation.keyAgreementKey,
        },
      });
      const result = unionMember(enrolled.enrollWorkstation, "WorkstationPayload", `enrollWorkstation ${workstation.hostname}`);
      if (result.workstation.status !== "APPROVED") throw new Error(`${workstation.hostname} enrolled as ${result.workstation.status}, not APPROVED`);
      workstation.id = result.workstation.id as string;
    }),
  );

  // Every user gets a password of their own, so each opened instruction is checked against its user.
  const users: DirectoryUser[] = Array.from({ length: userCount }, (_, i) => ({
    username: `bench${String(i + 1).padStart(5, "0")}`,
    password: `${randomBytes(12).toString("base64url")}-Lk7`,
  }));
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++]!;
      // The admin's client registers each password and seals it to the customer's key.
      const { registrationId } = await registerPassword(run(token), { tenant: customerId, password: user.password });
      const made = await graphql(
        url,
        CREATE_USER,
        {
          input: {
            tenantId: customerId,
            firstName: "Bench",
            lastName: user.username,
            username: user.username,
            email: `${user.username}@frontdesk.example.com`,
            role: "USER",
            passwordRegistrationId: registrationId,
          },
        },
        token,
      );
      unionMember(made.createUser, "CreateUserPayload", `createUser ${user.username}`);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  return { workstations, users };
}

// ---------------------------------------------------------------- logins

type Attempt = { user: DirectoryUser; workstation: Workstation; credentials: [string, string]; state: string; request: string };
type Step = { ok: boolean; latencyMs: number; finishedAt: number; failure?: string; result?: Record<string, any> };

async function step(url: string, query: string, input: Record<string, unknown>, credential: string, typename: string, field: string): Promise<Step> {
  const started = performance.now();
  try {
    const { status, body } = await post(url, query, { input }, credential);
    const finishedAt = performance.now();
    const latencyMs = finishedAt - started;
    const result = body.data?.[field] as Record<string, any> | undefined;
    if (result?.__typename === typename) return { ok: true, latencyMs, finishedAt, result };
    const failure = body.errors?.length
      ? `HTTP ${status} ${body.errors.map((e) => e.message).join("; ")}`
      : `${result?.__typename ?? `HTTP ${status}`}${result?.code ? ` ${result.code}` : ""}`;
    return { ok: false, latencyMs, finishedAt, failure };
  } catch (error) {
    const finishedAt = performance.now();
    return { ok: false, latencyMs: finishedAt - started, finishedAt, failure: `request failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const startStep = (url: string, attempt: Attempt) =>
  step(url, START, { username: attempt.user.username, request: attempt.request }, attempt.credentials[0], "StartPasswordLogInPayload", "startDesktopPasswordLogin");

const finishStep = (url: string, attempt: Attempt, proof: { loginId: string; finish: string }) =>
  step(url, FINISH, proof, attempt.credentials[1], "DesktopLoginPayload", "finishDesktopPasswordLogin");

/** Credentials and first client steps made before the clock starts: that is the agent's work, not the API's. */
async function attempts(world: World, users: DirectoryUser[]): Promise<Attempt[]> {
  return Promise.all(
    users.map(async (user, i) => {
      const workstation = world.workstations[i % world.workstations.length]!;
      const { state, request } = await startLogin(user.password);
      return { user, workstation, credentials: [await workstation.credential(), await workstation.credential()], state, request };
    }),
  );
}

/** The agents' second client step, one after another in this process: each proof, or why there is none. */
async function proofs(batch: Attempt[], starts: Step[]) {
  const made: ({ loginId: string; finish: string } | string)[] = [];
  for (let i = 0; i < batch.length; i++) {
    const started = starts[i]!;
    if (!started.ok) {
      made.push(`start refused: ${started.failure}`);
      continue;
    }
    try {
      const { loginId, finish } = await answerLogin(started.result as never, batch[i]!.state, batch[i]!.user.password);
      made.push({ loginId, finish });
    } catch (error) {
      made.push(`client step failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return made;
}

/** Every instruction must name its user and workstation and set the typed password. */
function checkInstructions(batch: Attempt[], finishes: (Step | null)[]): { checked: number; problems: string[] } {
  let checked = 0;
  const problems: string[] = [];
  for (let i = 0; i < batch.length; i++) {
    const instruction = finishes[i]?.result?.instruction as Instruction | undefined;
    if (!instruction) continue;
    const { user, workstation } = batch[i]!;
    if (instruction.workstationId !== workstation.id || instruction.username !== user.username || instruction.passwordSource !== "TYPED" || instruction.password !== null) {
      problems.push(`${user.username}: instruction for ${instruction.username} on ${instruction.workstationId} (${instruction.passwordSource})`);
    } else {
      checked++;
    }
  }
  return { checked, problems };
}

/** One login after another (warm-up): start, client step, finish. */
async function loginOnce(url: string, attempt: Attempt): Promise<{ ok: boolean; latencyMs: number; failure?: string; finish: Step | null }> {
  const t = performance.now();
  const started = await startStep(url, attempt);
  const [proof] = await proofs([attempt], [started]);
  if (typeof proof === "string") return { ok: false, latencyMs: performance.now() - t, failure: proof, finish: null };
  const finished = await finishStep(url, attempt, proof!);
  return { ok: finished.ok, latencyMs: performance.now() - t, failure: finished.failure, finish: finished };
}

// ---------------------------------------------------------------- figures

type Percentiles = { p50: number; p95: number; p99: number; max: number; mean: number };

function percentiles(values: number[]): Percentiles | null {
  if (!values.length) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1)!),
    mean: round(sorted.reduce((sum, v) => sum + v, 0) / sorted.length),
  };
}

const withoutType = ({ type: _type, ...figures }: WindowReport) => figures;
const round = (v: number) => Math.round(v * 100) / 100;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

type Burst = {
  requests: number;
  answered: number;
  wallSeconds: number;
  latencyMs: Percentiles | null;
  api: WindowReport;
  /** CPU the API used in the burst, in cores (2.0 = both of two cores busy throughout). */
  apiCpuCores: number;
};

type Round = {
  round: number;
  logins: number;
  succeeded: number;
  failures: number;
  failuresByKind: Record<string, number>;
  /** Both bursts' wall time together (the agents' client steps between them not counted). */
  wallSeconds: number;
  loginsPerSecond: number;
  starts: Burst;
  finishes: Burst;
  /** The API's CPU (both bursts) per succeeded login. */
  apiCpuMsPerLogin: number;
  /** The agents' client steps between the bursts, in this process. */
  clientSeconds: number;
  instructionsChecked: number;
  instructionProblems: string[];
  loadAverage: { start: number; end: number };
};

/** Fires every request at once inside a measuring window of the API process. */
async function measuredBurst(requests: (() => Promise<Step>)[]): Promise<{ steps: Step[]; burst: Burst }> {
  await api!.request("reset");
  const started = performance.now();
  // All at once: every request is on its way before the first answer can be read.
  const steps = await Promise.all(requests.map((request) => request()));
  const finished = Math.max(...steps.map((s) => s.finishedAt));
  const report = await api!.request<WindowReport>("report");
  return {
    steps,
    burst: {
      requests: steps.length,
      answered: steps.filter((s) => s.ok).length,
      wallSeconds: round((finished - started) / 1000),
      latencyMs: percentiles(steps.map((s) => s.latencyMs)),
      api: report,
      apiCpuCores: round((report.cpuMs.user + report.cpuMs.system) / report.windowMs),
    },
  };
}

async function burst(url: string, world: World, users: DirectoryUser[], number: number): Promise<Round> {
  const batch = await attempts(world, users);
  const load = loadavg()[0]!;
  const starts = await measuredBurst(batch.map((attempt) => () => startStep(url, attempt)));
  const t = performance.now();
  const made = await proofs(batch, starts.steps);
  const clientSeconds = (performance.now() - t) / 1000;
  const pending = batch.map((attempt, i) => ({ attempt, proof: made[i]! })).filter((entry) => typeof entry.proof !== "string");
  const finishes = await measuredBurst(pending.map(({ attempt, proof }) => () => finishStep(url, attempt, proof as { loginId: string; finish: string })));
  const byAttempt = new Map(pending.map((entry, i) => [entry.attempt, finishes.steps[i]!]));
  const finishOf = batch.map((attempt) => byAttempt.get(attempt) ?? null);

  const failuresByKind: Record<string, number> = {};
  batch.forEach((_, i) => {
    const proof = made[i]!;
    const failure = typeof proof === "string" ? proof : finishOf[i]!.ok ? null : `finish: ${finishOf[i]!.failure}`;
    if (failure) failuresByKind[failure] = (failuresByKind[failure] ?? 0) + 1;
  });
  const succeeded = finishOf.filter((f) => f?.ok).length;
  const { checked, problems } = checkInstructions(batch, finishOf);
  const cpuMs = (b: Burst) => b.api.cpuMs.user + b.api.cpuMs.system;
  const wallSeconds = starts.burst.wallSeconds + finishes.burst.wallSeconds;
  return {
    round: number,
    logins: batch.length,
    succeeded,
    failures: batch.length - succeeded,
    failuresByKind,
    wallSeconds: round(wallSeconds),
    loginsPerSecond: round(succeeded / wallSeconds),
    starts: starts.burst,
    finishes: finishes.burst,
    apiCpuMsPerLogin: round((cpuMs(starts.burst) + cpuMs(finishes.burst)) / Math.max(1, succeeded)),
    clientSeconds: round(clientSeconds),
    instructionsChecked: checked,
    instructionProblems: problems.slice(0, 20),
    loadAverage: { start: round(load), end: round(loadavg()[0]!) },
  };
}

function printBurst(name: string, b: Burst) {
  const d = b.api.eventLoopDelayMs;
  const l = b.latencyMs;
  console.log(`  ${name.padEnd(16)} ${b.answered} of ${b.requests} answered in ${b.wallSeconds.toFixed(2)} s`);
  if (l) console.log(`    latency        p50 ${l.p50.toFixed(0)} / p95 ${l.p95.toFixed(0)} / p99 ${l.p99.toFixed(0)} / max ${l.max.toFixed(0)} ms`);
  console.log(`    event-loop delay p50 ${d.p50.toFixed(1)} / p99 ${d.p99.toFixed(1)} / max ${d.max.toFixed(1)} ms in the API process (${d.samples} samples)`);
  console.log(`    API process    ${b.apiCpuCores.toFixed(2)} cores of CPU (${b.api.cpuMs.user + b.api.cpuMs.system} ms), RSS ${mb(b.api.rssBytes)} MB (peak ${mb(b.api.maxRssBytes)} MB)`);
}

function printRound(r: Round) {
  console.log(`\nround ${r.round}: ${r.logins} password logins at once, two requests each`);
  console.log(`  logins           ${r.succeeded} succeeded, ${r.failures} failed`);
  for (const [kind, count] of Object.entries(r.failuresByKind)) console.log(`    ${count} x ${kind}`);
  printBurst("starts", r.starts);
  printBurst("finishes", r.finishes);
  console.log(`  API CPU          ${r.apiCpuMsPerLogin.toFixed(2)} ms per password login (both steps)`);
  console.log(`  throughput       ${r.loginsPerSecond.toFixed(1)} logins/s over both bursts' ${r.wallSeconds.toFixed(2)} s (the agents' client steps, ${r.clientSeconds.toFixed(1)} s here, not counted)`);
  console.log(`  instructions     ${r.instructionsChecked} of ${r.succeeded} name their user and workstation and set the typed password`);
  console.log(`  machine load     ${r.loadAverage.start} -> ${r.loadAverage.end} (1-minute load average, ${cpus().length} cores): other work skews every figure`);
  for (const problem of r.instructionProblems.slice(0, 3)) console.log(`    wrong: ${problem}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (!existsSync(join(repoRoot, "node_modules", "tsx"))) throw new Error("tsx is missing: run npm install at the repo root");

  dataDir = await mkdtemp(join(tmpdir(), "latchkey-bench-desktop-login-"));
  const passOn = (name: string) => (process.env[name] ? { [name]: process.env[name] } : {});
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    DATA_DIR: dataDir,
    ...passOn("DATABASE_URL"),
    ...passOn("REDIS_URL"),
    ...passOn("KEY_ENCRYPTION_KEY"),
    ...passOn("KEY_ENCRYPTION_KEY_ID"),
    ...passOn("DEVICE_COOKIE_KEY"),
    ...passOn("EMAIL_CODE_KEY"),
    ...passOn("OPAQUE_SERVER_SETUP"),
    ...passOn("LOGIN_STATE_KEY"),
    ...passOn("DATABASE_POOL_SIZE"),
    ...passOn("UV_THREADPOOL_SIZE"),
    PASSWORD_KSF: KSF,
    // The bench signs up from 127.0.0.1 on every run.
    SIGNUPS_PER_HOUR_PER_IP: "100000",
    // This run's counters apart from anything else sharing the Redis.
    RATE_LIMIT_NAMESPACE: `bench-${randomBytes(6).toString("hex")}`,
    // Enrollments per IP are the one limit seeding can reach (many workstations from one address).
    RATE_LIMIT_OVERRIDES: JSON.stringify({ enrollPerIp: { points: 1_000_000, durationSeconds: 3600 } }),
  };
  if (env.DATABASE_URL && !env.KEY_ENCRYPTION_KEY) {
    // The API refuses PostgreSQL without a key-encryption key; a throw-away one,
    // under an id of its own, serves the tenants this run creates.
    env.KEY_ENCRYPTION_KEY = randomBytes(32).toString("base64");
    env.KEY_ENCRYPTION_KEY_ID = `bench-${randomBytes(6).toString("hex")}`;
  }
  if (env.DATABASE_URL) env.DEVICE_COOKIE_KEY ??= randomBytes(32).toString("base64");
  // Required on PostgreSQL too; this run sends no codes, any key will do.
  if (env.DATABASE_URL && !env.EMAIL_CODE_KEY) env.EMAIL_CODE_KEY = randomBytes(32).toString("base64");
  if (env.DATABASE_URL) env.LOGIN_STATE_KEY ??= randomBytes(32).toString("base64");
  // A database accepts the server setup it first saw: on a fresh one any will do; on another, pass its OPAQUE_SERVER_SETUP.
  if (env.DATABASE_URL) env.OPAQUE_SERVER_SETUP ??= await createServerSetup();

  console.log(
    `latchkey desktop-login bench: ${ROUNDS} x ${LOGINS} password logins at once over ${WORKSTATIONS} workstations, ${WARMUP} warm-up logins`,
  );
  console.log(`  machine: ${cpus().length} cores, node ${process.version}; the load generator shares it with the API process`);

  try {
    api = ApiProcess.start(env, dataDir);
    const ready = await api.next<ServerReady>("ready", READY_TIMEOUT_MS).catch((error: unknown) => {
      throw new Error(`the API could not start: ${error instanceof Error ? error.message : String(error)}`);
    });
    const url = `${ready.url}/graphql`;
    console.log(`  API (pid ${ready.pid}) on ${url}; database: ${ready.database === "embedded" ? `embedded PGlite in ${dataDir}` : "DATABASE_URL"}; pub/sub: ${ready.pubsub}`);
    console.log(`  OPAQUE: key-stretching profile ${ready.ksf} (clients only: the server stretches nothing); libuv threadpool ${ready.threadpoolSize}`);

    const t = performance.now();
    const world = await seed(url, WARMUP + LOGINS * ROUNDS).catch((error: unknown) => {
      throw new Error(`seeding through the API failed: ${error instanceof Error ? error.message : String(error)}\n${api!.lastOutput()}`);
    });
    console.log(
      `  seeded through the public API in ${((performance.now() - t) / 1000).toFixed(1)} s: 1 MSP, 1 customer with desktop login on, ` +
        `${world.workstations.length} workstations (auto-approved), ${world.users.length} users with passwords`,
    );

    // Warm-up, one after another; the first doubles as the pre-flight: the seeded world must really log in.
    const warmUsers = world.users.slice(0, WARMUP);
    const warm = await attempts(world, warmUsers);
    const warmOutcomes: Awaited<ReturnType<typeof loginOnce>>[] = [];
    for (const attempt of warm) warmOutcomes.push(await loginOnce(url, attempt));
    const preflight = checkInstructions(warm.slice(0, 1), warmOutcomes.slice(0, 1).map((o) => o.finish));
    if (preflight.checked !== 1) {
      throw new Error(`seeding failed: the pre-flight login did not answer with the right instruction: ${warmOutcomes[0]!.failure ?? preflight.problems[0]}\n${api.lastOutput()}`);
    }
    const warmFailed = warmOutcomes.filter((o) => !o.ok).length;
    console.log(
      `  warm-up: ${warmOutcomes.length - warmFailed} of ${warmOutcomes.length} logins one after another, ` +
        `median ${percentiles(warmOutcomes.map((o) => o.latencyMs))!.p50.toFixed(0)} ms`,
    );

    // The idle loop for reference: monitorEventLoopDelay reads about its resolution (10 ms) when nothing runs.
    await api.request("reset");
    await sleep(1_000);
    const idle = await api.request<WindowReport>("report");
    console.log(
      `  idle API event-loop delay p50 ${idle.eventLoopDelayMs.p50.toFixed(1)} / p99 ${idle.eventLoopDelayMs.p99.toFixed(1)} / ` +
        `max ${idle.eventLoopDelayMs.max.toFixed(1)} ms (10 ms resolution: an idle loop reads about 10); RSS ${mb(idle.rssBytes)} MB`,
    );

    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const users = world.users.slice(WARMUP + r * LOGINS, WARMUP + (r + 1) * LOGINS);
      const result = await burst(url, world, users, r + 1);
      rounds.push(result);
      printRound(result);
    }

    console.log(
      "\nLatency is per request, from its send to its answer, all of a burst sent at once; logins/s counts succeeded logins over both bursts' wall time.\n" +
        "Event-loop delay is monitorEventLoopDelay in the API process over each burst. Nothing here fails on a timing.",
    );

    const results = {
      bench: "desktop-login",
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      database: ready.database === "embedded" ? "pglite" : "postgres",
      pubsub: ready.pubsub,
      ksf: ready.ksf,
      threadpoolSize: ready.threadpoolSize,
      logins: LOGINS,
      workstations: WORKSTATIONS,
      rounds: ROUNDS,
      warmup: { logins: warmOutcomes.length, failed: warmFailed },
      idle: withoutType(idle),
      bursts: rounds.map((r) => ({
        ...r,
        starts: { ...r.starts, api: withoutType(r.starts.api) },
        finishes: { ...r.finishes, api: withoutType(r.finishes.api) },
      })),
    };
    const outDir = join(benchDir, "results");
    await mkdir(outDir, { recursive: true });
    const outFile = join(outDir, `desktop-login-${results.date.replace(/[:.]/g, "-")}.json`);
    await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nfigures written to ${outFile}`);
  } finally {
    await api?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    dataDir = null;
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
