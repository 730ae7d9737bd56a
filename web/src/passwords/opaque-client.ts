// The page's way to OPAQUE: each step runs in one shared worker, answered in order by id.
import type { OpaqueAnswer, OpaqueRequest, WorkerReply, WorkerRequest } from "./opaque-protocol";

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(error: Error) {
  for (const { reject } of pending.values()) reject(error);
  pending.clear();
  worker?.terminate();
  worker = null;
}

function passwordWorker(): Worker {
  if (worker) return worker;
  // Bundled from our own sources: the WebAssembly is inside the worker's script, served by the portal.
  worker = new Worker(new URL("./opaque.worker.ts", import.meta.url));
  worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
    const waiting = pending.get(data.id);
    if (!waiting) return;
    pending.delete(data.id);
    if (data.ok) waiting.resolve(data.value);
    else waiting.reject(new Error(data.message));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`The password worker failed: ${event.message || "unknown error"}`));
  };
  return worker;
}

/** Runs one OPAQUE step off the page's thread (or on it, in a browser without workers). */
export async function opaqueStep<R extends OpaqueRequest>(request: R): Promise<OpaqueAnswer[R["op"]]> {
  if (typeof Worker === "undefined") {
    const { runOpaqueStep } = await import("./opaque-steps");
    return runOpaqueStep(request);
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    passwordWorker().postMessage({ id, ...request } satisfies WorkerRequest);
  });
}
