// The API under test for desktop-login.ts, in a process of its own so the load
// generator's work never shows in this process's event-loop delay. Forked by
// desktop-login.ts with the environment the API should read (DATA_DIR,
// DATABASE_URL, ...); listens on a free loopback port and answers over IPC:
//   { type: "reset" }  -> starts a measuring window (event-loop delay, CPU)
//   { type: "report" } -> the window's event-loop delay, CPU and memory
//   { type: "stop" }   -> stops the API and exits
// It also stops when the parent goes away (the IPC channel closes), so an
// abandoned benchmark never leaves an API behind; then it also removes the
// temporary DATA_DIR named as its argument, which the parent can no longer do.
import { rm } from "node:fs/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { buildApp, loadConfig } from "@latchkey/api";

export type ServerReady = {
  type: "ready";
  url: string;
  pid: number;
  database: "postgresql" | "embedded";
  pubsub: "redis" | "in-process";
  /** The key-stretching profile registrations use: the clients' work only, never the server's. */
  ksf: string;
  threadpoolSize: string;
};

export type WindowReport = {
  type: "report";
  /** Wall time of the window. */
  windowMs: number;
  /** monitorEventLoopDelay in ms; with a 10 ms resolution an idle loop reads about 10. */
  eventLoopDelayMs: { min: number; p50: number; p90: number; p99: number; max: number; mean: number; samples: number };
  /** CPU time of the whole process (main thread and the libuv pool) in the window. */
  cpuMs: { user: number; system: number };
  rssBytes: number;
  /** The process's peak RSS since it started. */
  maxRssBytes: number;
  heapUsedBytes: number;
};

export type ServerRequest = { type: "reset" | "report" | "stop" };

const RESOLUTION_MS = 10;

if (!process.send) {
  console.error("desktop-login-server.ts is started by desktop-login.ts (child_process.fork), not by hand");
  process.exit(2);
}
const send = (message: object) => process.send?.(message);

const config = loadConfig(process.env);
const app = await buildApp(config);
const url = await app.start(0, "127.0.0.1");

const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
let windowStart = performance.now();
let cpuAtStart = process.cpuUsage();

let stopping = false;
async function stop(orphaned: boolean) {
  if (stopping) return;
  stopping = true;
  delay.disable();
  // PGlite keeps the process alive until it is closed.
  await app.stop().catch((error: unknown) => console.error(`stopping the API failed: ${String(error)}`));
  const temporaryDataDir = process.argv[2];
  if (orphaned && temporaryDataDir) await rm(temporaryDataDir, { recursive: true, force: true }).catch(() => undefined);
  process.exit(0);
}

const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;

process.on("message", (message: ServerRequest) => {
  if (message.type === "reset") {
    delay.reset();
    windowStart = performance.now();
    cpuAtStart = process.cpuUsage();
    send({ type: "reset" });
  } else if (message.type === "report") {
    const cpu = process.cpuUsage(cpuAtStart);
    const memory = process.memoryUsage();
    const report: WindowReport = {
      type: "report",
      windowMs: Math.round(performance.now() - windowStart),
      eventLoopDelayMs: {
        min: ms(delay.min),
        p50: ms(delay.percentile(50)),
        p90: ms(delay.percentile(90)),
        p99: ms(delay.percentile(99)),
        max: ms(delay.max),
        mean: ms(delay.mean),
        samples: delay.count,
      },
      cpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
      rssBytes: memory.rss,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: memory.heapUsed,
    };
    send(report);
  } else if (message.type === "stop") {
    void stop(false);
  }
});
process.on("disconnect", () => void stop(true));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(false));

const ready: ServerReady = {
  type: "ready",
  url,
  pid: process.pid,
  database: config.databaseUrl ? "postgresql" : "embedded",
  pubsub: config.redisUrl ? "redis" : "in-process",
  ksf: config.passwordKsf,
  threadpoolSize: process.env.UV_THREADPOOL_SIZE || "4 (libuv default)",
};
send(ready);
