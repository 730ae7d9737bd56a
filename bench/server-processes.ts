// The servers a benchmark starts (API instances, the bare yoga server): each in
// its own process group, so tsx's wrapper and the node process it starts are
// stopped together; with their recent output kept for error reports, and their
// temporary DATA_DIR removed when they stop, however the benchmark ends.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";

export type ServerProcess = { name: string; process: ChildProcess; output: string[]; exited: boolean; dataDir?: string };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A benchmark knob from the environment: a positive number, or the fallback when unset. */
export function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ServerProcess>();

export function startServer(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; dataDir?: string; verbose?: boolean; ignore?: (line: string) => boolean },
): ServerProcess {
  const proc = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const server: ServerProcess = { name, process: proc, output: [], exited: false, dataDir: options.dataDir };
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line || options.ignore?.(line)) continue;
      server.output.push(line);
      if (server.output.length > 200) server.output.shift();
      if (options.verbose) console.log(`[${name}] ${line}`);
    }
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  proc.on("exit", () => {
    server.exited = true;
  });
  running.add(server);
  return server;
}

function signalGroup(server: ServerProcess, signal: NodeJS.Signals) {
  if (server.process.pid === undefined) return;
  try {
    process.kill(-server.process.pid, signal);
  } catch {
    // already gone
  }
}

export async function stopServer(server: ServerProcess) {
  if (!server.exited) {
    signalGroup(server, "SIGTERM");
    const end = Date.now() + 5_000;
    while (!server.exited && Date.now() < end) await sleep(50);
  }
  // The group may outlive its leader (tsx's inner node): make sure it is gone.
  signalGroup(server, "SIGKILL");
  if (server.dataDir) await rm(server.dataDir, { recursive: true, force: true }).catch(() => undefined);
  running.delete(server);
}

export async function stopAllServers() {
  await Promise.all([...running].map(stopServer));
}

/** Kills every server at once; for process exit and signals, where nothing can be awaited. */
export function killAllServers() {
  for (const server of running) {
    signalGroup(server, "SIGKILL");
    if (server.dataDir) rmSync(server.dataDir, { recursive: true, force: true });
  }
}

export function lastOutput(server: ServerProcess, lines = 40) {
  return server.output.length
    ? `--- last output of ${server.name} ---\n${server.output.slice(-lines).join("\n")}`
    : `(${server.name} printed nothing)`;
}
