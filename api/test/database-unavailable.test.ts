// Which database errors are told to clients as UNAVAILABLE: the shapes a
// PostgreSQL that is down, restarting or out of connections produces through
// Prisma's pg adapter (seen in fault-postgres-restart.test.ts), and through
// node-postgres directly; and the ones that must stay what they are.
import { Prisma } from "@latchkey/db";
import { databaseUnavailable, UnavailableError } from "@latchkey/schema";
import { createGraphQLError } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { maskedErrors } from "../src/error-reporting.ts";

const prismaError = (code: string, originalCode?: string) =>
  new Prisma.PrismaClientKnownRequestError(`Database error. Code: \`${originalCode ?? "-"}\``, {
    code,
    clientVersion: "test",
    meta: originalCode ? { driverAdapterError: { cause: { kind: "postgres", originalCode } } } : undefined,
  });

/** Prisma's P2028, which covers every transaction failure: only its message tells them apart. */
const transactionError = (message: string) => new Prisma.PrismaClientKnownRequestError(`Transaction API error: ${message}`, { code: "P2028", clientVersion: "test" });

/** node-postgres' DatabaseError, as it comes from the server. */
const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" });

describe("databaseUnavailable", () => {
  it("recognises a database that cannot be asked", () => {
    const unavailable = [
      prismaError("P1001"), // not reachable (connection refused)
      prismaError("P1017"), // closed the connection
      transactionError("Unable to start a transaction in the given time."), // no connection for it under load
      prismaError("P2039", "57P01"), // terminating connection due to administrator command
      prismaError("P2039", "57P03"), // the database system is shutting down / starting up
      prismaError("P2010", "08006"), // a raw query on a failed connection
      serverError("57P03", "the database system is starting up"),
      new Error("Connection terminated unexpectedly"),
    ];
    for (const error of unavailable) {
      expect(databaseUnavailable(error), String(error)).toBe(true);
      // Also when a GraphQL error wraps it, as a failed resolver's does.
      expect(databaseUnavailable(createGraphQLError("Unexpected error.", { originalError: error }))).toBe(true);
    }
  });

  it("leaves every other failure alone", () => {
    const others = [
      prismaError("P2002"), // unique violation
      prismaError("P2039", "22021"), // a NUL in text
      prismaError("P2039", "40001"), // serialization failure
      transactionError("Transaction already closed: the timeout for this transaction was 5000 ms."), // ours: a transaction that ran too long
      serverError("23505", "duplicate key value"),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED", syscall: "connect", errno: -111 }), // Redis, a webhook target
      new TypeError("fetch failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED", syscall: "connect" }) }),
      new UnavailableError(),
      new Error("boom"),
      null,
      "text",
    ];
    for (const error of others) expect(databaseUnavailable(error), String(error)).toBe(false);
  });

  it("answers UNAVAILABLE to the client instead of masking it as an internal error", () => {
    const masked = maskedErrors as { maskError: (error: unknown, message: string, isDev?: boolean) => Error };
    const unavailable = masked.maskError(createGraphQLError("x", { originalError: prismaError("P1001"), path: ["customers"] }), "Unexpected error.") as unknown as {
      message: string;
      extensions: Record<string, unknown>;
      path?: readonly (string | number)[];
    };
    expect(unavailable.extensions).toEqual({ code: "UNAVAILABLE" });
    expect(unavailable.message).toBe(new UnavailableError().message);
    expect(unavailable.path).toEqual(["customers"]);
    const other = masked.maskError(createGraphQLError("x", { originalError: prismaError("P2039", "22021") }), "Unexpected error.") as unknown as { extensions: Record<string, unknown> };
    expect(other.extensions.code).toBe("INTERNAL_SERVER_ERROR");
  });
});
