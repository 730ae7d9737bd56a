import { Prisma } from "@latchkey/db";

/**
 * Names the unique constraint a write violated, or null for any other error.
 * Both adapters raise Prisma's P2002: adapter-pg names the constraint's index
 * (`User_tenantId_emailKey_key`), the PGlite adapter its columns (`tenantId,emailKey`).
 */
export function violatedUniqueConstraint(error: unknown): string | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2002") return null;
  const meta = error.meta as { driverAdapterError?: { cause?: { constraint?: { index?: string; fields?: string[] } } } } | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  return constraint?.index ?? constraint?.fields?.join(",") ?? "unique";
}

/**
 * Prisma's codes for a database that could not be asked: not reachable (P1001),
 * timed out reaching it (P1002) or on its socket (P1008), closed the
 * connection (P1017), no pooled connection in time (P2024), too many
 * connections (P2037).
 */
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);

/**
 * P2028 is every transaction failure; only a transaction that could not get a
 * connection to start in time is the database being out of reach (a transaction
 * that outlived its timeout, or a closed one used again, is a fault of ours).
 */
const TRANSACTION_NOT_STARTED = /Unable to start a transaction in the given time/;

/**
 * SQLSTATEs of a server that is going away or not back yet: class 08
 * (connection exception), 57P01-57P03 (shut down by an administrator, crashed,
 * cannot connect now: starting up or shutting down), 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/** What node-postgres says of a connection it lost, with no SQLSTATE (it reaches Prisma's callers as it is). */
const LOST_CONNECTION = /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * Whether an error says the database could not be asked (down, restarting,
 * out of connections, or the connection dropped under the statement), rather
 * than that it refused the statement: the same request may succeed once the
 * database is back. Looks through the causes a GraphQL or Prisma error wraps,
 * by shape, as errors may come from another copy of a module.
 */
export function databaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === "object"; depth += 1) {
    const candidate = current as {
      name?: unknown;
      code?: unknown;
      errorCode?: unknown;
      severity?: unknown;
      message?: unknown;
      meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
      originalError?: unknown;
      cause?: unknown;
    };
    const name = typeof candidate.name === "string" ? candidate.name : "";
    if (name.startsWith("PrismaClient")) {
      // PrismaClientKnownRequestError has `code`, PrismaClientInitializationError `errorCode`.
      const code = typeof candidate.code === "string" ? candidate.code : typeof candidate.errorCode === "string" ? candidate.errorCode : "";
      if (UNAVAILABLE_PRISMA_CODES.has(code)) return true;
      if (code === "P2028" && typeof candidate.message === "string" && TRANSACTION_NOT_STARTED.test(candidate.message)) return true;
      // A SQLSTATE Prisma has no code of its own for (P2039, or P2010 from a raw query).
      const sqlState = candidate.meta?.driverAdapterError?.cause?.originalCode;
      if (typeof sqlState === "string" && UNAVAILABLE_SQLSTATE.test(sqlState)) return true;
    } else if (typeof candidate.code === "string" && typeof candidate.severity === "string") {
      // A server's error as node-postgres gives it (SQL outside Prisma). A
      // socket's own errors (ECONNREFUSED …) are not taken here: Prisma names
      // those of the database (P1001, P1017), and others are not the database's.
      if (UNAVAILABLE_SQLSTATE.test(candidate.code)) return true;
    }
    if (current instanceof Error && LOST_CONNECTION.test(current.message)) return true;
    current = candidate.originalError ?? candidate.cause;
  }
  return false;
}

/**
 * The model whose row a write expected but did not find (Prisma's P2025), or
 * null for any other error: a row read a moment before and deleted meanwhile
 * by a concurrent request.
 */
export function rowGoneMeanwhile(error: unknown): string | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2025") return null;
  const model = (error.meta as { modelName?: unknown } | undefined)?.modelName;
  return typeof model === "string" ? model : "Object";
}
