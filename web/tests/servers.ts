// Starts the real API and the built portal for browser tests, each on a free loopback port.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
  api: Server;
  web: Server;
  stop: () => Promise<void>;
};

/** `next build` only when there is no build: turbo's test task already depends on build. */
function buildPortalIfMissing() {
  if (existsSync(join(webDir, ".next", "BUILD_ID"))) return;
  const result = spawnSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], {
    cwd: webDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`next build failed with ${result.status ?? result.signal}`);
}

export async function startStack(): Promise<Stack> {
  buildPortalIfMissing();

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
    },
  });
  const web = new Server("portal", process.execPath, [join(webDir, "scripts/start.mjs")], {
    cwd: webDir,
    env: { ...process.env, WEB_PORT: String(webPort), WEB_HOST: "127.0.0.1", API_URL: `${apiUrl}/graphql` },
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
  return { apiUrl, webUrl, api, web, stop };
}
