// Starts the real API on a free loopback port with real HTTP and WebSocket
// clients. Embedded PGlite by default; PostgreSQL and Redis when DATABASE_URL /
// REDIS_URL are set (as in CI).
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "graphql-ws";
import type { RunOperation } from "@latchkey/passwords";
import { createServerSetup } from "@latchkey/schema";
import pg from "pg";
import WebSocket from "ws";
import { buildApp, type App } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { currentRequestId } from "../src/log.ts";
import type { CostReport } from "../src/plugins/operation-cost.ts";
import type { HostResolver } from "../src/webhook-sender.ts";

export type GqlResult<T = Record<string, any>> = {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: { cost?: CostReport } & Record<string, unknown>;
};

/**
 * What an answer says, without what the operation cost: the budget left in
 * `extensions.cost` moves with every request, so answers are compared without it.
 */
export function answerOf<T>(body: GqlResult<T>): Omit<GqlResult<T>, "extensions"> {
  const { extensions: _cost, ...answer } = body;
  return answer;
}

export type RequestOptions = { token?: string | null; headers?: Record<string, string> };

/** A clock a test moves by hand: sessions expire when the test says so, not when the machine gets round to it. */
export class ManualClock {
  constructor(private current = Date.now()) {}

  now() {
    return this.current;
  }

  advance(ms: number) {
    this.current += ms;
  }
}

export type StartOptions = {
  clock?: ManualClock;
  auditExportPageSize?: number;
  beforeAuditExportPage?: (pagesSent: number) => Promise<void>;
  /** Answers webhook targets' names instead of DNS. */
  webhookResolver?: HostResolver;
  /** How often the server looks for due webhook retries. */
  webhookRetryCheckMs?: number;
};

/** The secrets this test file's servers share when the environment gives none (each test file runs in a process of its own). */
const TEST_FILE_SECRETS = {
  keyEncryptionKey: randomBytes(32).toString("base64"),
  keyEncryptionKeyId: `test-${randomBytes(6).toString("hex")}`,
  deviceCookieKey: randomBytes(32).toString("base64"),
  emailCodeKey: randomBytes(32).toString("base64"),
  loginStateKey: randomBytes(32).toString("base64"),
};

export class Api {
  private readonly sockets: Client[] = [];

  private constructor(
    readonly app: App,
    readonly url: string,
    readonly dataDir: string,
    /** Whether stop() removes dataDir: not when the test passed its own DATA_DIR to reuse. */
    private readonly ownsDataDir: boolean,
    /** The job queue's PostgreSQL schema, when this server made one up and stop() drops it. */
    private readonly ownedJobSchema: { databaseUrl: string; schema: string } | null,
    /** Every line the API logged, for checks that secrets never reach the log. */
    readonly logs: string[],
    /** Every SQL statement sent, for checks against N+1 queries. */
    readonly queries: string[],
    /**
     * The request each statement of `queries` was sent for (same index), or
     * undefined for background work (jobs, pollers, refreshes), so a check on
     * one request's statements is not disturbed by a timer firing meanwhile.
     */
    readonly queryRequests: (string | undefined)[],
  ) {}

  /**
   * Two instances of one deployment, as behind a load balancer: the same keys
   * (and `env`) on both, each with its own process state and caches.
   */
  static async startPair(env: Record<string, string> = {}): Promise<[Api, Api]> {
    const deployment = {
      KEY_ENCRYPTION_KEY: process.env.KEY_ENCRYPTION_KEY || randomBytes(32).toString("base64"),
      KEY_ENCRYPTION_KEY_ID: process.env.KEY_ENCRYPTION_KEY_ID || `test-${randomBytes(4).toString("hex")}`,
      EMAIL_CODE_KEY: process.env.EMAIL_CODE_KEY || randomBytes(32).toString("base64"),
      ...env,
    };
    return Promise.all([Api.start(deployment), Api.start(deployment)]);
  }

