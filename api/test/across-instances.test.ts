// QR approvals across two API *processes* sharing PostgreSQL and Redis: the
// requester waits on instance A, the phone talks to instance B, and the outcome
// must reach A through Redis fan-out (promptly), survive a Redis restart
// mid-wait (through the re-read on reconnect or the slow poll), and be redeemed
// exactly once whichever instance is asked. Needs DATABASE_URL and REDIS_URL
// (CI sets both); skipped otherwise.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Authenticator } from "@latchkey/mobile";
import { createClient, type Client } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { answerLogin, startLogin, START_PASSWORD_LOG_IN } from "@latchkey/passwords";
import { dropSchema, emailedCodeIn, postGraphql, serverSetupFor, type Api, type GqlResult, type RequestOptions } from "./harness.ts";
import { FINISH_PASSWORD_LOG_IN, desktopPasswordLogin } from "./password-login.ts";
import { approvePhone, PASSWORD, seed, type MspSeed } from "./seed.ts";
import { WorkstationKeys } from "./workstation-keys.ts";

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) console.log("across-instances: skipped (set DATABASE_URL and REDIS_URL to run API processes against PostgreSQL and Redis)");

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const TSX_CLI = join(repoRoot, "node_modules/tsx/dist/cli.mjs");
const MAIN = join(repoRoot, "api/src/main.ts");
const KEY_ENCRYPTION_KEY = randomBytes(32).toString("base64");
const DEVICE_COOKIE_KEY = randomBytes(32).toString("base64");
const EMAIL_CODE_KEY = randomBytes(32).toString("base64");
const LOGIN_STATE_KEY = randomBytes(32).toString("base64");
const RATE_LIMIT_NAMESPACE = `across-${randomBytes(6).toString("hex")}`;
/** The instances of this file share one job queue, apart from other files' servers. */
const JOB_QUEUE_SCHEMA = `jobs_across_${randomBytes(6).toString("hex")}`;
if (enabled) afterAll(() => dropSchema(DATABASE_URL!, JOB_QUEUE_SCHEMA));

/** Well before the 5 s poll: an approval that arrives this fast came through pub/sub. */
const FAN_OUT_BOUND_MS = 2_000;

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id status expiresAt } qrPayload watchToken redeemSecret } ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;
const READ = `query($id: ID!, $w: String!) { challenge(id: $id, watchToken: $w) { id status } }`;
const REDEEM = `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename
  ... on AuthPayload { token user { id } tenant { id slug } } ... on Error { code message } } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload expiresAt challenge { id status } watchToken } ... on Error { code } } }`;

