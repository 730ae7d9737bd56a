// What an operator sees of a running instance: Prometheus metrics on their own
// port after real HTTP, WebSocket and challenge traffic, and one request id
// tying a response to the log lines written while it was served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Api, subscribe } from "./harness.ts";
import { FINISH_PASSWORD_LOG_IN, startPasswordLogIn } from "./password-login.ts";
import { PASSWORD, seed, type MspSeed } from "./seed.ts";

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id status } watchToken redeemSecret } ... on Error { code } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;
const CANCEL = `mutation($id: ID!, $secret: String!) { cancelChallenge(id: $id, redeemSecret: $secret) { __typename ... on Error { code } } }`;

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Parses Prometheus' text format into samples. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length === 0) return undefined;
  return found.reduce((sum, s) => sum + s.value, 0);
}

async function scrape(api: Api) {
  expect(api.app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${api.app.metricsUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parseMetrics(await response.text());
}

describe("Prometheus metrics on METRICS_PORT", () => {
  let api: Api;
  let msp: MspSeed;

  beforeAll(async () => {
    api = await Api.start({
      METRICS_PORT: "0",
      // Three QR codes a minute per address, so the fourth is refused.
      RATE_LIMIT_OVERRIDES: JSON.stringify({ challengeStartPerIp: { points: 3, durationSeconds: 60 } }),
    });
    msp = await seed(api).msp();
  });

  afterAll(() => api?.stop());

  it("counts operations, sign-ins, challenges, sockets, subscriptions, waiters and refusals after real traffic", async () => {
    // Two sign-ins by OPAQUE: one proved, one whose client sends a finish that proves nothing.
    await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const { result: wrong } = await startPasswordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: "not-the-password-at-all" });
    const { body } = await api.request(FINISH_PASSWORD_LOG_IN, { input: { loginId: wrong.loginId, finish: randomBytes(64).toString("base64url") } });
    expect(body.data!.finishPasswordLogIn.code).toBe("UNAUTHENTICATED");

    // A requester waits on a QR challenge over a WebSocket.
    const { startLoginChallenge: started } = await api.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
    expect(started.__typename).toBe("StartLoginChallengePayload");
    const watching = subscribe(api.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
    await watching.waitForEvents(1);
    expect(watching.events[0]!.data?.challengeUpdated.status).toBe("PENDING");

    const during = await scrape(api);
    expect(value(during, "latchkey_websocket_connections")).toBe(1);
    expect(value(during, "latchkey_subscriptions", { transport: "websocket" })).toBe(1);
    expect(value(during, "latchkey_challenge_waiters")).toBe(1);

    // Cancelling ends the wait; two more starts spend the budget and the next is refused.
    expect((await api.gql(CANCEL, { id: started.challenge.id, secret: started.redeemSecret })).cancelChallenge.__typename).not.toMatch(/Error$/);
    await watching.waitForCompletion();
    for (let i = 0; i < 2; i += 1) expect((await api.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } })).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
    const refused = await api.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
    expect(refused.startLoginChallenge).toEqual({ __typename: "RateLimitedError", code: "RATE_LIMITED" });

    const after = await scrape(api);
    // Operations by root field and outcome, both transports.
    // A typed error in the result union is still an operation that ran: "ok".
    expect(value(after, "latchkey_graphql_operations_total", { operation: "finishPasswordLogIn", type: "mutation", outcome: "ok" })).toBe(2);
    expect(value(after, "latchkey_graphql_operations_total", { operation: "challengeUpdated", type: "subscription", outcome: "ok" })).toBe(1);
    expect(value(after, "latchkey_graphql_operations_total", { operation: "startLoginChallenge", type: "mutation" })).toBe(4);
    expect(value(after, "latchkey_graphql_operation_duration_seconds_count", { operation: "finishPasswordLogIn" })).toBe(2);
    expect(value(after, "latchkey_graphql_operation_duration_seconds_sum", { operation: "finishPasswordLogIn" })).toBeGreaterThan(0);
    // Outcomes of sign-ins and challenges, from the result unions.
    expect(value(after, "latchkey_sign_in_outcomes_total", { operation: "startPasswordLogIn", outcome: "ok" })).toBe(2);
    expect(value(after, "latchkey_sign_in_outcomes_total", { operation: "finishPasswordLogIn", outcome: "ok" })).toBe(1);
    expect(value(after, "latchkey_sign_in_outcomes_total", { operation: "finishPasswordLogIn", outcome: "UNAUTHENTICATED" })).toBe(1);
    expect(value(after, "latchkey_challenge_outcomes_total", { operation: "startLoginChallenge", outcome: "ok" })).toBe(3);
    expect(value(after, "latchkey_challenge_outcomes_total", { operation: "startLoginChallenge", outcome: "RATE_LIMITED" })).toBe(1);
    expect(value(after, "latchkey_challenge_outcomes_total", { operation: "cancelChallenge", outcome: "ok" })).toBe(1);
    expect(value(after, "latchkey_rate_limit_refusals_total", { limit: "startLoginChallenge" })).toBe(1);
    // The socket and its subscription are gone, and nobody waits.
    expect(value(after, "latchkey_subscriptions", { transport: "websocket" })).toBe(0);
    expect(value(after, "latchkey_challenge_waiters")).toBe(0);
    // The queue's depth is a count; the pool is there on PostgreSQL.
    expect(value(after, "latchkey_job_queue_depth")).toBeGreaterThanOrEqual(0);
    if (process.env.DATABASE_URL) {
      expect(value(after, "latchkey_database_pool_connections", { state: "total" })).toBeGreaterThanOrEqual(1);
      expect(value(after, "latchkey_database_pool_connections", { state: "total" })).toBeLessThanOrEqual(10);
    }
    // yoga's plugin: phases and HTTP durations, without client-chosen operation names.
    expect(value(after, "graphql_envelop_phase_execute_count", { operationType: "mutation" })).toBeGreaterThanOrEqual(6);
    expect(value(after, "graphql_yoga_http_duration_count", { method: "POST", statusCode: "200" })).toBeGreaterThanOrEqual(6);
    expect(after.some((s) => "operationName" in s.labels)).toBe(false);
    // Node's own process metrics.
    expect(value(after, "process_resident_memory_bytes")).toBeGreaterThan(1e6);
  });

  it("serves metrics only on their own port", async () => {
    const onApi = await fetch(`${api.url}/metrics`);
    expect(onApi.status).not.toBe(200);
    const other = await fetch(`${api.app.metricsUrl}/graphql`);
    expect(other.status).toBe(404);
  });
});