  /**
   * `env` overrides the test defaults; an empty string unsets a variable (e.g.
   * `DATABASE_URL: ""` for the embedded database even when CI sets one). A
   * DATA_DIR passed here is kept on stop(), so a later start can reuse it.
   */
  static async start(env: Record<string, string> = {}, options: StartOptions = {}): Promise<Api> {
    const ownsDataDir = !env.DATA_DIR;
    const dataDir = env.DATA_DIR || (await mkdtemp(join(tmpdir(), "latchkey-test-")));
    const logs: string[] = [];
    const settings: Record<string, string | undefined> = {
      DATABASE_URL: process.env.DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL,
      // CI exports one key for every instance; without it the embedded default
      // generates one under this test's DATA_DIR.
      KEY_ENCRYPTION_KEY: process.env.KEY_ENCRYPTION_KEY,
      KEY_ENCRYPTION_KEY_ID: process.env.KEY_ENCRYPTION_KEY_ID,
      DEVICE_COOKIE_KEY: process.env.DEVICE_COOKIE_KEY,
      EMAIL_CODE_KEY: process.env.EMAIL_CODE_KEY,
      OPAQUE_SERVER_SETUP: process.env.OPAQUE_SERVER_SETUP,
      LOGIN_STATE_KEY: process.env.LOGIN_STATE_KEY,
      // Cheap key stretching, so suites can run many logins; one test per flow uses v1.
      PASSWORD_KSF: process.env.PASSWORD_KSF || "test",
      NODE_ENV: "test",
      DATA_DIR: dataDir,
      LOG_LEVEL: "info",
      WEB_ORIGIN: "http://portal.test",
      // Every test signs up from 127.0.0.1; the sign-up limit has its own test.
      SIGNUPS_PER_HOUR_PER_IP: "100000",
      // Counters in a shared Redis must not carry over between test servers.
      RATE_LIMIT_NAMESPACE: `test-${process.pid}-${Date.now().toString(36)}`,
      // Tests drive portal sessions with documents of their own; trusted-documents.test.ts holds them to a manifest.
      PORTAL_DOCUMENTS: "any",
      ...env,
    };
    if (settings.DATABASE_URL && !settings.KEY_ENCRYPTION_KEY) {
      // The API refuses PostgreSQL without a key-encryption key. This test
      // file's servers get their own, under an id of their own, so their keys in
      // a database shared with other test files are never mistaken for theirs.
      settings.KEY_ENCRYPTION_KEY = TEST_FILE_SECRETS.keyEncryptionKey;
      settings.KEY_ENCRYPTION_KEY_ID = TEST_FILE_SECRETS.keyEncryptionKeyId;
    }
    // The same for the other secrets PostgreSQL deployments must be given: one
    // value per test file, so a server restarted on its queue is the same deployment.
    if (settings.DATABASE_URL) settings.DEVICE_COOKIE_KEY ||= TEST_FILE_SECRETS.deviceCookieKey;
    if (settings.DATABASE_URL && !settings.EMAIL_CODE_KEY) settings.EMAIL_CODE_KEY = TEST_FILE_SECRETS.emailCodeKey;
    if (settings.DATABASE_URL) settings.LOGIN_STATE_KEY ||= TEST_FILE_SECRETS.loginStateKey;
    // A database records the one server setup it accepts: every test server on it must share it.
    if (settings.DATABASE_URL && !settings.OPAQUE_SERVER_SETUP) settings.OPAQUE_SERVER_SETUP = await serverSetupFor(settings.DATABASE_URL);
    // On a database shared with other test files, a queue of its own, so no
    // other server runs this one's jobs (they would mail into its own outbox).
    let ownedJobSchema: { databaseUrl: string; schema: string } | null = null;
    if (settings.DATABASE_URL && !settings.JOB_QUEUE_SCHEMA) {
      settings.JOB_QUEUE_SCHEMA = `jobs_test_${randomBytes(6).toString("hex")}`;
      ownedJobSchema = { databaseUrl: settings.DATABASE_URL, schema: settings.JOB_QUEUE_SCHEMA };
    }
    const config = loadConfig(settings);
    const queries: string[] = [];
    const queryRequests: (string | undefined)[] = [];
    const app = await buildApp(config, {
      logDestination: { write: (line) => void logs.push(line) },
      onQuery: (sql) => {
        queries.push(sql);
        queryRequests.push(currentRequestId());
      },
      clock: options.clock,
      auditExportPageSize: options.auditExportPageSize,
      beforeAuditExportPage: options.beforeAuditExportPage,
      webhookResolver: options.webhookResolver,
      webhookRetryCheckMs: options.webhookRetryCheckMs,
    });
    const url = await app.start(0, "127.0.0.1");
    return new Api(app, url, dataDir, ownsDataDir, ownedJobSchema, logs, queries, queryRequests);
  }

  /** The statements requests sent since `queries` had `from` entries; background work (jobs, pollers) left out. */
  requestQueriesSince(from: number): string[] {
    return this.queries.slice(from).filter((_, i) => this.queryRequests[from + i] !== undefined);
  }

  get db() {
    return this.app.services.db;
  }

  /** Emails the API wrote to its outbox (DATA_DIR/outbox), oldest first, as raw text. */
  outbox(): Promise<string[]> {
    return readOutbox(this.dataDir);
  }

  /** The code of the next verification email to `address` (mail goes out from a job, after the request). */
  emailedCode(address: string): Promise<string> {
    return emailedCodeIn(this.dataDir, address);
  }

  /** Waits for an email matching `matches` in the outbox, and returns it. */
  waitForMail(matches: (mail: string) => boolean, what: string, timeoutMs?: number) {
    return waitForMailIn([this.dataDir], matches, what, timeoutMs);
  }

