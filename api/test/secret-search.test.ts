// Where a directory password must never be: every flow that involves one runs
// here through a recording proxy in front of the API (HTTP bodies both ways,
// every WebSocket message), with Redis MONITOR watching when REDIS_URL is set;
// then the HTTP and WebSocket traffic, the Redis commands, every row of the
// database and every log line are searched for each password, as typed and
// encoded (base64 at each alignment, base64url, hex, UTF-16LE, percent-encoded,
// JSON-escaped). The flows run with the `v1` key-stretching profile, end to
// end: sign-up, portal log in, an admin creating a user and resetting a
// password, a user changing their own, and the real desktop agent's password
// and QR logins.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createConnection, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { logInWithPassword, proveLogin, registerPassword, type RunOperation } from "@latchkey/passwords";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { desktopSeed } from "./desktop-seed.ts";
import { Api, postGraphql, unique } from "./harness.ts";

const AGENT_BIN = fileURLToPath(new URL("../../clients/desktop/bin/desktop-agent.mjs", import.meta.url));

/** Everything that crossed the proxy, as bytes read one-to-one as latin1 text. */
class RecordingProxy {
  readonly traffic: string[] = [];
  private readonly sockets = new WebSocketServer({ noServer: true });
  private server: Server | null = null;
  url = "";

  constructor(private readonly upstream: string) {}

  async start() {
    this.server = createServer((req, res) => void this.forward(req, res));
    this.server.on("upgrade", (req, socket, head) => {
      this.sockets.handleUpgrade(req, socket, head, (client) => this.relay(req, client));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async forward(req: IncomingMessage, res: import("node:http").ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    this.traffic.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${body.toString("latin1")}`);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !["host", "content-length", "connection"].includes(name))) as Record<string, string>;
    const answer = await fetch(`${this.upstream}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined });
    const text = Buffer.from(await answer.arrayBuffer());
    this.traffic.push(`${answer.status}\n${JSON.stringify([...answer.headers])}\n${text.toString("latin1")}`);
    const out: Record<string, string | string[]> = {};
    answer.headers.forEach((value, name) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection", "set-cookie"].includes(name)) out[name] = value;
    });
    const cookies = answer.headers.getSetCookie();
    if (cookies.length) out["set-cookie"] = cookies;
    res.writeHead(answer.status, out).end(text);
  }

  private relay(req: IncomingMessage, client: WebSocket) {
    const protocol = req.headers["sec-websocket-protocol"];
    const upstream = new WebSocket(`${this.upstream.replace("http", "ws")}${req.url}`, protocol ? protocol.split(",").map((p) => p.trim()) : [], {
      headers: req.headers.origin ? { origin: req.headers.origin } : {},
    });
    const queued: WebSocket.RawData[] = [];
    client.on("message", (data) => {
      this.traffic.push(`ws> ${Buffer.from(data as Buffer).toString("latin1")}`);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: false });
      else queued.push(data);
    });
    upstream.on("open", () => queued.splice(0).forEach((data) => upstream.send(data, { binary: false })));
    upstream.on("message", (data) => {
      this.traffic.push(`ws< ${Buffer.from(data as Buffer).toString("latin1")}`);
      client.send(data, { binary: false });
    });
    upstream.on("close", (code, reason) => client.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000, reason));
    client.on("close", () => upstream.close());
    upstream.on("error", () => client.terminate());
    client.on("error", () => upstream.terminate());
  }

  async stop() {
    for (const client of this.sockets.clients) client.terminate();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A password as it could show up when something wrote it down. */
function encodings(password: string): string[] {
  const bytes = Buffer.from(password, "utf8");
  const forms = [
    password,
    bytes.toString("hex"),
    bytes.toString("hex").toUpperCase(),
    Buffer.from(password, "utf16le").toString("latin1"),
    encodeURIComponent(password),
    JSON.stringify(password).slice(1, -1),
  ];
  // base64 and base64url at each of the three alignments a password can start at; only the
  // characters that depend on the password alone.
  for (let offset = 0; offset < 3; offset += 1) {
    const padded = Buffer.concat([Buffer.alloc(offset, 0x41), bytes]);
    const skip = Math.ceil((offset * 4) / 3);
    const whole = Math.floor(((offset + bytes.length) * 4) / 3) - 1;
    for (const encoding of ["base64", "base64url"] as const) forms.push(padded.toString(encoding).slice(skip + 1, whole));
  }
  return forms;
}

function findIn(haystack: string[], password: string) {
  const found: string[] = [];
  for (const form of encodings(password)) {
    for (const text of haystack) if (text.includes(form)) found.push(`${JSON.stringify(form)} in ${text.slice(0, 200)}`);
  }
  return found;
}

let api: Api;
let proxy: RecordingProxy;
let monitor: Socket | null = null;
const commands: string[] = [];

/**
 * Redis MONITOR on a socket of its own, read as Redis writes it: one line per
 * command, each argument quoted with `\"`, `\\`, `\n`… and `\xHH` escapes
 * (non-ASCII bytes arrive as `\xHH` and are decoded back to UTF-8 here).
 */
async function watchRedis(url: string) {
  const { hostname, port } = new URL(url);
  const socket = createConnection({ host: hostname, port: Number(port || 6379) });
  await once(socket, "connect");
  let pending = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\r\n");
    pending = lines.pop()!;
    for (const line of lines) if (line.startsWith("+") && line !== "+OK") commands.push(monitoredArguments(line));
  });
  socket.write("MONITOR\r\n");
  return socket;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", '"': '"', "\\": "\\" };

