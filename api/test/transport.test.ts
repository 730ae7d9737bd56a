// The transport's own rules, against the real server: which pages may open a
// WebSocket, that a bad operation is answered on its own without ending the
// socket, and the caps on operations, sockets, HTTP subscriptions and bodies.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { createClient, type Client } from "graphql-ws";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Api, subscribe } from "./harness.ts";
import { RawSocket } from "./raw-socket.ts";
import { PASSWORD, seed } from "./seed.ts";
import { passwordLogIn } from "./password-login.ts";

// Low caps, so each is reached with a handful of connections; the operations
// per socket keep their default, which the pipelining test relies on.
const CAPS = {
  socketsPerCredential: 3,
  unauthenticatedSocketsPerAddress: 4,
  httpSubscriptionsPerCredential: 2,
  unauthenticatedHttpSubscriptionsPerAddress: 2,
};
const OPERATIONS_PER_SOCKET = 20;

let api: Api;
beforeAll(async () => {
  api = await Api.start({ TRANSPORT_LIMITS: JSON.stringify(CAPS) });
});
afterAll(() => api?.stop());

const opened: RawSocket[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((socket) => socket.close()));
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});

/**
 * Each test connects from an address of its own (all of 127/8 is loopback), so
 * sockets another test closed a moment ago never count against it.
 */
let nextAddress = 10;
const freshAddress = () => `127.0.0.${(nextAddress += 1)}`;
let address = freshAddress();
beforeEach(() => {
  address = freshAddress();
});

async function open(apiUrl: string, options: Parameters<typeof RawSocket.open>[1] = {}) {
  const result = await RawSocket.open(apiUrl, { localAddress: address, ...options });
  if (result.socket) opened.push(result.socket);
  return result;
}

async function connect(apiUrl: string, connectionParams: Record<string, unknown> = {}, options: Parameters<typeof RawSocket.open>[1] = {}) {
  const socket = await RawSocket.connect(apiUrl, connectionParams, { localAddress: address, ...options });
  opened.push(socket);
  return socket;
}

const FEED = `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`;
const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id } watchToken } ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;

/** Retries `attempt` until it holds: for a place given back when the server sees a close, which it learns a moment later. */
async function eventually(attempt: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 15_000;
  while (!(await attempt())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("WebSocket origin", () => {
  it("refuses the upgrade from a page on any other origin, before a WebSocket opens", async () => {
    const msp = await seed(api).msp();
    const { response } = await passwordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD, tokenDelivery: "COOKIE" });
    const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0]!;
    for (const origin of ["http://evil.test", "https://portal.test", "http://portal.test.evil.test", "null"]) {
      const refused = await open(api.url, { headers: { origin, cookie } });
      expect(refused.status, origin).toBe(403);
    }
  });

  it("accepts the portal's origin, the API's own origin, and clients that send none", async () => {
    const own = new URL(api.url).origin;
    const origins: Record<string, string>[] = [{ origin: "http://portal.test" }, { origin: own }, {}];
    for (const headers of origins) {
      const socket = await connect(api.url, {}, { headers });
      await socket.roundTrip();
    }
  });
});

