// Webhooks: events reach a local receiver signed per Standard Webhooks (checked
// with the reference `standardwebhooks` verifier), MSP webhooks cover their
// customers, failed deliveries are retried on the clock's schedule (and survive
// a restart), a day of failures disables the webhook and emails the admins,
// and targets outside the public internet are refused, DNS rebinding included.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopSeed } from "./desktop-seed.ts";
import { desktopLoginWithForgedFinish } from "./password-login.ts";
import { Api, ManualClock, dropSchema, unique } from "./harness.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed } from "./seed.ts";

const DATABASE_URL = process.env.DATABASE_URL;

type Received = { headers: Record<string, string>; body: string };

/** A webhook receiver on 127.0.0.1 that records what it is sent and answers `status`. */
class Receiver {
  readonly requests: Received[] = [];
  status = 200;
  private server: Server | null = null;
  port = 0;

  async start(port = 0) {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        this.requests.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop() {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Requests whose body mentions `text`. */
  with(text: string) {
    return this.requests.filter((request) => request.body.includes(text));
  }
}

async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename
  ... on CreateWebhookPayload { secret webhook { id url events enabled } }
  ... on Error { code message } } }`;

async function createWebhook(server: Api, token: string, input: Record<string, unknown>) {
  const data = await server.gql(CREATE, { input: { events: ["AUDIT_EVENT"], ...input } }, { token });
  if (data.createWebhook.__typename !== "CreateWebhookPayload") throw new Error(`createWebhook failed: ${JSON.stringify(data.createWebhook)}`);
  return data.createWebhook as { secret: string; webhook: { id: string } };
}

/** Something audited in `customer`: a new user. */
async function auditSomething(server: Api, token: string, tenantId: string) {
  const username = unique("w").slice(0, 20);
  const data = await server.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }`,
    { input: { tenantId, firstName: "Hook", lastName: "Target", username, email: `${username}@example.test`, role: "USER" } },
    { token },
  );
  expect(data.createUser.__typename).toBe("CreateUserPayload");
  return username;
}

/** The webhook's latest delivery whose body mentions `text` (every webhook also hears of its own creation). */
const deliveryOf = async (server: Api, webhookId: string, text: string) =>
  (await server.db.webhookDelivery.findMany({ where: { webhookId }, orderBy: { createdAt: "desc" } })).find((delivery) =>
    JSON.stringify(delivery.payload).includes(text),
  ) ?? null;