  /** Waits until no job is waiting, waiting for a retry, or running. */
  async jobsSettled(timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while ((await this.app.jobs.pending()) > 0) {
      if (Date.now() > deadline) throw new Error(`jobs still pending after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}) {
    return postGraphql<T>(`${this.url}/graphql`, query, variables, options);
  }

  /** For @latchkey/passwords' flows: runs an operation with this token (if any). */
  run(token?: string | null): RunOperation {
    return (query, variables) => this.gql(query, variables, { token });
  }

  /** Runs an operation and returns `data`, failing on any GraphQL error. */
  async gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}) {
    const { body } = await this.request<T>(query, variables, options);
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  /** A graphql-ws client authenticated in connectionParams. */
  ws(token?: string, headers: Record<string, string> = {}) {
    const client = createClient({
      url: `${this.url.replace("http", "ws")}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers });
        }
      },
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
    this.sockets.push(client);
    return client;
  }

  async stop() {
    await Promise.all(this.sockets.map((socket) => socket.dispose()));
    await this.app.stop();
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
    if (this.ownedJobSchema) await dropSchema(this.ownedJobSchema.databaseUrl, this.ownedJobSchema.schema);
  }
}

/** Collects a subscription's events until it completes (or `count` arrive). */
export function subscribe<T = Record<string, any>>(client: Client, query: string, variables: Record<string, unknown>) {
  const events: GqlResult<T>[] = [];
  let completed = false;
  let failure: unknown = null;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((wake) => wake());
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        events.push(value as GqlResult<T>);
        notify();
      },
      error: (error) => {
        failure = error;
        completed = true;
        notify();
      },
      complete: () => {
        completed = true;
        notify();
      },
    },
  );
  const until = async (done: () => boolean, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; events: ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, Math.min(left, 200));
      });
    }
  };
  return {
    events,
    get completed() {
      return completed;
    },
    get failure() {
      return failure;
    },
    waitForEvents: (count: number) => until(() => events.length >= count, `${count} events`),
    /**
     * graphql-ws gives no signal that the server has subscribed, so the action
     * that should produce an event is repeated until the first one arrives.
     */
    async triggerUntilEvent(action: () => Promise<unknown>, attempts = 20) {
      for (let attempt = 0; attempt < attempts && events.length === 0 && !completed; attempt += 1) {
        await action();
        await until(() => events.length > 0 || completed, "an event", 250).catch(() => undefined);
      }
      if (events.length === 0) throw new Error(`No event after ${attempts} attempts${failure ? `: ${JSON.stringify(failure)}` : ""}`);
    },
    waitForCompletion: (timeoutMs?: number) => until(() => completed, "completion", timeoutMs),
    unsubscribe,
  };
}

/** One GraphQL operation over HTTP POST, as the clients send it. */
export async function postGraphql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  options: RequestOptions & { timeoutMs?: number } = {},
) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
    ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
  });
  return { response, body: (await response.json()) as GqlResult<T> };
}

/** The Set-Cookie line of the cookie `name` in a response (it may set several). */
export function setCookieLine(response: Response, name = "__Secure-latchkey_session"): string {
  return response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`)) ?? "";
}

/** Emails an API wrote to `dataDir`/outbox, oldest first, as raw text. */
export async function readOutbox(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, "outbox");
  const names = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(names.sort().map((name) => readFile(join(dir, name), "utf8")));
}

/** How many verification codes to each address (per set of outboxes) a test has already been handed. */
const codesHandedOut = new Map<string, number>();

/**
 * The code of the next verification email to `address` in any of these
 * outboxes: the first not handed out before, waited for, as a job sends it
 * after the request has been answered.
 */
export async function emailedCodeIn(dataDirs: string | string[], address: string, timeoutMs = 20_000): Promise<string> {
  const dirs = [dataDirs].flat();
  const key = `${dirs.join("\n")}\n${address.toLowerCase()}`;
  const seen = codesHandedOut.get(key) ?? 0;
  const codes = async () => {
    const mails = (await Promise.all(dirs.map(readOutbox))).flat();
    return mails
      .filter((mail) => mail.toLowerCase().includes(`to: ${address.toLowerCase()}`))
      .map((mail) => /verification code is (\d{6,10})/.exec(mail)?.[1])
      .filter((code): code is string => Boolean(code));
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await codes();
    if (found.length > seen) {
      codesHandedOut.set(key, found.length);
      return found.at(-1)!;
    }
    if (Date.now() > deadline) throw new Error(`no new code emailed to ${address} in ${dirs.join(", ")} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for an email matching `matches` in any of these outboxes. */
export async function waitForMailIn(dataDirs: string[], matches: (mail: string) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = (await Promise.all(dataDirs.map(readOutbox))).flat().find(matches);
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no email ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The OPAQUE server setup of the test servers on one PostgreSQL database
 * (without OPAQUE_SERVER_SETUP exported): kept beside the system's temporary
 * files, made by whichever test file needs it first.
 */
export async function serverSetupFor(databaseUrl: string): Promise<string> {
  const file = join(tmpdir(), `latchkey-test-opaque-${createHash("sha256").update(databaseUrl).digest("hex").slice(0, 16)}`);
  await writeFile(file, await createServerSetup(), { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  return (await readFile(file, "utf8")).trim();
}

/** Removes a job queue's tables from a database the tests share. */
export async function dropSchema(databaseUrl: string, schema: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

let counter = 0;
/** Unique names per run, so tests can share one PostgreSQL database. */
export function unique(prefix: string) {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${process.pid.toString(36)}${counter}`.slice(0, 24);
}
