// What fault-redis-outage and fault-instance-killed share: a PostgreSQL database of their
// own on the server of DATABASE_URL (dropped afterwards), a private
// redis-server on a free loopback port that a test may freeze, kill and start
// again (never the machine's shared Redis), API processes on both (started as
// operators start them, killed with real signals), phones of an MSP's staff,
// and a fingerprint of the rows of tenants a fault must not touch.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FreshDatabase } from "@latchkey/db/fresh-database";
import { Authenticator } from "@latchkey/mobile";
import { createServerSetup } from "@latchkey/schema";
import type { Client } from "graphql-ws";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { ApiProcess, freePort } from "./api-process.ts";
import { emailedCodeIn, postGraphql, type Api, type GqlResult } from "./harness.ts";
import { approvePhone, seed, type MspSeed } from "./seed.ts";

export const DATABASE_URL = process.env.DATABASE_URL;
const haveRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
export const faultTestsEnabled = Boolean(DATABASE_URL) && haveRedisServer;
export const whyDisabled = !DATABASE_URL ? "set DATABASE_URL (a PostgreSQL server to make a database on)" : "needs the redis-server binary";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(check)
      .catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ database

export { FreshDatabase } from "@latchkey/db/fresh-database";

/**
 * A fingerprint of every row that belongs to these tenants: the tenants
 * themselves and each table with a tenantId, as JSON, ordered. AuditChainLink
 * is left out: the audit.chain job appends links for earlier events by design.
 */
