// Redis Sentinel and Redis Cluster, through ioredis' own support
// (REDIS_SENTINELS / REDIS_CLUSTER_NODES): two API instances sharing
// PostgreSQL hand a phone's approval on one to a requester waiting on the
// other, and share rate-limit counters; with Sentinel, still after a failover.
// Each topology is started from the local redis-server binary on free
// loopback ports. Needs DATABASE_URL (the instances share the database) and
// redis-server; skipped otherwise.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Authenticator } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./api-process.ts";
import { Api, subscribe } from "./harness.ts";
import { approvePhone, seed, type MspSeed } from "./seed.ts";

const DATABASE_URL = process.env.DATABASE_URL;
const haveRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
const enabled = Boolean(DATABASE_URL) && haveRedisServer;
if (!enabled) console.log("redis-topologies: skipped (needs DATABASE_URL and the redis-server binary)");

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id status } qrPayload watchToken redeemSecret } ... on Error { code } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** redis-server processes of one topology, in a folder of their own. */
class RedisProcesses {
  readonly children: ChildProcess[] = [];
  private constructor(readonly dir: string) {}

  static async create() {
    return new RedisProcesses(await mkdtemp(join(tmpdir(), "latchkey-redis-")));
  }

  async server(port: number, args: string[] = []) {
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir, ...args], { stdio: "ignore" });
    this.children.push(child);
    await until(async () => (await this.cli(port, "PING")) === "PONG", `redis-server on ${port}`);
    return child;
  }

  async sentinel(port: number, masterPort: number) {
    const conf = join(this.dir, `sentinel-${port}.conf`);
    await writeFile(
      conf,
      [`port ${port}`, "bind 127.0.0.1", `dir ${this.dir}`, `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`, "sentinel down-after-milliseconds mymaster 1000", "sentinel failover-timeout mymaster 5000", ""].join("\n"),
    );
    const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    this.children.push(child);
    await until(async () => (await this.cli(port, "PING")) === "PONG", `sentinel on ${port}`);
  }

  cli(port: number, ...args: string[]): Promise<string> {
    return new Promise((resolve) => {
      const child = spawn("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
      child.once("exit", () => resolve(out.trim()));
    });
  }

  async stop() {
    for (const child of this.children) child.kill("SIGKILL");
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The environment both instances share: the database's keys and one rate-limit namespace with a small budget. */
function sharedEnv(redis: Record<string, string>, challengeStarts = 6) {
  return {
    REDIS_URL: "",
    KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    KEY_ENCRYPTION_KEY_ID: `topo-${randomBytes(4).toString("hex")}`,
    EMAIL_CODE_KEY: randomBytes(32).toString("base64"),
    DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
    RATE_LIMIT_NAMESPACE: `topo-${randomBytes(6).toString("hex")}`,
    RATE_LIMIT_OVERRIDES: JSON.stringify({ challengeStartPerIp: { points: challengeStarts, durationSeconds: 600 } }),
    ...redis,
  };
}

/** Two instances, an MSP and its admin's phone talking to B. */
async function world(env: Record<string, string>) {
  const [a, b] = await Promise.all([Api.start(env), Api.start(env)]);
  const msp = await seed(a).msp();
  const phone = await Authenticator.create({ apiUrl: `${b.url}/graphql` });
  await phone.requestEmailVerification(msp.adminEmail);
  await phone.verifyEmail(msp.adminEmail, await b.emailedCode(msp.adminEmail), "Phone");
  const { startDeviceOnboarding } = await a.gql(ONBOARD, { userId: msp.adminId }, { token: msp.token });
  const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
  // The MSP's owner approves their own first phone.
  await approvePhone(a, msp.token, authenticator.id);
  return { a, b, msp, phone };
}

/** A requester waits on A; the phone approves on B; A hears it. */
async function approvalAcross(a: Api, phone: Authenticator, msp: MspSeed, subscribed: (challengeId: string) => Promise<void>) {
  const { startLoginChallenge: started } = await a.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
  expect(started.__typename).toBe("StartLoginChallengePayload");
  const waiting = subscribe(a.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
  await waiting.waitForEvents(1);
  await subscribed(started.challenge.id);
  await phone.approve(started.qrPayload);
  await waiting.waitForCompletion(15_000);
  expect(waiting.events.map((e) => e.data?.challengeUpdated.status).at(-1)).toBe("APPROVED");
}

/** Challenge starts share one budget across both instances: the one past it is refused, wherever it lands. */
async function sharedBudget(a: Api, b: Api, msp: MspSeed, alreadySpent: number) {
  const outcomes: string[] = [];
  for (let i = alreadySpent; i < 7; i += 1) {
    const { startLoginChallenge } = await (i % 2 ? b : a).gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
    outcomes.push(startLoginChallenge.__typename);
  }
  expect(outcomes.at(-1), JSON.stringify(outcomes)).toBe("RateLimitedError");
  expect(outcomes.slice(0, -1).every((kind) => kind === "StartLoginChallengePayload")).toBe(true);
}

describe.skipIf(!enabled)("Redis Cluster (REDIS_CLUSTER_NODES)", () => {
  let redis: RedisProcesses;
  let ports: number[];
  let a: Api;
  let b: Api;
  let msp: MspSeed;
  let phone: Authenticator;
  let counterKey: string;

  beforeAll(async () => {
    redis = await RedisProcesses.create();
    ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) await redis.server(port, ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"]);
    await redis.cli(ports[0]!, "--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes");
    for (const port of ports) await until(async () => (await redis.cli(port, "CLUSTER", "INFO")).includes("cluster_state:ok"), `cluster state on ${port}`);
    const env = sharedEnv({ REDIS_CLUSTER_NODES: `127.0.0.1:${ports[0]}` });
    counterKey = `${env.RATE_LIMIT_NAMESPACE}:challengeStartPerIp:127.0.0.1`;
    ({ a, b, msp, phone } = await world(env));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it("hands an approval on B to the requester on A, and shares rate-limit counters", async () => {
    await approvalAcross(a, phone, msp, async (id) => {
      // A cluster's pub/sub is cluster-wide: the subscriber is counted on the node it chose.
      await until(async () => {
        for (const port of ports) if ((await redis.cli(port, "PUBSUB", "NUMSUB", `challenge:updated:${id}`)).endsWith("1")) return true;
        return false;
      }, "a subscriber in the cluster");
    });
    await sharedBudget(a, b, msp, 1);
    // The counter lives in the cluster's slots, read from any node (-c follows the redirect to its own):
    // the seven starts of both instances, counted once each.
    expect(Number(await redis.cli(ports[0]!, "-c", "GET", counterKey))).toBe(7);
  });
});

describe.skipIf(!enabled)("Redis Sentinel (REDIS_SENTINELS), through a failover", () => {
  let redis: RedisProcesses;
  let primary: number;
  let replica: number;
  let sentinels: number[];
  let a: Api;
  let b: Api;
  let msp: MspSeed;
  let phone: Authenticator;
  let counterKey: string;

  const currentPrimary = async () => Number((await redis.cli(sentinels[0]!, "SENTINEL", "get-master-addr-by-name", "mymaster")).split("\n")[1]);
  const subscribedOn = (port: () => Promise<number>) => async (id: string) => {
    await until(async () => (await redis.cli(await port(), "PUBSUB", "NUMSUB", `challenge:updated:${id}`)).endsWith("1"), "a subscriber on the primary");
  };

  beforeAll(async () => {
    redis = await RedisProcesses.create();
    primary = await freePort();
    replica = await freePort();
    await redis.server(primary);
    await redis.server(replica, ["--replicaof", "127.0.0.1", String(primary)]);
    sentinels = [await freePort(), await freePort(), await freePort()];
    for (const port of sentinels) await redis.sentinel(port, primary);
    // Every sentinel knows the replica before any failover is asked for.
    for (const port of sentinels) await until(async () => (await redis.cli(port, "SENTINEL", "replicas", "mymaster")).includes(String(replica)), `sentinel ${port} sees the replica`);
    const env = sharedEnv({ REDIS_SENTINELS: sentinels.map((port) => `127.0.0.1:${port}`).join(","), REDIS_SENTINEL_MASTER: "mymaster" }, 1000);
    counterKey = `${env.RATE_LIMIT_NAMESPACE}:challengeStartPerIp:127.0.0.1`;
    ({ a, b, msp, phone } = await world(env));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it("works on the primary, fails over to the replica, and works on the new primary", async () => {
    expect(await currentPrimary()).toBe(primary);
    await approvalAcross(a, phone, msp, subscribedOn(async () => primary));

    expect(await redis.cli(sentinels[0]!, "SENTINEL", "failover", "mymaster")).toBe("OK");
    await until(async () => (await currentPrimary()) === replica, "the replica promoted");
    await until(async () => (await redis.cli(replica, "ROLE")).startsWith("master"), "the new primary's role");
    // Until the sentinels demote the old primary, a client that has not heard of the switch yet
    // still writes there (Redis replicates asynchronously: such writes are lost). Once it is a
    // replica, it refuses writes and the API reconnects to the new primary and resends.
    await until(async () => (await redis.cli(primary, "ROLE")).startsWith("slave"), "the old primary demoted");
    // Both instances' connections (publish, subscribe, commands) are on the new primary.
    const apiClients = async (port: number) => (await redis.cli(port, "CLIENT", "LIST")).split("\n").filter((line) => line.includes("name=latchkey-")).length;
    await until(async () => (await apiClients(replica)) >= 6 && (await apiClients(primary)) === 0, "the API's connections all on the new primary");

    // Both instances follow: the waiter subscribes on the new primary, and the phone's approval reaches it.
    await approvalAcross(a, phone, msp, subscribedOn(async () => replica));
    // Rate-limit counters: while a connection is being moved, its instance counts in memory (the
    // counters fail fast by design); once both have moved, every start of either lands on the new primary.
    const counter = async () => Number(await redis.cli(replica, "GET", counterKey));
    const startOn = async (api: Api) => {
      const { startLoginChallenge } = await api.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
      expect(startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
    };
    for (const api of [a, b]) {
      await until(async () => {
        const before = await counter();
        await startOn(api);
        return (await counter()) === before + 1;
      }, "the instance's counters on the new primary");
    }
    const before = await counter();
    for (let i = 0; i < 6; i += 1) await startOn(i % 2 ? b : a);
    expect(await counter()).toBe(before + 6);
  });
});