describe("without METRICS_PORT", () => {
  it("serves no metrics", async () => {
    const api = await Api.start();
    try {
      expect(api.app.metricsUrl).toBeNull();
      expect((await fetch(`${api.url}/metrics`)).status).not.toBe(200);
    } finally {
      await api.stop();
    }
  });
});

describe("request ids", () => {
  const CUSTOMERS = `{ authenticators { id } }`;

  it("puts the same id in the response header and on every log line of that request", async () => {
    const api = await Api.start({ LOG_LEVEL: "debug" });
    try {
      const before = api.logs.length;
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "planted-by-a-client" },
        body: JSON.stringify({ query: CUSTOMERS }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const id = response.headers.get("x-request-id");
      // Not from a trusted proxy: the client's own id is not believed.
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const lines = api.logs.slice(before).map((line) => JSON.parse(line) as { requestId?: string; msg: string });
      const ours = lines.filter((line) => line.requestId === id);
      expect(ours.map((line) => line.msg)).toContain("expected error");
      expect(lines.some((line) => line.requestId === "planted-by-a-client")).toBe(false);

      // A WebSocket operation: its errors carry its id, and so do its log lines.
      const failed = subscribe(api.ws(), WATCH, { id: "nope", watchToken: "nope" });
      await failed.waitForCompletion();
      const extensions = (failed.failure as { extensions?: { requestId?: string } }[] | null)?.[0]?.extensions ?? failed.events[0]?.errors?.[0]?.extensions;
      const wsId = (extensions as { requestId?: string } | undefined)?.requestId;
      expect(wsId).toMatch(/^[0-9a-f-]{36}$/);
      expect(wsId).not.toBe(id);
      const wsLines = api.logs.map((line) => JSON.parse(line) as { requestId?: string; msg: string }).filter((line) => line.requestId === wsId);
      expect(wsLines.length).toBeGreaterThanOrEqual(1);
    } finally {
      await api.stop();
    }
  });

  it("keeps an incoming x-request-id from a trusted proxy", async () => {
    const api = await Api.start({ TRUSTED_PROXIES: "loopback", LOG_LEVEL: "debug" });
    try {
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "edge-7f3a9c" },
        body: JSON.stringify({ query: CUSTOMERS }),
      });
      expect(response.headers.get("x-request-id")).toBe("edge-7f3a9c");
      expect(api.logs.some((line) => (JSON.parse(line) as { requestId?: string }).requestId === "edge-7f3a9c")).toBe(true);
      // An id that could break a log line or a header is replaced.
      const odd = await fetch(`${api.url}/healthz`, { headers: { "x-request-id": "a b" } });
      expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await api.stop();
    }
  });
});
