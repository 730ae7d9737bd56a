// What a process on this machine has used, from /proc: CPU time (every thread,
// the garbage collector's included) and resident memory. Linux only; elsewhere
// the readings are null and the bench prints "n/a". And a Node process's JS heap
// after a collection, through its inspector.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import WebSocket from "ws";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) the process has used so far; null if it is gone. */
export function cpuSeconds(pid: number): number | null {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name may hold spaces; the fields after it are space-separated.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks(); // utime, stime (fields 14 and 15)
}

/** Resident memory (VmRSS) and its peak (VmHWM), in bytes. */
export function memory(pid: number): { rss: number; peak: number } | null {
  const status = read(`/proc/${pid}/status`);
  const rss = status && /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  const peak = status && /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!rss || !peak) return null;
  return { rss: Number(rss) * 1024, peak: Number(peak) * 1024 };
}

/**
 * CPU used by a changing set of processes over a window (a database's backends
 * for one client): processes that start inside the window count in full, those
 * that end inside it are lost, so the figure is a floor.
 */
export class GroupCpu {
  private readonly start = new Map<number, number>();

  constructor(pids: number[]) {
    for (const pid of pids) {
      const seconds = cpuSeconds(pid);
      if (seconds !== null) this.start.set(pid, seconds);
    }
  }

  /** Seconds used since construction by `pids` (the group as it is now). */
  since(pids: number[]): number {
    let total = 0;
    for (const pid of pids) {
      const now = cpuSeconds(pid);
      if (now !== null) total += now - (this.start.get(pid) ?? 0);
    }
    return total;
  }
}

/**
 * Has the instance's V8 collect garbage (HeapProfiler.collectGarbage over the
 * inspector protocol), then returns its JS heap in use. RSS alone moves by
 * tens of MB with when the collector last ran and how far heap spaces grew.
 */
export async function collectedHeapBytes(inspectorPort: number): Promise<number> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const replies = new Map<number, (message: any) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    replies.get(message.id)?.(message);
  });
  let next = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const id = ++next;
      replies.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const reply = await call("Runtime.evaluate", { expression: "process.memoryUsage().heapUsed", returnByValue: true });
    return Number(reply.result.result.value);
  } finally {
    socket.close();
  }
}