export async function tenantRowsFingerprint(db: FreshDatabase, tenantIds: string[]) {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenantId' AND table_name <> 'AuditChainLink' ORDER BY table_name`,
  );
  const hash = createHash("sha256");
  let rows = 0;
  const perTable: Record<string, number> = {};
  const dump = async (table: string, column: string) => {
    const found = await db.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM "${table}" t WHERE t."${column}"::text = ANY($1) ORDER BY 1`, [tenantIds]);
    hash.update(`${table}\n`);
    for (const { j } of found) hash.update(`${j}\n`);
    rows += found.length;
    if (found.length) perTable[table] = found.length;
  };
  await dump("Tenant", "id");
  for (const { table_name } of tables) await dump(table_name, "tenantId");
  return { hash: hash.digest("hex"), rows, perTable };
}

// ------------------------------------------------------------------ redis

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A redis-server of the test's own on a free loopback port: frozen (SIGSTOP), killed and started again on the same port. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start() {
    const redis = new PrivateRedis(await freePort(), await mkdtemp(join(tmpdir(), "latchkey-fault-redis-")));
    await redis.startServer();
    return redis;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  async startServer() {
    if (this.child) throw new Error("redis-server already running");
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir], { stdio: "ignore" });
    children.add(child);
    child.once("exit", () => children.delete(child));
    this.child = child;
    await until(() => this.ping(), `redis-server on ${this.port}`, 15_000, 50);
  }

  /** The server stops answering, its connections stay open: a hung Redis. */
  freeze() {
    this.child?.kill("SIGSTOP");
  }

  thaw() {
    this.child?.kill("SIGCONT");
  }

  /** Gone at once, with everything it held (SIGKILL works on a frozen process too). */
  async kill() {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.kill("SIGKILL");
    await exited(child);
  }

  async ping(): Promise<boolean> {
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000, commandTimeout: 1_000 });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** Redis' own count of subscribers on these channels (NUMSUB). */
  async subscribers(channels: string[]): Promise<number> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 5_000 });
    client.on("error", () => undefined);
    await client.connect();
    try {
      let total = 0;
      for (let i = 0; i < channels.length; i += 200) {
        const answer = (await client.pubsub("NUMSUB", ...channels.slice(i, i + 200))) as (string | number)[];
        for (let j = 1; j < answer.length; j += 2) total += Number(answer[j]);
      }
      return total;
    } finally {
      client.disconnect();
    }
  }

  async stop() {
    this.thaw();
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ API processes

/** What every instance of one test shares: the database, Redis, and the secrets PostgreSQL deployments must be given. */
export async function sharedEnv(databaseUrl: string, redisUrl: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    KEY_ENCRYPTION_KEY_ID: `fault-${randomBytes(4).toString("hex")}`,
    DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
    EMAIL_CODE_KEY: randomBytes(32).toString("base64"),
    LOGIN_STATE_KEY: randomBytes(32).toString("base64"),
    OPAQUE_SERVER_SETUP: await createServerSetup(),
    PASSWORD_KSF: "test",
    LOG_LEVEL: "warn",
    RATE_LIMIT_NAMESPACE: `fault-${randomBytes(6).toString("hex")}`,
    // The test's clients reach the API through "the load balancer" at 127.0.0.1,
    // which says in X-Forwarded-For which browser or phone is asking.
    TRUSTED_PROXIES: "127.0.0.1",
    SHUTDOWN_GRACE_SECONDS: "3",
    ...extra,
  };
}

export async function startInstances(env: Record<string, string>, names = ["a", "b"]): Promise<ApiProcess[]> {
  const started = await Promise.allSettled(names.map((name) => ApiProcess.start(name, env)));
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await Promise.all(started.map((result) => (result.status === "fulfilled" ? result.value.stop(2_000) : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<ApiProcess>).value);
}

export type CallOptions = { token?: string | null; ip?: string; timeoutMs?: number };

/** One operation over HTTP, from the client at `ip` (through the trusted proxy). */
export function call<T = Record<string, any>>(instance: ApiProcess, query: string, variables: Record<string, unknown> = {}, options: CallOptions = {}) {
  return postGraphql<T>(instance.graphqlUrl, query, variables, {
    token: options.token,
    headers: options.ip ? { "x-forwarded-for": options.ip } : {},
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}

/** `data`, failing on any GraphQL error. */
export async function gql<T = Record<string, any>>(instance: ApiProcess, query: string, variables: Record<string, unknown> = {}, options: CallOptions = {}) {
  const { body } = await call<T>(instance, query, variables, options);
  if (body.errors?.length) throw new Error(`GraphQL errors from ${instance.name}: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

/** seed() and approvePhone() only need `gql` (and `request` for the password-login helpers). */
export function viaInstance(instance: ApiProcess): Api {
  return {
    url: instance.url,
    gql: (query: string, variables?: Record<string, unknown>, options: { token?: string | null } = {}) => gql(instance, query, variables ?? {}, { token: options.token }),
    request: (query: string, variables?: Record<string, unknown>, options: { token?: string | null; headers?: Record<string, string> } = {}) =>
      postGraphql(instance.graphqlUrl, query, variables, { token: options.token, headers: options.headers, timeoutMs: 60_000 }),
  } as unknown as Api;
}

export function seedVia(instance: ApiProcess) {
  return seed(viaInstance(instance));
}

// ------------------------------------------------------------------ phones

const ONBOARD = `mutation($input: StartDeviceOnboardingInput!) { startDeviceOnboarding(input: $input) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code message } } }`;

/** A staff member's phone, enrolled through `instance`, onboarded and approved by the MSP's admin. */
export async function staffPhone(instances: ApiProcess[], instance: ApiProcess, msp: MspSeed, user: { id: string; email: string }, name: string) {
  const phone = await Authenticator.create({ apiUrl: instance.graphqlUrl });
  await phone.requestEmailVerification(user.email);
  await phone.verifyEmail(user.email, await emailedCodeIn(instances.map((i) => i.dataDir), user.email, 30_000), name);
  const { startDeviceOnboarding } = await gql(instance, ONBOARD, { input: { userId: user.id } }, { token: msp.token });
  if (startDeviceOnboarding.__typename !== "StartDeviceOnboardingPayload") throw new Error(`startDeviceOnboarding: ${JSON.stringify(startDeviceOnboarding)}`);
  const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
  if (authenticator.status === "PENDING_APPROVAL") await approvePhone(viaInstance(instance), msp.token, authenticator.id);
  return phone;
}

/** The same phone (same key, same device token) talking to another instance. */
export function samePhoneOn(phone: Authenticator, instance: ApiProcess) {
  return Authenticator.fromState(phone.toState(), { apiUrl: instance.graphqlUrl });
}

// ------------------------------------------------------------------ challenges

export const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id status expiresAt } qrPayload watchToken redeemSecret } ... on Error { code message } } }`;
export const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;

/** A requester waiting on its challenge: every status it was told, and how its subscription ended. */
export type Watching = { started: Started; statuses: string[]; completed: boolean; failure: unknown };

/** Subscribes `waiter` to its challenge over `client`, recording what it is told. */
export function watchChallenge(client: Client, waiter: Watching) {
  client.subscribe<{ challengeUpdated: { id: string; status: string } }>(
    { query: WATCH, variables: { id: waiter.started.challenge.id, watchToken: waiter.started.watchToken } },
    {
      next: (value) => {
        const status = value.data?.challengeUpdated.status;
        if (status) waiter.statuses.push(status);
        else waiter.failure = value.errors ?? value;
      },
      error: (error) => {
        waiter.failure = error;
        waiter.completed = true;
      },
      complete: () => void (waiter.completed = true),
    },
  );
}
export const READ = `query($id: ID!, $w: String!) { challenge(id: $id, watchToken: $w) { id status expiresAt } }`;
export const REDEEM_CHALLENGE = `mutation($id: ID!, $secret: String!) { redeemChallenge(input: { id: $id, redeemSecret: $secret }) { __typename
  ... on AuthPayload { token user { id } } ... on Error { code message } } }`;
export const CANCEL = `mutation($input: CancelChallengeInput!) { cancelChallenge(input: $input) { __typename
  ... on DecideChallengePayload { challenge { id status expiresAt } } ... on Error { code message } } }`;

export type Started = { challenge: { id: string; status: string; expiresAt: string }; qrPayload: string; watchToken: string; redeemSecret: string };

export const browserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0";

/** A browser at `ip` shows a portal sign-in code. */
export async function startPortalLogin(instance: ApiProcess, tenant: string, ip: string, timeoutMs = 60_000): Promise<GqlResult<{ startLoginChallenge: any }>> {
  const { body } = await postGraphql<{ startLoginChallenge: any }>(instance.graphqlUrl, START, { input: { tenant, kind: "PORTAL_LOGIN" } }, {
    headers: { "x-forwarded-for": ip, "user-agent": browserAgent },
    timeoutMs,
  });
  return body;
}

/**
 * A test body's progress: each mark, with the seconds since the body began, is
 * printed as it happens (CI's log shows how far a slow run got) and kept for
 * the summary the test prints at its end.
 */
export function progressMarks(test: string) {
  const began = Date.now();
  const marks: string[] = [];
  const mark = (what: string) => {
    marks.push(`${what} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    console.log(`${test}: ${marks.at(-1)}`);
  };
  return { marks, mark };
}

