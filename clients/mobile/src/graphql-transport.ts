import { AuthenticatorError, type FieldProblem } from "./authenticator-error.ts";

// A hung API must not leave the user staring at a phone that never answers;
// challenges expire within two minutes anyway.
const REQUEST_TIMEOUT_MS = 30_000;

interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: { code?: unknown } }[];
}

/**
 * Sends one GraphQL operation as an HTTP POST with a JSON body (never a GET:
 * QR payloads and signatures must not end up in URLs or access logs). The
 * device token, once there is one, goes in the Authorization header.
 * Transport failures and top-level GraphQL errors become `AuthenticatorError`s.
 */
export async function postGraphQL(
  apiUrl: string,
  query: string,
  variables: Record<string, unknown>,
  deviceToken: string | null,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(apiUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...(deviceToken ? { authorization: `Bearer ${deviceToken}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new AuthenticatorError("NETWORK_ERROR", `cannot reach the API at ${apiUrl} (${describeFetchFailure(cause)})`, { cause });
  }
  let body: GraphQLResponse;
  try {
    body = (await response.json()) as GraphQLResponse;
  } catch (cause) {
    throw new AuthenticatorError("BAD_RESPONSE", `the API at ${apiUrl} answered HTTP ${response.status} without a GraphQL response`, { cause });
  }
  const first = body.errors?.[0];
  if (first) {
    const code = typeof first.extensions?.code === "string" ? first.extensions.code : "GRAPHQL_ERROR";
    throw new AuthenticatorError(code, first.message ?? `the API answered HTTP ${response.status} with an error`);
  }
  if (!body.data) throw new AuthenticatorError("BAD_RESPONSE", `the API at ${apiUrl} answered HTTP ${response.status} without data`);
  return body.data;
}

/** A union result as selected with `__typename` and `... on Error { code message }`. */
type UnionResult = { __typename?: unknown; code?: unknown; message?: unknown; fields?: unknown; retryAfterSeconds?: unknown };

/**
 * Mutations answer with a union of a payload and typed errors. Returns the
 * payload when it is the `expected` type; throws the error result as an
 * `AuthenticatorError` with the server's code and message.
 */
export function expectPayload<T>(result: unknown, expected: string, field: string): T {
  const union = (result ?? {}) as UnionResult;
  if (union.__typename === expected) return result as T;
  if (typeof union.code === "string" && typeof union.message === "string") {
    throw new AuthenticatorError(union.code, union.message, {
      typename: typeof union.__typename === "string" ? union.__typename : undefined,
      fields: Array.isArray(union.fields) ? (union.fields as FieldProblem[]) : undefined,
      retryAfterSeconds: typeof union.retryAfterSeconds === "number" ? union.retryAfterSeconds : undefined,
    });
  }
  throw new AuthenticatorError("BAD_RESPONSE", `${field} answered ${String(union.__typename ?? "nothing")} instead of ${expected}`);
}

function describeFetchFailure(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
