// Starts the real API and the built portal for browser tests, each on a free loopback port.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as opaque from "@serenity-kit/opaque";

const require = createRequire(import.meta.url);
const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const apiMain = resolve(webDir, "../api/src/main.ts");

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/** A child process in its own process group, so stopping it also stops what it spawned. */
class Server {
  private output = "";
  private exited: string | null = null;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      // The tail is what explains a failure; the rest would only flood the log.
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.child.on("exit", (code, signal) => {
      this.exited = `exited with ${signal ?? code}`;
    });
  }

  get log() {
    return this.output;
  }

  async waitFor(url: string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.name} ${this.exited} before ${url} answered:\n${this.output}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((wake) => setTimeout(wake, 250));
    }
    throw new Error(`${this.name}: ${url} did not answer 200 within ${timeoutMs} ms:\n${this.output}`);
  }

  async stop() {
    if (this.exited || this.child.pid === undefined) return;
    const gone = new Promise((done) => this.child.once("exit", done));
    process.kill(-this.child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (!this.exited && this.child.pid !== undefined) process.kill(-this.child.pid, "SIGKILL");
    }, 10_000);
    await gone;
    clearTimeout(timer);
  }
}

export type Stack = {
  apiUrl: string;
  webUrl: string;
  /** The API's DATA_DIR: its embedded database and, without SMTP, its outbox. */
  dataDir: string;
  api: Server;
  web: Server;
  /** Emails the API wrote to DATA_DIR/outbox, oldest first, as raw text. */
  outbox: () => Promise<string[]>;
  /** The code of the next verification email to `address` (a job sends it after the request). */
  emailedCode: (address: string) => Promise<string>;
  stop: () => Promise<void>;
};

/** What `next build` reads: a build older than any of these is stale. */
const BUILD_INPUTS = ["src", "next.config.ts", "package.json", "tsconfig.json", "../clients/passwords/src"];
/**
 * Rewritten by every `npm run generate` (turbo runs it before typecheck) even when nothing
 * changed; its documents come from the files under src/ that are checked anyway.
 */
const GENERATED = join(webDir, "src", "gql");

