// The portal's operations are registered when it is built: codegen writes a
// manifest of every document in it, keyed by the SHA-256 of its text, and the
// portal sends only that hash. A request carrying the portal's session cookie
// may then run nothing else, so a script riding a portal session (injected into
// the page, or replaying its cookie) cannot explore the API with queries the
// portal never makes. Held by the session, not only the cookie: a session whose
// token was handed over in the cookie stays held when that token is sent back as
// a bearer token. API keys, workstations, phones and bearer sessions send their
// own documents (their clients live outside this repository), each held to the
// cost budget.
import { existsSync, readFileSync } from "node:fs";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { createGraphQLError } from "graphql-yoga";
import type { ErrorCode } from "@latchkey/schema";
import { z } from "zod";
import type { Config } from "./config.ts";
import { SESSION_COOKIE, bearerFrom, cookieFrom } from "./context.ts";

/** `extensions.code` of each refusal. */
export const TRUSTED_DOCUMENT_CODES = {
  notRegistered: "PERSISTED_QUERY_NOT_FOUND",
  registeredOnly: "PERSISTED_QUERY_ONLY",
} as const satisfies Record<string, ErrorCode>;

// Keys as codegen writes them: `sha256:` and the hex digest of the document text.
const manifest = z.record(z.string().regex(/^sha256:[0-9a-f]{64}$/), z.string().min(1));

export type TrustedDocuments = {
  /** Whether requests carrying the portal's session cookie may run registered documents only. */
  readonly registeredOnly: boolean;
  /** How many documents the manifests register. */
  readonly size: number;
  /** The registered document with this hash, or null. */
  document(hash: string): string | null;
  /** Whether a request or WebSocket is held to registered documents: it carries the portal's cookie, or the token of a portal session. */
  heldToRegistered(credentials: { cookieHeader: string | null | undefined; bearer: string | null }): Promise<boolean>;
};

/** Whether a bearer token is the token of a session handed over in the portal's cookie. */
export type PortalSessionCheck = (token: string) => Promise<boolean>;

/**
 * Reads the configured manifests once, at start. With no mode configured, the
 * portal is held to its documents when its manifest is there (a built checkout)
 * and not otherwise; a configured `registered` without a manifest is refused.
 */
export function loadTrustedDocuments(settings: Config["portalDocuments"], isPortalSession: PortalSessionCheck): TrustedDocuments {
  const documents = new Map<string, string>();
  const present = settings.manifests.filter((path) => existsSync(path));
  for (const path of present) {
    const parsed = manifest.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!parsed.success) throw new Error(`${path} is not an operation manifest (SHA-256 hash → document)`);
    for (const [hash, text] of Object.entries(parsed.data)) documents.set(hash, text);
  }
  if (settings.mode === "registered" && present.length === 0) {
    throw new Error(
      `Invalid configuration: PORTAL_DOCUMENTS=registered, but no manifest was found at ${settings.manifests.join(", ")}. ` +
        "Build the portal (npm run generate) or set PORTAL_DOCUMENT_MANIFESTS to its persisted-documents.json.",
    );
  }
  const registeredOnly = (settings.mode ?? (present.length > 0 ? "registered" : "any")) === "registered";
  return {
    registeredOnly,
    size: documents.size,
    document: (hash) => documents.get(hash) ?? null,
    heldToRegistered: async ({ cookieHeader, bearer }) =>
      registeredOnly && (cookieFrom(cookieHeader ?? undefined, SESSION_COOKIE) !== null || (bearer !== null && (await isPortalSession(bearer)))),
  };
}

/** The HTTP side: a hash is looked up for everyone; arbitrary text is refused from portal sessions. */
export function useTrustedDocuments(trusted: TrustedDocuments) {
  return usePersistedOperations({
    getPersistedOperation: (hash) => trusted.document(hash),
    allowArbitraryOperations: async (request) =>
      !(await trusted.heldToRegistered({ cookieHeader: request.headers.get("cookie"), bearer: bearerFrom(request.headers.get("authorization")) })),
    customErrors: {
      notFound: { message: "This operation is not one of the portal's registered operations", extensions: { code: TRUSTED_DOCUMENT_CODES.notRegistered } },
      keyNotFound: { message: "Send the operation, or the hash of a registered one", extensions: { code: "BAD_REQUEST" satisfies ErrorCode } },
      persistedQueryOnly: {
        message: "A portal session runs only the portal's registered operations; use an API key for your own",
        extensions: { code: TRUSTED_DOCUMENT_CODES.registeredOnly },
      },
    },
  });
}

type SocketPayload = { query?: string | null; extensions?: Record<string, unknown> | null };

/**
 * The WebSocket side of the same rule: the operation's text, from its hash when
 * it carries one, or the error that refuses it.
 */
export async function socketOperationText(trusted: TrustedDocuments, payload: SocketPayload, credentials: { cookieHeader: string | undefined; bearer: string | null }) {
  const persisted = payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  if (typeof persisted?.sha256Hash === "string") {
    const text = trusted.document(persisted.sha256Hash);
    return text !== null
      ? { text }
      : { error: createGraphQLError("This operation is not one of the portal's registered operations", { extensions: { code: TRUSTED_DOCUMENT_CODES.notRegistered } }) };
  }
  if (await trusted.heldToRegistered(credentials)) {
    return {
      error: createGraphQLError("A portal session runs only the portal's registered operations; use an API key for your own", {
        extensions: { code: TRUSTED_DOCUMENT_CODES.registeredOnly },
      }),
    };
  }
  return { text: payload.query ?? "" };
}
