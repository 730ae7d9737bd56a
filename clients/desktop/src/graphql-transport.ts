import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { AgentError, type FieldProblem } from "./agent-error.ts";

// A hung API must not leave the login screen hanging; challenges expire
// within two minutes anyway.
const REQUEST_TIMEOUT_MS = 30_000;

export interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: { code?: unknown } }[];
}

/**
 * Sends one GraphQL operation as an HTTP POST with a JSON body (never a GET:
 * passwords and redeem secrets must not end up in URLs or access logs), with
 * the workstation credential, when there is one, as the Bearer token.
 * Transport failures and top-level GraphQL errors become `AgentError`s.
 */
export async function postGraphQL(
  apiUrl: string,
  query: string,
  variables: Record<string, unknown>,
  credential: string | null,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(apiUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new AgentError("NETWORK_ERROR", `cannot reach the API at ${apiUrl} (${describeFetchFailure(cause)})`, { cause });
  }
  let body: GraphQLResponse;
  try {
    body = (await response.json()) as GraphQLResponse;
  } catch (cause) {
    throw new AgentError("BAD_RESPONSE", `the API at ${apiUrl} answered HTTP ${response.status} without a GraphQL response`, { cause });
  }
  return dataOrThrow(body, `the API at ${apiUrl} answered HTTP ${response.status}`);
}

/** The response's data, or its first error as an `AgentError` with the error's `extensions.code`. */
export function dataOrThrow(body: GraphQLResponse, what: string): Record<string, unknown> {
  const first = body.errors?.[0];
  if (first) {
    const code = typeof first.extensions?.code === "string" ? first.extensions.code : "GRAPHQL_ERROR";
    throw new AgentError(code, first.message ?? `${what} with an error`);
  }
  if (!body.data) throw new AgentError("BAD_RESPONSE", `${what} without data`);
  return body.data;
}

/**
 * A graphql-ws client for the API's WebSocket endpoint (same path, ws:
 * scheme). `authorization` is called for every connection, so each one
 * starts with a freshly minted credential. No automatic retries: the caller
 * re-reads state over HTTP and decides.
 */
export function webSocketClient(apiUrl: string, authorization: () => Promise<string | null>): Client {
  const url = new URL(apiUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return createClient({
    url: url.toString(),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: async () => {
      const credential = await authorization();
      return credential ? { authorization: `Bearer ${credential}` } : {};
    },
  });
}

/** A union result as selected with `__typename` and `... on Error { code message }`. */
type UnionResult = { __typename?: unknown; code?: unknown; message?: unknown; fields?: unknown; retryAfterSeconds?: unknown; unlocksAt?: unknown };

/**
 * Mutations answer with a union of a payload and typed errors. Returns the
 * payload when it is the `expected` type; throws the error result as an
 * `AgentError` with the server's code and message.
 */
export function expectPayload<T>(result: unknown, expected: string, field: string): T {
  const union = (result ?? {}) as UnionResult;
  if (union.__typename === expected) return result as T;
  if (typeof union.code === "string" && typeof union.message === "string") {
    throw new AgentError(union.code, union.message, {
      typename: typeof union.__typename === "string" ? union.__typename : undefined,
      fields: Array.isArray(union.fields) ? (union.fields as FieldProblem[]) : undefined,
      retryAfterSeconds: typeof union.retryAfterSeconds === "number" ? union.retryAfterSeconds : undefined,
      unlocksAt: typeof union.unlocksAt === "string" ? union.unlocksAt : undefined,
    });
  }
  throw new AgentError("BAD_RESPONSE", `${field} answered ${String(union.__typename ?? "nothing")} instead of ${expected}`);
}

function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