describe("WebSocket operations", () => {
  function officialClient(token: string) {
    const closes: number[] = [];
    const client = createClient({
      url: `${api.url.replace("http", "ws")}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { localAddress: address });
        }
      },
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: true,
      on: { closed: (event) => void closes.push((event as { code: number }).code) },
    });
    clients.push(client);
    return { client, closes };
  }

  it("answers an unparsable, an invalid and an over-the-cap operation on their own, and the official client keeps its healthy subscriptions", async () => {
    const msp = await seed(api).msp();
    const { client, closes } = officialClient(msp.token);
    const healthy = [subscribe(client, FEED, { id: msp.id })];
    await healthy[0]!.triggerUntilEvent(() => msp.customer());

    const unparsable = subscribe(client, `subscription { auditEventAdded(tenantId: `, {});
    const invalid = subscribe(client, `subscription { noSuchFeed }`, {});
    await unparsable.waitForCompletion();
    await invalid.waitForCompletion();
    expect(unparsable.failure).toMatchObject([{ message: expect.stringMatching(/Syntax Error/), extensions: { code: "GRAPHQL_PARSE_FAILED" } }]);
    expect(invalid.failure).toMatchObject([{ message: expect.stringMatching(/noSuchFeed/), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }]);

    for (let i = 1; i < OPERATIONS_PER_SOCKET; i += 1) healthy.push(subscribe(client, FEED, { id: msp.id }));
    const overCap = subscribe(client, FEED, { id: msp.id });
    await overCap.waitForCompletion();
    expect(overCap.failure).toMatchObject([{ extensions: { code: "TOO_MANY_OPERATIONS" } }]);

    // Every healthy subscription, the first and the later ones, still delivers.
    const before = healthy.map((feed) => feed.events.length);
    await msp.customer();
    await Promise.all(healthy.map((feed, i) => feed.waitForEvents(before[i]! + 1)));
    expect(healthy.every((feed) => !feed.completed)).toBe(true);
    expect(closes).toEqual([]);

    // Ending one frees its place for another.
    healthy.pop()!.unsubscribe();
    const replacement = subscribe(client, FEED, { id: msp.id });
    await replacement.triggerUntilEvent(() => msp.customer());
    expect(replacement.failure).toBeNull();
    expect(closes).toEqual([]);
  });

  it("stops 200 pipelined subscriptions at the cap and refuses the rest one by one, keeping the socket open", async () => {
    const msp = await seed(api).msp();
    const socket = await connect(api.url, { authorization: `Bearer ${msp.token}` });
    const ids = Array.from({ length: 200 }, (_, i) => `s${i}`);
    // One burst: every message is in flight before the server has answered any.
    for (const id of ids) socket.subscribe(id, FEED, { id: msp.id });
    await socket.until(() => socket.ofType("error").length >= 200 - OPERATIONS_PER_SOCKET, "the refusals");
    const refused = new Set(socket.ofType("error").map((m) => m.id));
    expect(refused.size).toBe(200 - OPERATIONS_PER_SOCKET);
    for (const message of socket.ofType("error")) expect(message.payload).toMatchObject([{ extensions: { code: "TOO_MANY_OPERATIONS" } }]);

    const live = ids.filter((id) => !refused.has(id));
    await msp.customer();
    await socket.until(() => live.every((id) => socket.of(id).some((m) => m.type === "next")), "an event on every live subscription");
    await msp.customer();
    await socket.until(() => live.every((id) => socket.of(id).filter((m) => m.type === "next").length >= 2), "a second event on each");
    expect(socket.ofType("next").filter((m) => refused.has(m.id!))).toEqual([]);
    expect(socket.closeCode).toBeNull();
    await socket.roundTrip();
  });

  it("never closes the socket for a bad operation: an unknown operation name, or several operations and none named", async () => {
    const msp = await seed(api).msp();
    const socket = await connect(api.url, { authorization: `Bearer ${msp.token}` });
    socket.send({ id: "named", type: "subscribe", payload: { query: FEED, operationName: "Elsewhere", variables: { id: msp.id } } });
    socket.subscribe("twice", `subscription A { auditEventAdded(tenantId: "${msp.id}") { action } } subscription B { auditEventAdded(tenantId: "${msp.id}") { action } }`);
    await socket.until(() => socket.of("named").length > 0 && socket.of("twice").length > 0, "both answers");
    expect(socket.of("named")).toMatchObject([{ type: "error", payload: [{ extensions: { code: "BAD_REQUEST" } }] }]);
    expect(socket.of("twice")).toMatchObject([{ type: "error" }]);
    socket.subscribe("fine", FEED, { id: msp.id });
    await msp.customer();
    await socket.until(() => socket.of("fine").some((m) => m.type === "next"), "the healthy subscription's event");
    expect(socket.closeCode).toBeNull();
  });
});

describe("WebSocket caps", () => {
  it("caps the sockets of one credential, and gives a place back when one closes", async () => {
    const [first, second] = [await seed(api).msp(), await seed(api).msp()];
    const mine = [];
    for (let i = 0; i < CAPS.socketsPerCredential; i += 1) mine.push(await connect(api.url, { authorization: `Bearer ${first.token}` }));
    const over = (await open(api.url)).socket!;
    expect(await over.init({ authorization: `Bearer ${first.token}` })).toBe(false);
    expect(over.closeCode).toBe(4403);
    expect(over.closeReason).toMatch(/too many connections/i);
    // Another credential is not affected.
    await connect(api.url, { authorization: `Bearer ${second.token}` });
    await mine[0]!.close();
    await eventually(async () => {
      const again = (await open(api.url)).socket!;
      return again.init({ authorization: `Bearer ${first.token}` });
    }, "a place for the credential again");
  });

  it("caps sockets without a valid credential per address, and not the authenticated ones of the same address", async () => {
    const localAddress = freshAddress();
    const msp = await seed(api).msp();
    const waiting = [];
    for (let i = 0; i < CAPS.unauthenticatedSocketsPerAddress; i += 1) {
      const { socket } = await open(api.url, { localAddress });
      waiting.push(socket!);
    }
    const refused = await open(api.url, { localAddress });
    expect(refused.status).toBe(429);
    // A wrong credential leaves a socket counted by its address.
    expect(await waiting[0]!.init({ authorization: "Bearer not-a-session" })).toBe(true);
    expect((await open(api.url, { localAddress })).status).toBe(429);
    // A socket that authenticates stops counting against its address.
    expect(await waiting[1]!.init({ authorization: `Bearer ${msp.token}` })).toBe(true);
    await eventually(async () => (await open(api.url, { localAddress })).socket !== undefined, "a place for the address");

    // Many authenticated sockets from one address (an office): none refused.
    const office = freshAddress();
    const technicians = [await seed(api).msp(), await seed(api).msp(), await seed(api).msp()];
    for (const tech of technicians) {
      for (let i = 0; i < CAPS.socketsPerCredential; i += 1) await connect(api.url, { authorization: `Bearer ${tech.token}` }, { localAddress: office });
    }
    expect(technicians.length * CAPS.socketsPerCredential).toBeGreaterThan(CAPS.unauthenticatedSocketsPerAddress);
  });
});

type SseStream = { status: number; events: { event: string; data: any }[]; ended: boolean; abort(): void; until(done: () => boolean, what: string): Promise<void> };

/** A GraphQL over SSE subscription (one request per subscription), read as it arrives. */
function sse(query: string, variables: Record<string, unknown>, options: { token?: string; localAddress?: string } = {}): Promise<SseStream> {
  const url = new URL(`${api.url}/graphql`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        localAddress: options.localAddress,
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (response: IncomingMessage) => {
        const waiters = new Set<() => void>();
        const stream: SseStream = {
          status: response.statusCode ?? 0,
          events: [],
          ended: false,
          abort: () => req.destroy(),
          until: (done, what) =>
            new Promise((ok, fail) => {
              const check = () => {
                if (!done()) return;
                clearTimeout(timer);
                waiters.delete(check);
                ok();
              };
              const timer = setTimeout(() => fail(new Error(`Timed out waiting for ${what}: ${JSON.stringify(stream.events)}`)), 15_000);
              waiters.add(check);
              check();
            }),
        };
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event) stream.events.push({ event, data: data ? JSON.parse(data) : null });
          }
          for (const waiter of [...waiters]) waiter();
        });
        const end = () => {
          stream.ended = true;
          for (const waiter of [...waiters]) waiter();
        };
        response.on("end", end);
        response.on("close", end);
        resolve(stream);
      },
    );
    req.on("error", (error) => (error.message.includes("socket hang up") ? undefined : reject(error)));
    req.end(JSON.stringify({ query, variables }));
  });
}

describe("subscriptions over HTTP (SSE)", () => {
  const streams: SseStream[] = [];
  afterEach(() => streams.splice(0).forEach((stream) => stream.abort()));
  const opening = async (...args: Parameters<typeof sse>) => {
    const stream = await sse(...args);
    streams.push(stream);
    return stream;
  };

  it("caps the subscriptions of one credential, and gives a place back when one ends", async () => {
    const msp = await seed(api).msp();
    const held = [];
    for (let i = 0; i < CAPS.httpSubscriptionsPerCredential; i += 1) held.push(await opening(FEED, { id: msp.id }, { token: msp.token }));
    const refused = await opening(FEED, { id: msp.id }, { token: msp.token });
    await refused.until(() => refused.ended, "the refusal to end");
    expect(refused.events[0]).toMatchObject({ event: "next", data: { errors: [{ extensions: { code: "TOO_MANY_SUBSCRIPTIONS" } }] } });
    // The held ones are live.
    await msp.customer();
    await Promise.all(held.map((stream) => stream.until(() => stream.events.some((e) => e.data?.data?.auditEventAdded), "an event")));

    held[0]!.abort();
    await eventually(async () => {
      const again = await opening(FEED, { id: msp.id }, { token: msp.token });
      await msp.customer();
      await again.until(() => again.ended || again.events.length > 0, "an answer");
      return again.events.some((e) => e.data?.data?.auditEventAdded);
    }, "a place for the credential again");
  });

  it("caps subscriptions without a credential per address", async () => {
    const msp = await seed(api).msp();
    const { startLoginChallenge } = await api.gql(START, { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } });
    const variables = { id: startLoginChallenge.challenge.id, watchToken: startLoginChallenge.watchToken };
    const localAddress = freshAddress();
    for (let i = 0; i < CAPS.unauthenticatedHttpSubscriptionsPerAddress; i += 1) {
      const watcher = await opening(WATCH, variables, { localAddress });
      await watcher.until(() => watcher.events.length > 0, "the challenge's state");
      expect(watcher.events[0]!.data.data.challengeUpdated.status).toBe("PENDING");
    }
    const refused = await opening(WATCH, variables, { localAddress });
    await refused.until(() => refused.ended, "the refusal to end");
    expect(refused.events[0]).toMatchObject({ data: { errors: [{ extensions: { code: "TOO_MANY_SUBSCRIPTIONS" } }] } });
    // Another address still may.
    const elsewhere = await opening(WATCH, variables, { localAddress: freshAddress() });
    await elsewhere.until(() => elsewhere.events.length > 0, "the challenge's state");
    expect(elsewhere.events[0]!.data.data.challengeUpdated.status).toBe("PENDING");
  });
});

/** POSTs `chunks` as a chunked body (no Content-Length); resolves with the answer once it comes, even before the body ends. */
function chunkedPost(chunks: Buffer[], options: { end: boolean }): Promise<{ status: number; body: string; bytesSent: number }> {
  const url = new URL(`${api.url}/graphql`);
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, body, bytesSent });
          req.destroy();
        });
      },
    );
    // Once refused, the server closes the connection: later writes may fail, which is the point.
    req.on("error", (error) => (/EPIPE|ECONNRESET|socket hang up/.test(error.message) ? undefined : reject(error)));
    for (const chunk of chunks) {
      req.write(chunk);
      bytesSent += chunk.length;
    }
    if (options.end) req.end();
  });
}

describe("request body limit", () => {
  it("refuses a chunked 2 MiB body with 413 without waiting for the rest of it", async () => {
    // Valid JSON as far as it goes, so only its size can refuse it; and never
    // ended, so an answer proves the server stopped reading at the limit.
    const padding = Buffer.alloc(64 * 1024, "x");
    const chunks = [Buffer.from(`{"query":"{ __typename }","variables":{"padding":"`), ...Array.from({ length: 32 }, () => padding)];
    const refused = await chunkedPost(chunks, { end: false });
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ extensions: { code: "REQUEST_TOO_LARGE" } }] });
  });

  it("accepts a chunked body within the limit", async () => {
    const accepted = await chunkedPost([Buffer.from(`{"query":`), Buffer.from(`"{ __typename }"}`)], { end: true });
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body)).toMatchObject({ data: { __typename: "Query" } });
  });
});