/** `count` browsers showing sign-in codes, alternately on A and B, each from its own address in `subnet` ("10.1" gives 10.1.x.y). */
export function showCodes(a: ApiProcess, b: ApiProcess, tenant: string, count: number, subnet: string) {
  return inBatches(
    Array.from({ length: count }, (_, index) => index),
    16,
    async (index) => {
      const home = index % 2 ? b : a;
      const ip = `${subnet}.${index >> 8}.${index & 255}`;
      const answer = await startPortalLogin(home, tenant, ip);
      const started = answer.data?.startLoginChallenge;
      if (started?.__typename !== "StartLoginChallengePayload") throw new Error(`start ${index}: ${JSON.stringify(answer)}`);
      return { index, home, other: home === a ? b : a, ip, started: started as Started };
    },
  );
}

/** Runs `work` over `items` with at most `limit` at once; results in order. */
export async function inBatches<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Counts by key, printed as `key=n`. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string, n = 1) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(key: string) {
    return this.counts.get(key) ?? 0;
  }
  toString() {
    return [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key}=${n}`)
      .join(" ");
  }
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A WebSocket class for graphql-ws that sends these headers with its upgrade (the proxy's X-Forwarded-For). */
export function webSocketWithHeaders(headers: Record<string, string>) {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  };
}

/** Challenges as their requesters read them (`challenge(id, watchToken)`), ten to a request as aliases. */
export async function readChallenges(instance: ApiProcess, list: { id: string; watchToken: string }[]): Promise<({ id: string; status: string } | null)[]> {
  const out: ({ id: string; status: string } | null)[] = [];
  for (const group of chunks(list, 10)) {
    const query = `query(${group.map((_, i) => `$id${i}: ID!, $w${i}: String!`).join(", ")}) { ${group.map((_, i) => `c${i}: challenge(id: $id${i}, watchToken: $w${i}) { id status }`).join(" ")} }`;
    const variables = Object.fromEntries(group.flatMap((c, i) => [[`id${i}`, c.id], [`w${i}`, c.watchToken]]));
    const data = await gql(instance, query, variables);
    out.push(...group.map((_, i) => data[`c${i}`] ?? null));
  }
  return out;
}

/**
 * Counts every HTTP answer this process receives through fetch (the test's
 * own requests and the reference clients'), by instance and status, and
 * transport failures; restore() puts fetch back.
 */
export function recordHttp(instances: ApiProcess[]) {
  const real = globalThis.fetch;
  const tally = new Tally();
  const nameOf = (input: Parameters<typeof fetch>[0]) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    return instances.find((instance) => url.startsWith(instance.url))?.name ?? "other";
  };
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const name = nameOf(input);
    try {
      const response = await real(input, init);
      tally.add(`${name}:${response.status}`);
      return response;
    } catch (error) {
      tally.add(`${name}:no-answer`);
      throw error;
    }
  }) as typeof fetch;
  return {
    tally,
    realFetch: real,
    /** Answers of 500 and above from this instance. */
    serverErrors: (name: string) => [...tally.counts.entries()].filter(([key]) => key.startsWith(`${name}:`) && Number(key.split(":")[1]) >= 500).reduce((sum, [, n]) => sum + n, 0),
    restore: () => void (globalThis.fetch = real),
  };
}

/**
 * Another MSP beside the one under test, with a customer and its user, the
 * owner's phone, a code approved and redeemed and one left showing: the tenants
 * a fault elsewhere must not touch.
 */
export async function seedBystanders(instances: ApiProcess[], via: ApiProcess, other: MspSeed) {
  const [first, second] = [instances[0]!, instances[1] ?? instances[0]!];
  const customer = await other.customer();
  await customer.user();
  const phone = await staffPhone(instances, via, other, { id: other.adminId, email: other.adminEmail }, "Bystander's phone");
  const shown = await startPortalLogin(first, other.slug, "10.250.0.1");
  await phone.approve(shown.data!.startLoginChallenge.qrPayload);
  await gql(second, REDEEM_CHALLENGE, { id: shown.data!.startLoginChallenge.challenge.id, secret: shown.data!.startLoginChallenge.redeemSecret });
  await startPortalLogin(second, other.slug, "10.250.0.2");
  return [other.id, customer.id];
}
