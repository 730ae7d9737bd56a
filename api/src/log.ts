import { AsyncLocalStorage } from "node:async_hooks";
import pino from "pino";
import type { Logger } from "@latchkey/schema";

export type AppLogger = Logger & {
  debug(message: string, data?: Record<string, unknown>): void;
  raw: pino.Logger;
};

/**
 * The request a piece of work belongs to: an HTTP request, or one WebSocket
 * operation. Every log line written while it runs carries its id.
 */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

export function createLogger(level: string, destination?: pino.DestinationStream): AppLogger {
  const raw = pino({
    level,
    // Defence in depth: these keys never reach the log, whoever logs them.
    redact: { paths: ["password", "*.password", "token", "*.token", "authorization", "*.authorization", "cookie"], censor: "[redacted]" },
    mixin() {
      const requestId = requestScope.getStore()?.requestId;
      return requestId ? { requestId } : {};
    },
  }, destination);
  return {
    raw,
    debug: (message, data) => raw.debug(data ?? {}, message),
    info: (message, data) => raw.info(data ?? {}, message),
    warn: (message, data) => raw.warn(data ?? {}, message),
    error: (message, data) => raw.error(data ?? {}, message),
  };
}
