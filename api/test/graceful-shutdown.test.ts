// Stopping an instance loses nobody's work: two API processes share
// PostgreSQL and Redis; a requester waits on a QR challenge through A with the
// official graphql-ws client (its URL rotating between instances, as a client
// behind a load balancer would land). A gets SIGTERM while a slow request is
// still arriving: A stops accepting, answers /readyz with 503, tells its
// WebSocket clients to reconnect (1012), finishes the slow request and exits.
// The requester reconnects to B and still hears the phone's approval.
// Needs DATABASE_URL and REDIS_URL (CI sets both); skipped otherwise.
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { Authenticator } from "@latchkey/mobile";
import { createClient, type Client } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ApiProcess } from "./api-process.ts";
import { dropSchema, emailedCodeIn, postGraphql, serverSetupFor, type Api } from "./harness.ts";
import { approvePhone, seed, type MspSeed } from "./seed.ts";

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) console.log("graceful-shutdown: skipped (set DATABASE_URL and REDIS_URL to run API processes against PostgreSQL and Redis)");

const JOB_QUEUE_SCHEMA = `jobs_drain_${randomBytes(6).toString("hex")}`;
const shared = {
  DATABASE_URL,
  REDIS_URL,
  KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
  EMAIL_CODE_KEY: randomBytes(32).toString("base64"),
  RATE_LIMIT_NAMESPACE: `drain-${randomBytes(6).toString("hex")}`,
  JOB_QUEUE_SCHEMA,
  SHUTDOWN_GRACE_SECONDS: "20",
  // Every instance finishes what another started: one login-state key, one OPAQUE server setup (set in beforeAll).
  LOGIN_STATE_KEY: randomBytes(32).toString("base64"),
  OPAQUE_SERVER_SETUP: process.env.OPAQUE_SERVER_SETUP,
};

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id status } qrPayload watchToken redeemSecret } ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;
const REDEEM = `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename
  ... on AuthPayload { user { id } } ... on Error { code message } } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gql(instance: ApiProcess, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const { body } = await postGraphql(instance.graphqlUrl, query, variables, { token, timeoutMs: 30_000 });
  if (body.errors?.length) throw new Error(`GraphQL errors from ${instance.name}: ${JSON.stringify(body.errors)}`);
  return body.data as Record<string, any>;
}

/** Waits until Redis counts a subscriber on the challenge's channel (the instance subscribes after its first read). */
async function untilSubscribed(challengeId: string, atLeast = 1) {
  const redis = new Redis(REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [, count] = (await redis.pubsub("NUMSUB", `challenge:updated:${challengeId}`)) as [string, number];
      if (Number(count) >= atLeast) return;
      if (Date.now() > deadline) throw new Error(`no subscriber on challenge ${challengeId}`);
      await sleep(25);
    }
  } finally {
    redis.disconnect();
  }
}

/** Sends raw bytes on a connection and collects what comes back until it closes. */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let received = "";
  socket.on("data", (chunk) => (received += chunk.toString("utf8")));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  return {
    opened,
    write: (text: string) => new Promise<void>((resolve) => socket.write(text, () => resolve())),
    received: () => received,
    closed,
    destroy: () => socket.destroy(),
  };
}

describe.skipIf(!enabled)("graceful shutdown of one of two API processes", () => {
  let a: ApiProcess;
  let b: ApiProcess;
  let msp: MspSeed;
  let phone: Authenticator;
  const clients: Client[] = [];

  beforeAll(async () => {
    shared.OPAQUE_SERVER_SETUP ??= await serverSetupFor(DATABASE_URL!);
    [a, b] = await Promise.all([ApiProcess.start("a", shared), ApiProcess.start("b", shared)]);
    const viaA = { gql: (query: string, variables?: Record<string, unknown>, options?: { token?: string }) => gql(a, query, variables, options?.token) } as unknown as Api;
    msp = await seed(viaA).msp();
    phone = await Authenticator.create({ apiUrl: b.graphqlUrl });
    await phone.requestEmailVerification(msp.adminEmail);
    await phone.verifyEmail(msp.adminEmail, await emailedCodeIn([a.dataDir, b.dataDir], msp.adminEmail), "Phone");
    const { startDeviceOnboarding } = await gql(a, ONBOARD, { userId: msp.adminId }, msp.token);
    const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
    // The MSP's owner approves their own first phone.
    await approvePhone(viaA, msp.token, authenticator.id);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => Promise.resolve(client.dispose()).catch(() => undefined)));
    await Promise.all([a?.stop(), b?.stop()]);
    if (enabled) await dropSchema(DATABASE_URL!, JOB_QUEUE_SCHEMA);
  });

  it("moves a waiting requester to the other instance and finishes the in-flight request before exiting", async () => {
    const { startLoginChallenge: started } = await gql(a, START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
    expect(started.__typename).toBe("StartLoginChallengePayload");

    // The official client, its URL rotating over the instances (A first), retrying as it does by default.
    const urls = [a.graphqlUrl, b.graphqlUrl].map((url) => url.replace("http", "ws"));
    const connectedTo: string[] = [];
    let attempt = 0;
    const client = createClient({
      url: () => urls[attempt++ % urls.length]!,
      webSocketImpl: WebSocket,
      retryAttempts: 5,
      retryWait: async () => void (await sleep(200)),
      lazy: true,
      on: { connected: (socket) => void connectedTo.push((socket as WebSocket).url) },
    });
    clients.push(client);
    const statuses: string[] = [];
    let failure: unknown = null;
    let completed = false;
    client.subscribe<{ challengeUpdated: { status: string } }>(
      { query: WATCH, variables: { id: started.challenge.id, watchToken: started.watchToken } },
      {
        next: (value) => void statuses.push(value.data!.challengeUpdated.status),
        error: (error) => {
          failure = error;
          completed = true;
        },
        complete: () => void (completed = true),
      },
    );
    const until = async (done: () => boolean, what: string, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`no ${what}; statuses ${JSON.stringify(statuses)}, failure ${JSON.stringify(failure)}`);
        await sleep(10);
      }
    };
    await until(() => statuses.includes("PENDING"), "PENDING from A");
    expect(connectedTo).toEqual([urls[0]]);
    await untilSubscribed(started.challenge.id);

    // A slow request to A: its headers and half its body are in before the signal, the rest after.
    const query = JSON.stringify({ query: "{ viewer { user { id } } }" });
    const slow = rawConnection(a.url);
    await slow.opened;
    await slow.write(`POST /graphql HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(query)}\r\n\r\n${query.slice(0, 10)}`);
    // A health check under way on a connection the proxy already holds.
    const probe = rawConnection(a.url);
    await probe.opened;
    await probe.write("GET /readyz HTTP/1.1\r\nHost: a\r\n");
    await sleep(200);

    a.signal("SIGTERM");
    // The requester is told to reconnect and lands on B, which re-reads the challenge: still PENDING.
    await until(() => connectedTo.length === 2, "reconnection to B");
    expect(connectedTo[1]).toBe(urls[1]);
    await untilSubscribed(started.challenge.id);
    // A no longer takes connections, and answers its readiness probe with 503.
    await expect(fetch(`${a.url}/healthz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    await probe.write("\r\n");
    await probe.closed;
    expect(probe.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(probe.received()).toContain('{"status":"draining"}');
    expect(a.alive, "A waits for its in-flight request").toBe(true);

    // The slow request completes normally, and A then exits cleanly.
    await slow.write(query.slice(10));
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(slow.received()).toContain('{"data":{"viewer":null}');
    expect(slow.received().toLowerCase()).toContain("connection: close");
    expect(await a.exited).toEqual({ code: 0, signal: null });
    const closeLog = a.logLines().find((line) => line.msg === "drained");
    expect(closeLog).toMatchObject({ finished: 1 });

    // The phone approves through B; the requester, now on B, hears it and the login completes.
    await phone.approve(started.qrPayload);
    await until(() => statuses.includes("APPROVED"), "APPROVED on B");
    await until(() => completed, "completion");
    expect(failure).toBeNull();
    expect(statuses[0]).toBe("PENDING");
    expect(statuses.at(-1)).toBe("APPROVED");
    const { redeemChallenge } = await gql(b, REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(redeemChallenge).toMatchObject({ __typename: "AuthPayload", user: { id: msp.adminId } });
  });
});
