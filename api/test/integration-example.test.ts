// The integration example (examples/integration), run the way an integrator
// runs it: its own install from its own lockfile, its codegen against the
// committed SDL, then its client against a real API, with an API key and a
// webhook pointing at its receiver. The test drives a desktop login and checks
// what the example printed against the database.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { desktopPasswordLogin } from "./password-login.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";
import type { WorkstationKeys } from "./workstation-keys.ts";

const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/integration/", import.meta.url));
const INSTALL_TIMEOUT_MS = 10 * 60_000;

type Command = { code: number | null; output: string };

/** Runs a command in the example's folder, to its end, with its output kept for the failure message. */
function run(command: string, args: string[], timeoutMs: number): Promise<Command> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: EXAMPLE_DIR, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * `npm ci` and `npm run generate` in the example, once. Only an unreachable
 * registry on a developer's machine skips the suite; in CI it fails.
 */
async function installExample(): Promise<{ skipped: string | null }> {
  const install = await run("npm", ["ci", "--no-audit", "--no-fund"], INSTALL_TIMEOUT_MS);
  if (install.code !== 0) {
    const ping = await run("npm", ["ping"], 30_000);
    if (ping.code !== 0 && !process.env.CI) {
      const reason = ping.output.split("\n").find((line) => line.startsWith("npm error") && !line.includes("complete log")) ?? "no answer";
      return { skipped: `examples/integration not tested: the npm registry is unreachable (npm ping: ${reason})` };
    }
    throw new Error(`npm ci in examples/integration failed:\n${install.output}`);
  }
  const generate = await run("npm", ["run", "generate"], 120_000);
  if (generate.code !== 0) throw new Error(`npm run generate in examples/integration failed:\n${generate.output}`);
  return { skipped: null };
}

/** A port nothing listens on now, for the example's receiver (the webhook's URL needs it first). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The example's client (`npm start`), its output read line by line as it comes. */
class ExampleRun {
  readonly lines: string[] = [];
  stderr = "";
  private readonly child: ChildProcess;
  /** Set once the process has ended and all its output has been read. */
  closed = false;
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    // Its own process group (npm, then tsx, then node), so stop() ends the whole of it.
    this.child = spawn("npm", ["start", "--silent"], { cwd: EXAMPLE_DIR, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    this.child.stdout!.on("data", (chunk: Buffer) => {
      const parts = (pending + chunk.toString("utf8")).split("\n");
      pending = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code) => {
        this.closed = true;
        resolve(code);
      }),
    );
  }