function newestChange(path: string): number {
  if (path === GENERATED) return 0;
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * `next build` when there is no build, or when the portal's sources changed since the last one
 * (turbo's test task already depends on build; this keeps `npm test` honest without turbo).
 */
function buildPortalIfStale() {
  const buildId = join(webDir, ".next", "BUILD_ID");
  if (existsSync(buildId)) {
    const built = statSync(buildId).mtimeMs;
    if (Math.max(...BUILD_INPUTS.map((input) => newestChange(join(webDir, input)))) <= built) return;
    console.info("portal sources changed since the last build: rebuilding");
  }
  const result = spawnSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], {
    cwd: webDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`next build failed with ${result.status ?? result.signal}`);
}

/**
 * The OPAQUE server setup every test server on one PostgreSQL database shares (the database
 * records the one it accepts): the same file the API's test harness keeps beside the system's
 * temporary files, made by whichever test needs it first.
 */
async function serverSetupFor(databaseUrl: string): Promise<string> {
  const file = join(tmpdir(), `latchkey-test-opaque-${createHash("sha256").update(databaseUrl).digest("hex").slice(0, 16)}`);
  await opaque.ready;
  await writeFile(file, opaque.server.createSetup(), { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  return (await readFile(file, "utf8")).trim();
}

/**
 * The API and the built portal. `sameOrigin`: the portal's front server serves the API at
 * its own `/graphql`, as `npm start` does, so every tenant's address (`<slug>.localhost`)
 * works; otherwise the browser talks to the API's own origin.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  buildPortalIfStale();
  // A port found free is released before its server binds it, so another process starting
  // meanwhile (the portal's own Next.js, another test file's stack) can take it first; such a
  // start is retried on fresh ports rather than failing the suite.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnFreePorts(options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("EADDRINUSE")) throw error;
    }
  }
}

type StackOptions = { apiEnv?: Record<string, string>; sameOrigin?: boolean };

async function startStackOnFreePorts(options: StackOptions): Promise<Stack> {
  const [apiPort, webPort] = [await freePort(), await freePort()];
  const dataDir = await mkdtemp(join(tmpdir(), "latchkey-web-test-"));
  const apiUrl = `http://localhost:${apiPort}`;
  const webUrl = `http://localhost:${webPort}`;

  const api = new Server("API", process.execPath, [require.resolve("tsx/cli"), apiMain], {
    cwd: resolve(webDir, "../api"),
    env: {
      ...process.env,
      API_HOST: "127.0.0.1",
      API_PORT: String(apiPort),
      DATA_DIR: dataDir,
      WEB_ORIGIN: webUrl,
      // With REDIS_URL set, rate-limit counters are shared with every other test run on this machine.
      SIGNUPS_PER_HOUR_PER_IP: "100000",
      // Its own rate-limit counters: others on this machine's Redis must not spend this run's budget.
      RATE_LIMIT_NAMESPACE: `web-test-${process.pid}-${Date.now().toString(36)}`,
      // Required with PostgreSQL; CI exports one, a local run gets its own.
      ...(process.env.DATABASE_URL && !process.env.EMAIL_CODE_KEY ? { EMAIL_CODE_KEY: randomBytes(32).toString("base64") } : {}),
      ...(process.env.DATABASE_URL && !process.env.LOGIN_STATE_KEY ? { LOGIN_STATE_KEY: randomBytes(32).toString("base64") } : {}),
      ...(process.env.DATABASE_URL && !process.env.OPAQUE_SERVER_SETUP
        ? { OPAQUE_SERVER_SETUP: await serverSetupFor(process.env.DATABASE_URL) }
        : {}),
      // Cheap key stretching in the browser, so a suite can register and log in many times;
      // one test runs the real profile (apiEnv PASSWORD_KSF "v1").
      PASSWORD_KSF: process.env.PASSWORD_KSF || "test",
      ...options.apiEnv,
    },
  });
  const web = new Server("portal", process.execPath, [join(webDir, "scripts/start.mjs")], {
    cwd: webDir,
    env: {
      ...process.env,
      WEB_PORT: String(webPort),
      WEB_HOST: "127.0.0.1",
      API_INTERNAL_URL: `http://127.0.0.1:${apiPort}`,
      ...(options.sameOrigin ? {} : { API_URL: `${apiUrl}/graphql` }),
    },
  });

  const stop = async () => {
    await Promise.allSettled([web.stop(), api.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.all([api.waitFor(`${apiUrl}/readyz`, 120_000), web.waitFor(`${webUrl}/login`, 60_000)]);
  } catch (error) {
    await stop();
    throw error;
  }
  const outbox = async () => {
    const dir = join(dataDir, "outbox");
    const names = await readdir(dir).catch(() => [] as string[]);
    return Promise.all(names.sort().map((name) => readFile(join(dir, name), "utf8")));
  };
  const handedOut = new Map<string, number>();
  const emailedCode = async (address: string) => {
    const seen = handedOut.get(address.toLowerCase()) ?? 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const codes = (await outbox())
        .filter((mail) => mail.toLowerCase().includes(`to: ${address.toLowerCase()}`))
        .map((mail) => /Your verification code is (\d{6,10})/.exec(mail)?.[1])
        .filter((code): code is string => Boolean(code));
      if (codes.length > seen) {
        handedOut.set(address.toLowerCase(), codes.length);
        return codes.at(-1)!;
      }
      if (Date.now() > deadline) throw new Error(`no new verification code emailed to ${address}`);
      await new Promise((wake) => setTimeout(wake, 50));
    }
  };
  return { apiUrl, webUrl, dataDir, api, web, outbox, emailedCode, stop };
}
