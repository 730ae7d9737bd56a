// A dedicated worker for OPAQUE: its WebAssembly and Argon2id run here, off the page's thread.
import type { WorkerReply, WorkerRequest } from "./opaque-protocol";
import { runOpaqueStep } from "./opaque-steps";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage: (reply: WorkerReply) => void;
};

scope.onmessage = async ({ data }) => {
  const { id, ...request } = data;
  try {
    scope.postMessage({ id, ok: true, value: await runOpaqueStep(request) });
  } catch (error) {
    scope.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
};
