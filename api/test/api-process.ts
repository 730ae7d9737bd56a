// An API started as its own process, as an operator runs it (`npm start`'s
// node flags, the tracing preload, real signals), on a free loopback port.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const apiRoot = fileURLToPath(new URL("../", import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

export class ApiProcess {
  private text = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {
    const keep = (chunk: Buffer) => {
      this.text = (this.text + chunk.toString("utf8")).slice(-256 * 1024);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  }

  /** Starts `node --import tsx --import tracing.ts src/main.ts` (as `npm start` does) and waits for /readyz. */
  static async start(name: string, env: Record<string, string | undefined>): Promise<ApiProcess> {
    const ownsDataDir = !env.DATA_DIR;
    const dataDir = env.DATA_DIR ?? (await mkdtemp(join(tmpdir(), `latchkey-${name}-`)));
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "--import", "./src/observability/tracing.ts", "src/main.ts"], {
      cwd: apiRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", API_HOST: "127.0.0.1", API_PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "info", ...env },
    });
    running.add(child);
    child.once("exit", () => running.delete(child));
    const instance = new ApiProcess(name, child, `http://127.0.0.1:${port}`, dataDir, ownsDataDir);
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (!instance.alive) throw new Error(`API ${name} exited before it was ready:\n${instance.output()}`);
      const ready = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
      if (ready) return instance;
      if (Date.now() > deadline) {
        await instance.stop();
        throw new Error(`API ${name} not ready within 90 s:\n${instance.output()}`);
      }
      await sleep(200);
    }
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get graphqlUrl() {
    return `${this.url}/graphql`;
  }

  output() {
    return this.text;
  }

  /** The JSON log lines printed so far. */
  logLines(): Record<string, unknown>[] {
    return this.text
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }

  signal(name: NodeJS.Signals) {
    this.child.kill(name);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; removes its DATA_DIR unless it was given one. */
  async stop(graceMs = 15_000) {
    if (this.alive) {
      this.signal("SIGTERM");
      const done = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        this.signal("SIGKILL");
        await this.exited;
      }
    }
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