  /** The first printed line matching `pattern` (its match), waited for. */
  async line(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.lines.map((line) => pattern.exec(line)).find((found) => found !== null);
      if (match) return match;
      if (this.closed || Date.now() > deadline) {
        throw new Error(`the example printed no line matching ${pattern}${this.closed ? ` (it exited with ${this.child.exitCode})` : ""}:\n${this.transcript()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  printed(pattern: RegExp) {
    return this.lines.filter((line) => pattern.test(line));
  }

  transcript() {
    return [...this.lines, this.stderr].join("\n");
  }

  stop() {
    if (this.closed || !this.child.pid) return;
    try {
      process.kill(-this.child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}

/** A delivery as Latchkey signs it (Standard Webhooks), with `secret`'s key. */
function signed(secret: string, body: string) {
  const id = `msg_${randomBytes(12).toString("hex")}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

const ERRORS = `... on Error { code message }`;

type World = {
  msp: MspSeed;
  contoso: CustomerSeed;
  fabrikam: CustomerSeed;
  employee: SeededUser;
  workstation: WorkstationKeys;
  apiKey: string;
  webhookSecret: string;
  receiverPort: number;
};

/**
 * An MSP with two customers, an API key for the example and a webhook to its
 * receiver, as an MSP's admin sets them up in the portal.
 */
async function buildWorld(api: Api): Promise<World> {
  const msp = await seed(api).msp();
  const [contoso, fabrikam] = [await msp.customer(), await msp.customer()];
  // More users than a page of two holds, so the example pages users as well as customers.
  const employee = await contoso.user();
  await Promise.all([...Array(4)].map(() => contoso.user({ password: null })));
  await Promise.all([...Array(3)].map(() => fabrikam.user({ password: null })));

  const desktop = desktopSeed(api, msp, contoso);
  await desktop.settings({ desktopLoginEnabled: true });
  const workstation = await desktop.workstation();

  // The least the example needs: it reads the directory and follows logins.
  const { createApiKey } = await api.gql(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { apiKey } ${ERRORS} } }`,
    { input: { tenantId: msp.id, name: "Integration example", permissions: ["READ_DIRECTORY", "READ_LOGIN_EVENTS"], allCustomers: true } },
    { token: msp.token },
  );
  if (createApiKey.__typename !== "CreateApiKeyPayload") throw new Error(`createApiKey failed: ${JSON.stringify(createApiKey)}`);

  const receiverPort = await freePort();
  const { createWebhook } = await api.gql(
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename ... on CreateWebhookPayload { secret } ${ERRORS} } }`,
    { input: { tenantId: msp.id, url: `http://127.0.0.1:${receiverPort}/webhooks/latchkey`, events: ["LOGIN_EVENT"] } },
    { token: msp.token },
  );
  if (createWebhook.__typename !== "CreateWebhookPayload") throw new Error(`createWebhook failed: ${JSON.stringify(createWebhook)}`);

  return { msp, contoso, fabrikam, employee, workstation, apiKey: createApiKey.apiKey, webhookSecret: createWebhook.secret, receiverPort };
}

describe("the integration example (examples/integration)", () => {
  let skipped: string | null = null;
  let api: Api;
  let world: World;

  beforeAll(async () => {
    // The install mostly waits on the disk and the registry: the API starts and is seeded meanwhile.
    const [install, built] = await Promise.allSettled([
      installExample(),
      Api.start({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "1" }).then((started) => buildWorld((api = started))),
    ]);
    if (install.status === "rejected") throw install.reason;
    if (built.status === "rejected") throw built.reason;
    ({ skipped } = install.value);
    if (skipped) console.warn(skipped);
    world = built.value;
  }, INSTALL_TIMEOUT_MS + 180_000);
  afterAll(() => api?.stop());

  it("typechecks against the committed SDL", async ({ skip }) => {
    skip(skipped !== null, skipped ?? "");
    const typecheck = await run("npm", ["run", "typecheck"], 180_000);
    expect(typecheck.code, typecheck.output).toBe(0);
  }, 200_000);

  it("pages every customer and user, prints a login from the live feed, verifies its webhook and refuses forged ones", async ({ skip }) => {
    skip(skipped !== null, skipped ?? "");
    const { msp, contoso, fabrikam, employee, workstation, apiKey, webhookSecret, receiverPort } = world;
    const example = new ExampleRun({
      LATCHKEY_API_URL: `${api.url}/graphql`,
      LATCHKEY_API_KEY: apiKey,
      LATCHKEY_TENANT_ID: contoso.id,
      LATCHKEY_WEBHOOK_SECRET: webhookSecret,
      LATCHKEY_RECEIVER_PORT: String(receiverPort),
      LATCHKEY_CUSTOMERS_PAGE_SIZE: "1",
      LATCHKEY_USERS_PAGE_SIZE: "2",
      LATCHKEY_WAIT_SECONDS: "120",
    });
    try {
      await example.line(/^Webhook receiver listening on port \d+$/, 120_000);
      // Deliveries it must refuse: no signature at all, and one made with another secret.
      const receiverUrl = `http://127.0.0.1:${receiverPort}/webhooks/latchkey`;
      const forgedBody = JSON.stringify({ type: "LOGIN_EVENT", timestamp: new Date().toISOString(), data: { tenantId: contoso.id, outcome: "SUCCEEDED" } });
      const unsigned = await fetch(receiverUrl, { method: "POST", headers: { "content-type": "application/json" }, body: forgedBody });
      const forged = await fetch(receiverUrl, { method: "POST", headers: signed(`whsec_${randomBytes(32).toString("base64")}`, forgedBody), body: forgedBody });
      expect([unsigned.status, forged.status]).toEqual([400, 400]);

      // Logins at Contoso's workstation until the feed pushes one: graphql-ws does not say when the server has subscribed.
      await example.line(/^Waiting for login events of tenant /);
      const loginEvent = async () => {
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline && !example.closed) {
          const login = (await desktopPasswordLogin(api, () => workstation.credential(), employee.username, PASSWORD)) as { __typename: string };
          expect(login.__typename).toBe("DesktopLoginPayload");
          const printed = await example.line(/^Login event: (.+)$/, 1_000).catch(() => null);
          if (printed) return JSON.parse(printed[1]!) as Record<string, unknown>;
        }
        throw new Error(`no login event printed after logins for up to 2 minutes:\n${example.transcript()}`);
      };
      const pushed = await loginEvent();
      expect(await example.exited, example.transcript()).toBe(0);

      // Every customer of the MSP with every one of its users, each once, as the database has them.
      const customers = await api.db.tenant.findMany({ where: { parentId: msp.id }, select: { id: true, users: { select: { id: true, email: true } } } });
      const listed = new Map<string, string[]>();
      let current: string[] = [];
      for (const line of example.lines) {
        const customer = /^Customer (\S+) /.exec(line);
        if (customer) listed.set(customer[1]!, (current = []));
        const user = /^ {2}user (\S+) (\S+)$/.exec(line);
        if (user) current.push(`${user[1]} ${user[2]}`);
      }
      expect(customers.map((customer) => customer.id).sort()).toEqual([contoso.id, fabrikam.id].sort());
      expect([...listed.keys()].sort()).toEqual(customers.map((customer) => customer.id).sort());
      for (const customer of customers) {
        expect(listed.get(customer.id)!.sort()).toEqual(customer.users.map((user) => `${user.id} ${user.email}`).sort());
      }
      expect(example.printed(/^Listed 2 customers and 8 users$/)).toHaveLength(1);

      // The login event from the live feed, as the database recorded it.
      const recorded = await api.db.loginEvent.findUnique({ where: { id: String(pushed.id) } });
      expect(recorded).toMatchObject({ tenantId: contoso.id, workstationId: workstation.workstationId, username: employee.username, outcome: "SUCCEEDED" });
      expect(pushed).toMatchObject({ username: employee.username, outcome: "SUCCEEDED", method: "PASSWORD" });

      // A delivery from the API, verified: a login at Contoso's workstation.
      const [verified] = example.printed(/^Webhook verified: /);
      const [, deliveryId, type, data] = /^Webhook verified: (\S+) (\S+) (.+)$/.exec(verified ?? "") ?? [];
      expect(await api.db.webhookDelivery.count({ where: { id: deliveryId } })).toBe(1);
      expect(type).toBe("LOGIN_EVENT");
      const login = await api.db.loginEvent.findUnique({ where: { id: String(JSON.parse(data!).id) } });
      expect(login).toMatchObject({ tenantId: contoso.id, workstationId: workstation.workstationId });
      // …and the two forged ones refused, each said so.
      expect(example.printed(/^Webhook refused: /)).toHaveLength(2);
    } finally {
      example.stop();
    }
  }, 300_000);
});
