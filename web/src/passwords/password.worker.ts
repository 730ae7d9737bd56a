// A dedicated worker for passwords: the WebAssembly, Argon2id and the dictionaries run here,
// off the page's thread.
import type { WorkerReply, WorkerRequest } from "./password-protocol";
import { runPasswordStep } from "./password-steps";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage: (reply: WorkerReply) => void;
};

scope.onmessage = async ({ data }) => {
  const { id, ...request } = data;
  try {
    scope.postMessage({ id, ok: true, value: await runPasswordStep(request) });
  } catch (error) {
    scope.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
};
