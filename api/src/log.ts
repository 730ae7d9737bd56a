import pino from "pino";
import type { Logger } from "@latchkey/schema";

export type AppLogger = Logger & {
  debug(message: string, data?: Record<string, unknown>): void;
  raw: pino.Logger;
};

export function createLogger(level: string, destination?: pino.DestinationStream): AppLogger {
  const raw = pino({
    level,
    // Defence in depth: these keys never reach the log, whoever logs them.
    redact: { paths: ["password", "*.password", "token", "*.token", "authorization", "*.authorization", "cookie"], censor: "[redacted]" },
  }, destination);
  return {
    raw,
    debug: (message, data) => raw.debug(data ?? {}, message),
    info: (message, data) => raw.info(data ?? {}, message),
    warn: (message, data) => raw.warn(data ?? {}, message),
    error: (message, data) => raw.error(data ?? {}, message),
  };
}
