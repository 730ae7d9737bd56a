// The page's way to the password worker: one worker per page, its answers matched by id.
import type { PasswordAnswer, PasswordRequest, WorkerReply, WorkerRequest } from "./password-protocol";

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
  // Bundled from our sources, WebAssembly included, and served by the portal itself.
  worker = new Worker(new URL("./password.worker.ts", import.meta.url));
  worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
    const waiting = pending.get(data.id);
    if (!waiting) return;
    pending.delete(data.id);
    if (data.ok) waiting.resolve(data.value);
    else waiting.reject(new Error(data.message));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`The password worker failed: ${event.message || "it could not start"}`));
  };
  return worker;
}

/** Runs one password step in the worker (on the page itself in a browser without workers). */
export async function passwordStep<R extends PasswordRequest>(request: R): Promise<PasswordAnswer[R["op"]]> {
  if (typeof Worker === "undefined") {
    const { runPasswordStep } = await import("./password-steps");
    return runPasswordStep(request);
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    passwordWorker().postMessage({ id, ...request } satisfies WorkerRequest);
  });
}

/**
 * Starts the worker ahead of a submit, so its WebAssembly and dictionaries are ready when the
 * password is. Called when a password form appears; a no-op on the server.
 */
export function preparePasswordWorker() {
  if (typeof window === "undefined" || typeof Worker === "undefined") return;
  void passwordStep({ op: "checkNewPassword", password: "", context: [] }).catch(() => {});
}