/** A MONITOR line's arguments, unquoted and joined by spaces. */
function monitoredArguments(line: string) {
  const quoted = line.slice(line.indexOf("]") + 1).match(/"(?:[^"\\]|\\.)*"/g) ?? [];
  return quoted
    .map((argument) => {
      const latin1 = argument.slice(1, -1).replace(/\\x([0-9a-f]{2})|\\(.)/gi, (_, hex: string | undefined, char: string | undefined) =>
        hex ? String.fromCharCode(parseInt(hex, 16)) : (ESCAPES[char!] ?? char!),
      );
      return Buffer.from(latin1, "latin1").toString("utf8");
    })
    .join(" ");
}

let dir: string;

beforeAll(async () => {
  api = await Api.start({ PASSWORD_KSF: "v1" });
  proxy = new RecordingProxy(api.url);
  await proxy.start();
  if (process.env.REDIS_URL) monitor = await watchRedis(process.env.REDIS_URL);
  dir = await mkdtemp(join(tmpdir(), "latchkey-secret-search-"));
});
afterAll(async () => {
  monitor?.destroy();
  await proxy?.stop();
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** GraphQL through the recording proxy, as a client would send it. */
function through(token?: string | null, headers: Record<string, string> = {}): RunOperation {
  return async (query, variables) => {
    const { body } = await postGraphql(`${proxy.url}/graphql`, query, variables, { token, headers });
    if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
    return body.data as Record<string, any>;
  };
}

function agent(statePath: string, args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_BIN, ...args, "--api", `${proxy.url}/graphql`, "--state", statePath]);
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill(), 90_000);
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end("");
  });
}

/** Every row of every table the API writes, the job queue's included, as text. */
async function databaseDump(): Promise<string[]> {
  const tables = await api.db.$queryRawUnsafe<{ schema: string; name: string }[]>(
    `SELECT table_schema::text AS schema, table_name::text AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["User", "PasswordLogin", "PasswordRegistration", "TenantKeyPair", "AuditEvent"]));
  const rows: string[] = [];
  for (const { schema, name } of tables) {
    let found: { row: string }[];
    try {
      found = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${name}" t`);
    } catch (error) {
      // On CI's shared database another test file may drop its own job-queue schema between the
      // listing and this read: a table that no longer exists holds nothing of this test's.
      if (/\b42P01\b/.test(String((error as Error).message))) continue;
      throw error;
    }
    rows.push(...found.map((r) => r.row));
  }
  return rows;
}

