// What clients and the log see of an error. Clients get an expected error's code
// and message, and nothing of any other. The log gets an expected error at debug
// level and anything else at error level, never with the operation's text or
// variables: a GraphQL error prints the source it points into, and an inline
// argument (a watch token, a password) is part of that source.
import { databaseUnavailable, UnavailableError } from "@latchkey/schema";
import { createGraphQLError, maskError, type YogaServerOptions } from "graphql-yoga";
import type { AppLogger } from "./log.ts";

/**
 * Finds one of the schema's expected errors (an AppError) in a wrapped error.
 * Checked by shape, not instanceof: graphql ships both ESM and CommonJS builds,
 * and errors may come from either copy.
 */
export function expectedError(error: unknown): { message: string; code: string } | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth += 1) {
    const candidate = current as { message?: unknown; code?: unknown; extensions?: { code?: unknown }; originalError?: unknown };
    if (typeof candidate.code === "string" && candidate.extensions?.code === candidate.code && typeof candidate.message === "string") {
      return { message: candidate.message, code: candidate.code };
    }
    current = candidate.originalError;
  }
  return null;
}

/** The innermost error a GraphQL error wraps: the one whose stack says where it came from. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const inner = (current as { originalError?: unknown } | null)?.originalError;
    if (!inner) break;
    current = inner;
  }
  return current;
}

/**
 * Log fields for an error nobody expected: its kind, the first line of its
 * message (a database error goes on to list the values it was given) and where
 * it was thrown; for a GraphQL error, the field path, never its source.
 */
export function describeUnexpected(error: unknown): Record<string, unknown> {
  const path = (error as { path?: readonly (string | number)[] } | null)?.path;
  const cause = rootCause(error);
  if (!(cause instanceof Error)) return { error: typeof cause === "string" ? cause.split("\n")[0]!.slice(0, 300) : typeof cause, ...(path ? { path: path.join(".") } : {}) };
  const code = (cause as { code?: unknown }).code;
  return {
    error: `${cause.name}: ${cause.message.split("\n")[0]!.slice(0, 300)}`,
    ...(typeof code === "string" ? { code } : {}),
    ...(path ? { path: path.join(".") } : {}),
    stack: (cause.stack ?? "").split("\n").filter((line) => line.startsWith("    at ")).slice(0, 15).join("\n"),
  };
}

/** Logs an error that reached the transport: expected ones at debug, with their code only. */
export function logError(log: AppLogger, error: unknown, what = "unexpected error") {
  const expected = expectedError(error);
  if (expected) {
    const path = (error as { path?: readonly (string | number)[] } | null)?.path;
    log.debug("expected error", { code: expected.code, ...(path ? { path: path.join(".") } : {}) });
    return;
  }
  // An outage refuses every request: one line each, without a stack, says it.
  if (databaseUnavailable(error)) {
    log.warn("database unavailable", { error: error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error) });
    return;
  }
  log.error(what, describeUnexpected(error));
}

/**
 * A GraphQL error whose causes are all GraphQL errors: a request refused by
 * GraphQL itself, such as a variable a scalar would not take. Yoga shows these
 * as they are but tells them by instanceof; checked by shape here, as above,
 * so that one made by the other copy of graphql is not masked as unexpected.
 */
function graphqlOwnError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth += 1) {
    if (!(current instanceof Error) || current.name !== "GraphQLError") return false;
    const inner = (current as { originalError?: unknown }).originalError;
    if (inner === undefined || inner === null) return true;
    current = inner;
  }
  return false;
}

/**
 * Expected failures outside a result union (a refused subscription, an
 * unauthorised field) keep their code and message; a database that could not
 * be reached is told as UNAVAILABLE (also when it failed the request before any
 * field ran, as a session lookup does), so the answer is no HTTP 500; anything
 * else is masked, never its message or stack.
 */
export const maskedErrors: YogaServerOptions<object, object>["maskedErrors"] = {
  isDev: false,
  maskError(error, message) {
    const expected = expectedError(error) ?? (databaseUnavailable(error) ? new UnavailableError() : null);
    if (expected) {
      const { nodes, path } = error as { nodes?: never; path?: readonly (string | number)[] };
      return createGraphQLError(expected.message, { nodes, path, extensions: { code: expected.code } });
    }
    if (graphqlOwnError(error)) return error as Error;
    return maskError(error, message, false);
  },
};

/**
 * Yoga's own log lines, through pino: its per-request tracing at trace level,
 * and an error it logs, which is one it masked, as above.
 */
export function yogaLogging(log: AppLogger): YogaServerOptions<object, object>["logging"] {
  const text = (args: unknown[]) => args.map((arg) => (typeof arg === "string" ? arg : typeof arg)).join(" ");
  return {
    debug: (...args) => log.raw.trace(text(args)),
    info: (...args) => log.info(text(args)),
    warn: (...args) => log.warn(text(args)),
    error: (...args) => {
      for (const arg of args) {
        if (typeof arg === "string") log.error(arg);
        else logError(log, arg);
      }
    },
  };
}