describe("delivering to a receiver", () => {
  const clock = new ManualClock();
  let api: Api;
  let msp: MspSeed;
  let customer: CustomerSeed;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    api = await Api.start({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "1" }, { clock, webhookRetryCheckMs: 50 });
    msp = await seed(api).msp();
    customer = await msp.customer();
  });
  afterAll(async () => {
    await api?.stop();
    await receiver.stop();
  });
  const adminToken = () => seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);

  it("signs each event per Standard Webhooks, shows the secret once and keeps it encrypted", async () => {
    const { secret, webhook } = await createWebhook(api, msp.token, { tenantId: customer.id, url: receiver.url, events: ["AUDIT_EVENT"] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const username = await auditSomething(api, msp.token, customer.id);
    const [request] = await until(() => receiver.with(username), (found) => found.length > 0, "the delivery");
    // The reference implementation accepts the signature (and would throw on any other body or secret).
    const payload = new StandardWebhook(secret).verify(request!.body, request!.headers) as { type: string; data: Record<string, unknown> };
    expect(payload.type).toBe("AUDIT_EVENT");
    expect(payload.data).toMatchObject({ tenantId: customer.id, action: "user.created", actorLabel: expect.stringContaining(msp.adminEmail) });
    expect(() => new StandardWebhook(`whsec_${randomBytes(32).toString("base64")}`).verify(request!.body, request!.headers)).toThrow();
    expect(() => new StandardWebhook(secret).verify(request!.body.replace("user.created", "user.deleted"), request!.headers)).toThrow();

    type Node = { id: string; status: string };
    const readLog = async () => {
      const log = await api.gql(
        `query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount edges { node { id status attempts responseCode eventType } } } }`,
        { id: webhook.id },
        { token: msp.token },
      );
      return log.webhookDeliveries.edges.map((edge: { node: Node }) => edge.node).find((node: Node) => node.id === request!.headers["webhook-id"]) as Node | undefined;
    };
    // The receiver has answered; the log records it right after.
    const delivered = await until(readLog, (node) => node?.status === "SUCCEEDED", "the log to show the success");
    expect(delivered).toMatchObject({ status: "SUCCEEDED", attempts: 1, responseCode: 200, eventType: "AUDIT_EVENT" });

    const [row] = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(w)::text AS row FROM "Webhook" w WHERE id = $1::uuid`, webhook.id);
    expect(row!.row).not.toContain(secret.slice(6));
    expect(api.logs.join("")).not.toContain(secret.slice(6));
  });

  it("an MSP's webhook receives its customers' events, and only theirs", async () => {
    const other = await seed(api).msp();
    const otherCustomer = await other.customer();
    await createWebhook(api, msp.token, { tenantId: msp.id, url: receiver.url, events: ["AUDIT_EVENT"] });
    const mine = await auditSomething(api, msp.token, customer.id);
    const theirs = await auditSomething(api, other.token, otherCustomer.id);
    await until(() => receiver.with(mine), (found) => found.length >= 2, "the customer's and the MSP's webhook");
    await api.jobsSettled();
    expect(receiver.with(theirs)).toHaveLength(0);
  });

  it("delivers desktop logins and workstation changes", async () => {
    const { secret } = await createWebhook(api, msp.token, { tenantId: customer.id, url: receiver.url, events: ["LOGIN_EVENT", "WORKSTATION_CHANGED"] });
    const desktop = desktopSeed(api, msp, customer);
    await desktop.settings({ desktopLoginEnabled: true });
    const workstation = await desktop.workstation();
    const username = unique("nobody").slice(0, 20);
    expect((await desktopLoginWithForgedFinish(api, () => workstation.credential(), username)).code).toBe("INVALID_CREDENTIALS");
    const verified = (type: string, text: string) =>
      receiver.requests
        // Other webhooks of this tenant (audit events only) post to the same receiver.
        .filter((request) => request.body.includes(text) && (JSON.parse(request.body) as { type: string }).type === type)
        .map((request) => new StandardWebhook(secret).verify(request.body, request.headers) as { type: string; data: Record<string, unknown> });
    const [enrolled] = await until(() => verified("WORKSTATION_CHANGED", workstation.workstationId!), (found) => found.length > 0, "the enrollment");
    expect(enrolled!.data).toMatchObject({ tenantId: customer.id, workstationId: workstation.workstationId, change: "ENROLLED" });
    const [login] = await until(() => verified("LOGIN_EVENT", workstation.workstationId!), (found) => found.length > 0, "the failed login");
    expect(login!.data).toMatchObject({ tenantId: customer.id, workstationId: workstation.workstationId, outcome: "FAILED", method: "PASSWORD" });
    // What was typed as an unknown username is never sent: it may be a password typed in the wrong box.
    expect(JSON.stringify(login)).not.toContain(username);
  });

  it("retries on the clock's schedule after the receiver was down, and replays on request", async () => {
    const down = new Receiver();
    await down.start();
    const port = down.port;
    await down.stop();
    const { webhook, secret } = await createWebhook(api, msp.token, { tenantId: customer.id, url: `http://127.0.0.1:${port}/hook`, events: ["AUDIT_EVENT"] });
    const username = await auditSomething(api, msp.token, customer.id);
    const failed = await until(() => deliveryOf(api, webhook.id, username), (row) => row?.status === "RETRYING", "the first failure");
    expect(failed!.attempts).toBe(1);
    expect(failed!.nextAttemptAt!.getTime()).toBe(clock.now() + 30_000);
    expect(failed!.lastError).toBeTruthy();

    const back = new Receiver();
    await back.start(port);
    try {
      // Not due yet: nothing is sent however long we wait for the scheduler.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(back.requests).toHaveLength(0);
      clock.advance(30_000);
      const [request] = await until(() => back.with(username), (found) => found.length > 0, "the retry");
      expect(new StandardWebhook(secret).verify(request!.body, request!.headers)).toBeTruthy();
      const done = await until(() => deliveryOf(api, webhook.id, username), (row) => row?.status === "SUCCEEDED", "success");
      expect(done!.attempts).toBe(2);
      expect(request!.headers["webhook-id"]).toBe(done!.id);

      // A replay sends the same message again, under the same webhook-id.
      const replay = await api.gql(
        `mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { __typename ... on RedeliverWebhookPayload { delivery { id status } } } }`,
        { input: { deliveryId: done!.id } },
        { token: msp.token },
      );
      expect(replay.redeliverWebhook.delivery).toEqual({ id: done!.id, status: "PENDING" });
      const twice = await until(() => back.with(username), (found) => found.length >= 2, "the replay");
      expect(twice[1]!.headers["webhook-id"]).toBe(done!.id);
      expect(twice[1]!.body).toBe(twice[0]!.body);
    } finally {
      await back.stop();
    }
  });

  it("disables a webhook after a day of failures and emails the tenant's admins", async () => {
    const failing = new Receiver();
    failing.status = 500;
    await failing.start();
    try {
      const token = await adminToken();
      const { webhook } = await createWebhook(api, token, { tenantId: customer.id, url: failing.url, events: ["AUDIT_EVENT"] });
      const customerAdmin = await customer.admin();
      // A key reads the log after the clock has moved past every session's expiry.
      const key = await api.gql(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { apiKey } } }`,
        { input: { tenantId: customer.id, name: "watcher", permissions: ["MANAGE_WEBHOOKS"] } },
        { token },
      );
      const username = await auditSomething(api, token, customer.id);
      const startedAt = clock.now();
      let attempts = 0;
      for (;;) {
        const row = await until(
          () => deliveryOf(api, webhook.id, username),
          // Failed: this delivery gave up, or another delivery to the same webhook (its own creation event) disabled it.
          (found) => found !== null && (found.status === "FAILED" || (found.status !== "PENDING" && found.attempts > attempts)),
          `attempt ${attempts + 1}`,
        );
        attempts = row!.attempts;
        expect(row!.responseCode).toBe(500);
        if (row!.status === "FAILED") break;
        // Switched off only after most of a day of failures, not at the first ones.
        expect((await api.db.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).enabled).toBe(true);
        expect(attempts).toBeLessThan(30);
        clock.advance(row!.nextAttemptAt!.getTime() - clock.now());
      }
      const state = await api.gql(
        `query($t: ID!) { webhooks(tenantId: $t, first: 50) { edges { node { id enabled disabledReason } } } }`,
        { t: customer.id },
        { token: key.createApiKey.apiKey },
      );
      const disabled = state.webhooks.edges.find((edge: { node: { id: string } }) => edge.node.id === webhook.id).node;
      expect(disabled).toMatchObject({ enabled: false, disabledReason: expect.stringContaining("day") });
      expect(clock.now() - startedAt).toBeGreaterThan(20 * 3600_000);
      const mail = await api.waitForMail(
        (text) => text.includes(`To: ${customerAdmin.email}`) && text.includes("webhook was disabled") && text.includes(failing.url),
        "to the customer's admin",
      );
      expect(mail).toContain(failing.url);
      // Disabled: new events are not sent to it.
      const before = failing.requests.length;
      const fresh = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
      await auditSomething(api, fresh, customer.id);
      await api.jobsSettled();
      expect(failing.requests.length).toBe(before);
    } finally {
      await failing.stop();
    }
  }, 120_000);
});

describe("across a restart", () => {
  it("a delivery waiting for its retry is sent by the next instance", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-webhooks-"));
    const schema = `jobs_test_${randomBytes(6).toString("hex")}`;
    const shared = {
      DATA_DIR: dataDir,
      JOB_QUEUE_SCHEMA: schema,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "1",
      // Both instances open the same tenants' data keys (the webhook's secret).
      ...(DATABASE_URL ? { KEY_ENCRYPTION_KEY: process.env.KEY_ENCRYPTION_KEY || randomBytes(32).toString("base64"), KEY_ENCRYPTION_KEY_ID: process.env.KEY_ENCRYPTION_KEY_ID || `test-${randomBytes(4).toString("hex")}` } : {}),
    };
    const clock = new ManualClock();
    const receiver = new Receiver();
    await receiver.start();
    const port = receiver.port;
    await receiver.stop();
    let server = await Api.start(shared, { clock, webhookRetryCheckMs: 50 });
    try {
      const msp = await seed(server).msp();
      const customer = await msp.customer();
      const { webhook, secret } = await createWebhook(server, msp.token, { tenantId: customer.id, url: `http://127.0.0.1:${port}/hook` });
      const username = await auditSomething(server, msp.token, customer.id);
      await until(() => deliveryOf(server, webhook.id, username), (row) => row?.status === "RETRYING", "the first failure");
      await server.stop();

      await receiver.start(port);
      const later = new ManualClock(clock.now() + 31_000);
      server = await Api.start(shared, { clock: later, webhookRetryCheckMs: 50 });
      const [request] = await until(() => receiver.with(username), (found) => found.length > 0, "the retry after the restart", 30_000);
      expect(new StandardWebhook(secret).verify(request!.body, request!.headers)).toBeTruthy();
      const row = await until(() => deliveryOf(server, webhook.id, username), (found) => found?.status === "SUCCEEDED", "success");
      expect(row!.attempts).toBe(2);
    } finally {
      await server.stop();
      await receiver.stop();
      if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("targets outside the public internet", () => {
  /** Counts connections: a refused delivery must never open one. */
  const listener = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  let connections = 0;
  let port = 0;
  let api: Api;
  let msp: MspSeed;
  let customer: CustomerSeed;
  /** What the injected resolver answers for each name, in turn (the last answer repeats). */
  const answers = new Map<string, string[]>();

  beforeAll(async () => {
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    port = (listener.address() as { port: number }).port;
    api = await Api.start(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: "" },
      {
        webhookRetryCheckMs: 50,
        webhookResolver: async (hostname) => {
          const queue = answers.get(hostname);
          if (!queue) throw new Error(`ENOTFOUND ${hostname}`);
          const next = queue.length > 1 ? queue.shift()! : queue[0]!;
          return next.split(",").map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
        },
      },
    );
    msp = await seed(api).msp();
    customer = await msp.customer();
  });
  afterAll(async () => {
    await api?.stop();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  it.each([
    "https://127.0.0.1/hook",
    "https://127.9.9.9/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.1.2.3]/hook",
    "https://[::7f00:1]/hook",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[fe80::1]/hook",
    "https://[fd00::1]/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://224.0.0.1/hook",
    "https://[ff02::1]/hook",
    "https://[64:ff9b::a00:1]/hook",
    "https://localhost/hook",
    "http://hooks.example.com/hook",
    "https://user:pass@hooks.example.com/hook",
  ])("refuses %s when the webhook is created", async (url) => {
    answers.set("hooks.example.com", ["93.184.216.34"]);
    const data = await api.gql(CREATE, { input: { tenantId: customer.id, url, events: ["AUDIT_EVENT"] } }, { token: msp.token });
    expect(data.createWebhook).toMatchObject({ __typename: "ValidationError", code: "VALIDATION" });
  });

  it("refuses a name that resolves to a private address, in any of its answers", async () => {
    answers.set("internal.example.com", ["10.0.0.7"]);
    answers.set("mixed.example.com", ["93.184.216.34,127.0.0.1"]);
    for (const host of ["internal.example.com", "mixed.example.com"]) {
      const data = await api.gql(CREATE, { input: { tenantId: customer.id, url: `https://${host}/hook`, events: ["AUDIT_EVENT"] } }, { token: msp.token });
      expect(data.createWebhook).toMatchObject({ code: "VALIDATION", message: expect.stringContaining("not a public address") });
    }
  });

  it("checks again at delivery: a name rebound to a private address after creation is never connected to", async () => {
    const host = `rebind-${randomBytes(3).toString("hex")}.example.com`;
    // Public when the webhook is created, loopback (where something listens) when it is delivered.
    answers.set(host, ["93.184.216.34", "127.0.0.1"]);
    const { webhook } = await createWebhook(api, msp.token, { tenantId: customer.id, url: `https://${host}:${port}/hook` });
    const username = await auditSomething(api, msp.token, customer.id);
    const row = await until(() => deliveryOf(api, webhook.id, username), (found) => found !== null && found.attempts >= 1, "the refused attempt");
    expect(row!.status).toBe("RETRYING");
    expect(row!.lastError).toContain("Refused");
    expect(row!.responseCode).toBeNull();
    expect(connections).toBe(0);
  });
});

describe("isolation", () => {
  let api: Api;
  let msp: MspSeed;
  let outsider: MspSeed;
  let customer: CustomerSeed;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    api = await Api.start({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "1" }, { webhookRetryCheckMs: 50 });
    [msp, outsider] = await Promise.all([seed(api).msp(), seed(api).msp()]);
    customer = await msp.customer();
  });
  afterAll(async () => {
    await api?.stop();
    await receiver.stop();
  });

  it("every webhook operation answers another tenant like a missing id, and changes nothing", async () => {
    const { webhook } = await createWebhook(api, msp.token, { tenantId: customer.id, url: receiver.url });
    const username = await auditSomething(api, msp.token, customer.id);
    const delivery = await until(() => deliveryOf(api, webhook.id, username), (row) => row?.status === "SUCCEEDED", "a delivery");
    const missing = crypto.randomUUID();
    const attempts: [string, (id: string) => Record<string, unknown>, string][] = [
      [CREATE, (id) => ({ input: { tenantId: id, url: receiver.url, events: ["AUDIT_EVENT"] } }), "createWebhook"],
      [`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { __typename ... on Error { code } } }`, (id) => ({ input: { id, enabled: false } }), "updateWebhook"],
      [`mutation($input: DeleteWebhookInput!) { deleteWebhook(input: $input) { __typename ... on Error { code } } }`, (id) => ({ input: { id } }), "deleteWebhook"],
      [`mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { __typename ... on Error { code } } }`, (id) => ({ input: { deliveryId: id } }), "redeliverWebhook"],
    ];
    const targets: Record<string, string> = { createWebhook: customer.id, updateWebhook: webhook.id, deleteWebhook: webhook.id, redeliverWebhook: delivery!.id };
    for (const [query, variables, field] of attempts) {
      const theirs = await api.gql(query, variables(targets[field]!), { token: outsider.token });
      const none = await api.gql(query, variables(missing), { token: outsider.token });
      expect([field, theirs[field].code]).toEqual([field, "NOT_FOUND"]);
      expect(theirs[field]).toEqual(none[field]);
    }
    const lists = await api.gql(
      `query($t: ID!, $w: ID!) { webhooks(tenantId: $t) { totalCount } webhookDeliveries(webhookId: $w) { totalCount } }`,
      { t: customer.id, w: webhook.id },
      { token: outsider.token },
    );
    expect(lists).toEqual({ webhooks: null, webhookDeliveries: null });
    expect(await api.db.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).toMatchObject({ enabled: true });
    expect(await api.db.webhook.count({ where: { tenantId: customer.id } })).toBe(1);
    expect((await api.db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery!.id } })).status).toBe("SUCCEEDED");
  });

  it("an MSP key limited to some customers cannot manage the MSP-wide webhooks that carry the others' events", async () => {
    const key = await api.gql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { apiKey } } }`,
      { input: { tenantId: msp.id, name: "one customer", permissions: ["MANAGE_WEBHOOKS"], customerIds: [customer.id] } },
      { token: msp.token },
    );
    const token = key.createApiKey.apiKey;
    const mspWide = await api.gql(CREATE, { input: { tenantId: msp.id, url: receiver.url, events: ["AUDIT_EVENT"] } }, { token });
    expect(mspWide.createWebhook.code).toBe("NOT_FOUND");
    const own = await api.gql(CREATE, { input: { tenantId: customer.id, url: receiver.url, events: ["LOGIN_EVENT"] } }, { token });
    expect(own.createWebhook.__typename).toBe("CreateWebhookPayload");
  });

  it("edits and deletes a webhook for its admin", async () => {
    const { webhook } = await createWebhook(api, msp.token, { tenantId: customer.id, url: receiver.url });
    const updated = await api.gql(
      `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { ... on UpdateWebhookPayload { webhook { events description enabled } } ... on Error { code message } } }`,
      { input: { id: webhook.id, events: ["LOGIN_EVENT", "WORKSTATION_CHANGED"], description: "SIEM", enabled: false } },
      { token: msp.token },
    );
    expect(updated.updateWebhook.webhook).toEqual({ events: ["LOGIN_EVENT", "WORKSTATION_CHANGED"], description: "SIEM", enabled: false });
    const deleted = await api.gql(
      `mutation($input: DeleteWebhookInput!) { deleteWebhook(input: $input) { ... on DeleteWebhookPayload { deletedWebhookId } } }`,
      { input: { id: webhook.id } },
      { token: msp.token },
    );
    expect(deleted.deleteWebhook.deletedWebhookId).toBe(webhook.id);
    expect(await api.db.webhook.count({ where: { id: webhook.id } })).toBe(0);
  });
});