describe("a directory password", () => {
  it("is in no request, response, WebSocket message, Redis command, database row or log line, in any encoding", async () => {
    const passwords = {
      signUp: `Orbit lantern ${unique("s")} cascade`,
      created: `Quiet harbour ${unique("c")} meadow`,
      reset: `Amber falcon ${unique("r")} river`,
      changed: `Copper willow ${unique("w")} summit`,
      wrong: `Nearly right ${unique("x")} guess`,
    };
    const slug = unique("msp").toLowerCase();
    const email = `admin@${slug}.test`;

    // Sign-up and portal log in, through the proxy as a browser's client would.
    const { registrationId } = await registerPassword(through(), { password: passwords.signUp });
    const { signUpMsp } = await through()(
      `mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename ... on AuthPayload { token tenant { id } } ... on Error { code message } } }`,
      { input: { slug, displayName: "Secret search", firstName: "Ada", lastName: "Admin", email, passwordRegistrationId: registrationId } },
    );
    expect(signUpMsp.__typename).toBe("AuthPayload");
    const adminToken = signUpMsp.token as string;
    expect((await logInWithPassword(through(), { tenant: slug, login: email, password: passwords.signUp, tokenDelivery: "COOKIE" })).__typename).toBe("AuthPayload");
    await expect(logInWithPassword(through(), { tenant: slug, login: email, password: passwords.wrong })).rejects.toThrow(/Incorrect/);

    // An admin creates a customer user with a password, then resets it.
    const { createCustomer } = await through(adminToken)(
      `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename ... on CreateCustomerPayload { customer { id slug name } } } }`,
      { input: { name: unique("c").toLowerCase(), displayName: "Customer" } },
    );
    const customer = createCustomer.customer as { id: string; slug: string; name: string };
    const username = unique("u").slice(0, 20);
    const created = await registerPassword(through(adminToken), { tenant: customer.id, password: passwords.created });
    const { createUser } = await through(adminToken)(
      `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserPayload { user { id } } ... on Error { code message } } }`,
      { input: { tenantId: customer.id, firstName: "Grace", lastName: "User", username, email: `${username}@example.test`, role: "USER", passwordRegistrationId: created.registrationId } },
    );
    const userId = createUser.user.id as string;
    const SET = `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename ... on Error { code message } } }`;
    const reset = await registerPassword(through(adminToken), { userId, password: passwords.reset });
    expect((await through(adminToken)(SET, { input: { userId, passwordRegistrationId: reset.registrationId } })).setUserPassword.__typename).toBe("SetUserPasswordPayload");

    // The user changes their own, proving the current one.
    const login = await logInWithPassword(through(), { tenant: customer.slug, login: username, password: passwords.reset });
    const userToken = login.token as string;
    const next = await registerPassword(through(userToken), { userId, password: passwords.changed });
    const { serverPublicKey: _key, ...proof } = await proveLogin(through(), { tenant: customer.slug, login: username, password: passwords.reset });
    const change = await through(userToken)(SET, { input: { userId, passwordRegistrationId: next.registrationId, currentPasswordLogin: proof } });
    expect(change.setUserPassword.__typename).toBe("SetUserPasswordPayload");

    // The desktop agent's password login and QR login, through the proxy.
    const msp = { id: signUpMsp.tenant.id, slug, token: adminToken, adminEmail: email } as never;
    const desk = desktopSeed(api, msp, { ...customer } as never);
    await desk.settings({ desktopLoginEnabled: true, method: "PASSWORDLESS", passwordFallback: true });
    const token = await desk.installToken({ autoApprove: true });
    const state = join(dir, "ws.json");
    expect((await agent(state, ["enroll", "--token", token.secret, "--hostname", "SEARCH-01"])).code).toBe(0);
    const typed = await agent(state, ["login", "--username", username, "--password", passwords.changed, "--json"]);
    expect(typed.code, typed.stderr).toBe(0);
    expect(JSON.parse(typed.stdout)).toMatchObject({ outcome: "CREATED" });
    const wrong = await agent(state, ["login", "--username", username, "--password", passwords.wrong]);
    expect(wrong.stderr).toMatch(/INVALID_CREDENTIALS/);
    const phone = await desk.phone({ id: userId, email: `${username}@example.test`, username } as never, join(dir, "phone.json"));
    const qr = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [AGENT_BIN, "qr-login", "--json", "--api", `${proxy.url}/graphql`, "--state", state]);
      let stdout = "";
      let stderr = "";
      let approved = false;
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        const payload = /^Code: (\S+)$/m.exec(stderr)?.[1];
        if (!approved && payload) {
          approved = true;
          void phone.approve(payload).catch(reject);
        }
      });
      child.on("close", (code) => resolve({ code, stdout, stderr }));
      child.stdin.end("");
    });
    const qrRun = await qr;
    expect(qrRun.code, qrRun.stderr).toBe(0);
    expect(JSON.parse(qrRun.stdout)).toMatchObject({ method: "QR" });

    await api.jobsSettled();
    const haystacks = {
      "HTTP and WebSocket traffic": proxy.traffic,
      "Redis commands": commands,
      "database rows": await databaseDump(),
      "log lines": api.logs,
    };
    expect(proxy.traffic.some((text) => text.startsWith("ws> "))).toBe(true);
    if (monitor) expect(commands.length).toBeGreaterThan(0);
    for (const [where, haystack] of Object.entries(haystacks)) {
      for (const [name, password] of Object.entries(passwords)) expect(findIn(haystack, password), `${name} password in ${where}`).toEqual([]);
    }
    // The search itself finds what it looks for.
    expect(findIn([`x${Buffer.from(`ab${passwords.created}`).toString("base64")}`], passwords.created)).not.toEqual([]);
    expect(findIn([JSON.stringify({ p: passwords.created })], passwords.created)).not.toEqual([]);
  }, 240_000);
});