type Started = { challenge: { id: string; status: string }; qrPayload: string; watchToken: string; redeemSecret: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Every child still running; killed with the worker if it dies before afterAll (children have their own process groups). */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

function track(child: ChildProcess) {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Keeps the last ~64 kB a child printed, to show when something fails. */
function tail(child: ChildProcess) {
  let text = "";
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // Redis reconnection attempts are expected noise here.
  return () => text.split("\n").filter((line) => !line.includes("redis connection error")).join("\n");
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Signals the child's whole process group (tsx runs the API in a grandchild), then SIGKILL after `graceMs`. */
async function killGroup(child: ChildProcess, graceMs = 5_000) {
  if (child.pid === undefined) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // Already gone.
    }
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    signal("SIGKILL"); // whatever of its group outlived it
    return;
  }
  signal("SIGTERM");
  const done = await Promise.race([exited(child).then(() => true), sleep(graceMs).then(() => false)]);
  signal("SIGKILL");
  if (!done) await Promise.race([exited(child), sleep(2_000)]);
}

/** Instances running now (their outboxes hold the mail their jobs sent). */
const live = new Set<Instance>();

/** One API process, reached over HTTP and WebSocket like any client would. */
class Instance {
  private readonly sockets: Client[] = [];

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    readonly output: () => string,
  ) {}

  static async start(name: string, redisUrl: string): Promise<Instance> {
    const dataDir = await mkdtemp(join(tmpdir(), `latchkey-${name}-`));
    const port = await freePort();
    const child = spawn(process.execPath, [TSX_CLI, MAIN], {
      cwd: repoRoot,
      detached: true, // its own process group, so the tsx wrapper and the API die together
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "test",
        API_HOST: "127.0.0.1",
        API_PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL,
        REDIS_URL: redisUrl,
        LOG_LEVEL: "warn",
        KEY_ENCRYPTION_KEY,
        DEVICE_COOKIE_KEY,
        EMAIL_CODE_KEY,
        LOGIN_STATE_KEY,
        // The database accepts one server setup: the one every test server on it shares.
        OPAQUE_SERVER_SETUP: process.env.OPAQUE_SERVER_SETUP || (await serverSetupFor(DATABASE_URL!)),
        PASSWORD_KSF: "test",
        JOB_QUEUE_SCHEMA,
        // Both instances share this run's counters in Redis (default budgets), apart from other runs and files.
        RATE_LIMIT_NAMESPACE,
      },
    });
    track(child);
    const output = tail(child);
    const instance = new Instance(name, child, `http://127.0.0.1:${port}`, dataDir, output);
    live.add(instance);
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await killGroup(child);
        await rm(dataDir, { recursive: true, force: true });
        throw new Error(`API ${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
      }
      const ready = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
      if (ready) return instance;
      if (Date.now() > deadline) {
        await killGroup(child);
        await rm(dataDir, { recursive: true, force: true });
        throw new Error(`API ${name} not ready within 90 s:\n${output()}`);
      }
      await sleep(200);
    }
  }

  get graphqlUrl() {
    return `${this.url}/graphql`;
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}) {
    return postGraphql<T>(this.graphqlUrl, query, variables, { ...options, timeoutMs: 30_000 });
  }

  async gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}) {
    const { body } = await this.request<T>(query, variables, options);
    if (body.errors?.length) throw new Error(`GraphQL errors from ${this.name}: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  /**
   * The code of the next verification email to `address`. The job that sends it
   * runs on whichever instance gets to it first, so every outbox is looked in.
   */
  emailedCode(address: string): Promise<string> {
    return emailedCodeIn([...live].map((instance) => instance.dataDir), address);
  }

  ws(token?: string): Client {
    const client = createClient({
      url: this.graphqlUrl.replace("http", "ws"),
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
    this.sockets.push(client);
    return client;
  }

  async stop() {
    live.delete(this);
    await Promise.all(this.sockets.splice(0).map((socket) => Promise.resolve(socket.dispose()).catch(() => undefined)));
    await killGroup(this.child);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** seed() only needs `gql`; any instance can serve it. */
function seedVia(instance: Instance) {
  return seed({ gql: instance.gql.bind(instance) } as unknown as Api);
}

/** A phone enrolled through `phoneApi`, onboarded and approved by the admin on `adminApi`. */
async function phoneFor(phoneApi: Instance, adminApi: Instance, msp: MspSeed) {
  const phone = await Authenticator.create({ apiUrl: phoneApi.graphqlUrl });
  await phone.requestEmailVerification(msp.adminEmail);
  await phone.verifyEmail(msp.adminEmail, await phoneApi.emailedCode(msp.adminEmail), "Phone on B");
  const { startDeviceOnboarding } = await adminApi.gql(ONBOARD, { userId: msp.adminId }, { token: msp.token });
  expect(startDeviceOnboarding.__typename).toBe("StartDeviceOnboardingPayload");
  const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
  // The MSP's owner links their own phone: it waits until they approve it.
  expect(authenticator.status).toBe("PENDING_APPROVAL");
  await approvePhone(adminApi, msp.token, authenticator.id);
  return phone;
}

async function startPortalLogin(instance: Instance, tenant: string): Promise<Started> {
  const { startLoginChallenge } = await instance.gql(START, { input: { tenant, kind: "PORTAL_LOGIN" } }, { headers: { "user-agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0" } });
  expect(startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
  return startLoginChallenge as Started;
}

/**
 * graphql-ws gives no signal that the server has subscribed to the Redis topic
 * (the API subscribes after its first read, without waiting), so wait until
 * Redis itself counts a subscriber on the challenge's channel.
 */
async function untilSubscribed(redisUrl: string, challengeId: string, timeoutMs = 10_000) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const channel = `challenge:updated:${challengeId}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [, count] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
      if (Number(count) > 0) return;
      if (Date.now() > deadline) throw new Error(`nobody subscribed to ${channel} within ${timeoutMs} ms`);
      await sleep(25);
    }
  } finally {
    redis.disconnect();
  }
}

/** Watches a challenge on `instance` and records when each status arrived. */
async function watch(instance: Instance, redisUrl: string, started: Started) {
  const arrivals = new Map<string, number>();
  const events: GqlResult<{ challengeUpdated: { id: string; status: string } }>[] = [];
  let completed = false;
  let failure: unknown = null;
  instance.ws().subscribe<{ challengeUpdated: { id: string; status: string } }>(
    { query: WATCH, variables: { id: started.challenge.id, watchToken: started.watchToken } },
    {
      next: (value) => {
        const status = value.data?.challengeUpdated.status;
        if (status && !arrivals.has(status)) arrivals.set(status, Date.now());
        events.push(value as never);
      },
      error: (error) => {
        failure = error;
        completed = true;
      },
      complete: () => {
        completed = true;
      },
    },
  );
  const statuses = () => events.map((e) => e.data?.challengeUpdated.status);
  const waitFor = async (done: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (completed && !done()) throw new Error(`subscription ended before ${what}: ${JSON.stringify(events)} ${JSON.stringify(failure)}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events)}`);
      await sleep(2);
    }
  };
  const until = async (status: string, timeoutMs: number) => {
    await waitFor(() => arrivals.has(status), status, timeoutMs);
    return arrivals.get(status)!;
  };
  await until("PENDING", 10_000);
  await untilSubscribed(redisUrl, started.challenge.id);
  return {
    statuses,
    until,
    completion: (timeoutMs = 5_000) => waitFor(() => completed, "completion", timeoutMs),
    get failure() {
      return failure;
    },
  };
}

describe.skipIf(!enabled)("QR approval across two API processes sharing Redis", () => {
  let a: Instance;
  let b: Instance;
  let msp: MspSeed;
  let phone: Authenticator;

  beforeAll(async () => {
    const started = await Promise.allSettled([Instance.start("a", REDIS_URL!), Instance.start("b", REDIS_URL!)]);
    for (const result of started) if (result.status === "fulfilled") (result.value.name === "a" ? (a = result.value) : (b = result.value));
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    msp = await seedVia(a).msp();
    phone = await phoneFor(b, a, msp);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("fans the phone's approval on B out to the waiter on A at once; redeemed once, on either instance", async () => {
    const started = await startPortalLogin(a, msp.slug);
    const waiting = await watch(a, REDIS_URL!, started);
    const scanned = await phone.scan(started.qrPayload);
    const scanAnswered = Date.now();
    expect(scanned).toMatchObject({ tenant: { slug: msp.slug }, requesterKind: "BROWSER" });
    const scanSeen = await waiting.until("SCANNED", 10_000);
    expect(scanSeen - scanAnswered, "SCANNED reached A through pub/sub, not the poll").toBeLessThan(FAN_OUT_BOUND_MS);

    const approval = await phone.approve(started.qrPayload);
    const approveAnswered = Date.now();
    expect(approval.challenge.status).toBe("APPROVED");
    const approvedSeen = await waiting.until("APPROVED", 10_000);
    expect(approvedSeen - approveAnswered, "APPROVED reached A through pub/sub, not the poll").toBeLessThan(FAN_OUT_BOUND_MS);
    await waiting.completion();
    expect(waiting.failure).toBeNull();
    expect(waiting.statuses()).toEqual(["PENDING", "SCANNED", "APPROVED"]);

    const { redeemChallenge } = await a.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(redeemChallenge).toMatchObject({ __typename: "AuthPayload", user: { id: msp.adminId }, tenant: { slug: msp.slug } });
    // The session A issued works on B: nothing is sticky.
    const { viewer } = await b.gql(`{ viewer { user { id } session { method } } }`, {}, { token: redeemChallenge.token });
    expect(viewer).toEqual({ user: { id: msp.adminId }, session: { method: "QR" } });

    const replay = await b.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(replay.redeemChallenge).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    for (const instance of [a, b]) {
      expect((await instance.gql(READ, { id: started.challenge.id, w: started.watchToken })).challenge.status).toBe("CONSUMED");
    }
  });

  it("ends a session on every instance at once when it is logged out on one, though each remembers recent lookups", async () => {
    const token = await seedVia(a).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const VIEWER = `{ viewer { user { id } } }`;
    // Both instances have just looked the session up (and keep it for a few seconds).
    for (const instance of [a, b]) expect((await instance.gql(VIEWER, {}, { token })).viewer).toEqual({ user: { id: msp.adminId } });
    await b.gql(`mutation { logOut }`, {}, { token });
    const loggedOut = Date.now();
    expect((await b.gql(VIEWER, {}, { token })).viewer).toBeNull();
    // A hears of it through Redis, well before its cache entry would have aged out.
    while ((await a.gql(VIEWER, {}, { token })).viewer !== null) {
      expect(Date.now() - loggedOut, "A still accepted the logged-out session").toBeLessThan(FAN_OUT_BOUND_MS);
      await sleep(20);
    }
  });

  it("lets exactly one of simultaneous redemptions on both instances win", async () => {
    const started = await startPortalLogin(b, msp.slug);
    await phone.approve(started.qrPayload);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret })),
    );
    const kinds = results.map((r) => r.redeemChallenge.__typename);
    expect(kinds.filter((k) => k === "AuthPayload")).toHaveLength(1);
    expect(kinds.filter((k) => k === "ConflictError")).toHaveLength(5);
  });
});

describe.skipIf(!enabled)("desktop logins across two API processes sharing Redis", () => {
  let a: Instance;
  let b: Instance;
  let msp: MspSeed;
  let customer: Awaited<ReturnType<MspSeed["customer"]>>;
  let keys: WorkstationKeys;

  beforeAll(async () => {
    [a, b] = await Promise.all([Instance.start("a", REDIS_URL!), Instance.start("b", REDIS_URL!)]);
    msp = await seedVia(a).msp();
    customer = await msp.customer();
    const settings = await a.gql(
      `mutation($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename } }`,
      { input: { tenantId: customer.id, desktopLoginEnabled: true, method: "PASSWORDLESS", passwordFallback: true } },
      { token: msp.token },
    );
    expect(settings.updateDesktopSettings.__typename).toBe("UpdateDesktopSettingsPayload");
    const { createInstallToken } = await a.gql(
      `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename ... on CreateInstallTokenPayload { installToken } } }`,
      { input: { tenantId: customer.id, autoApprove: true } },
      { token: msp.token },
    );
    keys = WorkstationKeys.generate();
    const { enrollWorkstation } = await a.gql(
      `mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id } } } }`,
      { input: { installToken: createInstallToken.installToken, hostname: "PC-1", os: "Windows 11", publicKey: keys.publicKey, keyAgreementKey: keys.keyAgreementKey } },
    );
    keys.workstationId = enrollWorkstation.workstation.id;
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("puts a login made on A on an admin's live feed held by B", async () => {
    const user = await customer.user();
    const seen: { username: string; outcome: string }[] = [];
    b.ws(msp.token).subscribe<{ loginEvents: { username: string; outcome: string } }>(
      { query: `subscription($t: ID!) { loginEvents(tenantId: $t) { username outcome } }`, variables: { t: customer.id } },
      { next: (value) => void (value.data && seen.push(value.data.loginEvents)), error: () => undefined, complete: () => undefined },
    );
    // graphql-ws does not say when the server has subscribed: log in again until the feed hears one.
    const deadline = Date.now() + 15_000;
    while (seen.length === 0 && Date.now() < deadline) {
      const desktopLogin = await desktopPasswordLogin(a as unknown as Api, () => keys.credential(), user.username, user.password!);
      expect(desktopLogin.__typename).toBe("DesktopLoginPayload");
      await sleep(300);
    }
    expect(seen[0]).toEqual({ username: user.username, outcome: "SUCCEEDED" });
  });

  it("finishes on B a password login started on A, once", async () => {
    const user = await customer.user();
    const { state, request } = await startLogin(user.password!);
    const { startPasswordLogIn } = await a.gql(START_PASSWORD_LOG_IN, { input: { tenant: customer.slug, login: user.email, request } });
    const proof = await answerLogin(startPasswordLogIn, state, user.password!);
    const finished = await b.gql(FINISH_PASSWORD_LOG_IN, { input: { loginId: proof.loginId, finish: proof.finish } });
    expect(finished.finishPasswordLogIn).toMatchObject({ __typename: "AuthPayload", user: { id: user.id } });
    const replayed = await a.gql(FINISH_PASSWORD_LOG_IN, { input: { loginId: proof.loginId, finish: proof.finish } });
    expect(replayed.finishPasswordLogIn.__typename).toBe("UnauthenticatedError");
  });

  it("lets the login screen wait on A while the user approves on B, and redeems on A", async () => {
    const user = await customer.user();
    const phone = await Authenticator.create({ apiUrl: b.graphqlUrl });
    await phone.requestEmailVerification(user.email);
    await phone.verifyEmail(user.email, await b.emailedCode(user.email), "Phone on B");
    const { startDeviceOnboarding } = await a.gql(ONBOARD, { userId: user.id }, { token: msp.token });
    await phone.onboard(startDeviceOnboarding.qrPayload);

    const { startLoginChallenge } = await a.gql(
      `mutation { startLoginChallenge(input: { kind: DESKTOP_LOGIN }) { __typename ... on StartLoginChallengePayload { challenge { id status } qrPayload watchToken redeemSecret } } }`,
      {},
      { token: await keys.credential() },
    );
    const started = startLoginChallenge as Started;
    const waiting = await watch(a, REDIS_URL!, started);
    const approval = await phone.approve(started.qrPayload);
    expect(approval.scan).toMatchObject({ requesterKind: "WORKSTATION", requesterName: "PC-1" });
    const approveAnswered = Date.now();
    const approvedSeen = await waiting.until("APPROVED", 10_000);
    expect(approvedSeen - approveAnswered, "APPROVED reached A through pub/sub, not the poll").toBeLessThan(FAN_OUT_BOUND_MS);

    const { redeemDesktopLogin } = await a.gql(
      `mutation($input: RedeemDesktopLoginInput!) { redeemDesktopLogin(input: $input) { __typename
        ... on DesktopLoginPayload { instruction { attemptId workstationId username expiresAt password { suite enc ciphertext } } } } }`,
      { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } },
      { token: await keys.credential() },
    );
    expect(redeemDesktopLogin.instruction.username).toBe(user.username);
    expect(await keys.open(redeemDesktopLogin.instruction)).toBe(user.password);
  });
});

describe.skipIf(!enabled)("a Redis restart while a requester waits", () => {
  let redisPort: number;
  let redisUrl: string;
  let redisServer: ChildProcess | null = null;
  let redisOutput: () => string = () => "";
  let a: Instance;
  let b: Instance;

  async function startRedis() {
    const child = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    redisOutput = tail(child);
    redisServer = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${redisOutput()}`);
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => undefined);
      const up = await probe.connect().then(() => probe.ping().then(() => true), () => false);
      probe.disconnect();
      if (up) return;
      if (Date.now() > deadline) throw new Error(`redis-server not up on ${redisPort}:\n${redisOutput()}`);
      await sleep(50);
    }
  }

  async function stopRedis() {
    const child = redisServer;
    redisServer = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const done = await Promise.race([exited(child).then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      child.kill("SIGKILL");
      await exited(child);
    }
  }

  beforeAll(async () => {
    redisPort = await freePort();
    redisUrl = `redis://127.0.0.1:${redisPort}`;
    await startRedis();
    const started = await Promise.allSettled([Instance.start("a", redisUrl), Instance.start("b", redisUrl)]);
    for (const result of started) if (result.status === "fulfilled") (result.value.name === "a" ? (a = result.value) : (b = result.value));
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await stopRedis();
  });

  it("still ends APPROVED on A when B approved while Redis was down", async () => {
    const msp = await seedVia(a).msp();
    const phone = await phoneFor(b, a, msp);
    const started = await startPortalLogin(a, msp.slug);
    const waiting = await watch(a, redisUrl, started);
    await phone.scan(started.qrPayload);
    await waiting.until("SCANNED", 10_000);

    await stopRedis();
    // The decision is written to PostgreSQL first; the publish that cannot reach Redis must not undo it.
    const approval = await phone.approve(started.qrPayload).catch(async (error: unknown) => {
      await sleep(500); // let B's log of the failure arrive
      throw new Error(`approval on B failed while Redis was down: ${String(error)}\n--- B:\n${b.output().slice(-4000)}`);
    });
    expect(approval.challenge.status).toBe("APPROVED");
    const approvedAt = Date.now();
    await sleep(500);
    await startRedis();
    const redisBack = Date.now();

    // Through the re-read when A's subscriber reconnects, or at worst the 5 s poll.
    const seen = await waiting.until("APPROVED", 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- A:\n${a.output().slice(-4000)}`);
    });
    await waiting.completion();
    console.log(`across-instances: APPROVED reached A ${seen - redisBack} ms after Redis was back (${seen - approvedAt} ms after the approval)`);
    expect(waiting.failure).toBeNull();
    expect(waiting.statuses()).toEqual(["PENDING", "SCANNED", "APPROVED"]);

    for (const instance of [a, b]) {
      const { challenge } = await instance.gql(READ, { id: started.challenge.id, w: started.watchToken });
      expect(challenge).toEqual({ id: started.challenge.id, status: "APPROVED" });
    }
    // Neither process fell over while Redis was away, and both are ready again.
    for (const instance of [a, b]) {
      expect(instance.alive, `${instance.name} still running:\n${instance.output().slice(-4000)}`).toBe(true);
    }
    const deadline = Date.now() + 10_000;
    for (const instance of [a, b]) {
      while ((await fetch(`${instance.url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline) throw new Error(`${instance.name} not ready after Redis came back`);
        await sleep(100);
      }
    }
    const { redeemChallenge } = await a.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(redeemChallenge).toMatchObject({ __typename: "AuthPayload", user: { id: msp.adminId } });
  });
});
