// The portal's operations are registered when it is built: codegen writes a
// versioned manifest of every document in it, keyed by the SHA-256 of its text
// (@latchkey/schema's operations-manifest.ts), and the portal sends only that
// hash, with its manifest's version. A request carrying the portal's session cookie
// may then run nothing else, so a script riding a portal session (injected into
// the page, or replaying its cookie) cannot explore the API with queries the
// portal never makes. Held by the session, not only the cookie: a session whose
// token was handed over in the cookie stays held when that token is sent back as
// a bearer token. API keys, workstations, phones and bearer sessions send their
// own documents (their clients live outside this repository), each held to the
// cost budget.
import { readFileSync } from "node:fs";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { createGraphQLError } from "graphql-yoga";
import { isOperationsVersion, readOperationsManifest, type ErrorCode, type Logger } from "@latchkey/schema";
import type { Config } from "./config.ts";
import { SESSION_COOKIE, bearerFrom, cookieFrom } from "./context.ts";

/** `extensions.code` of each refusal. */
export const TRUSTED_DOCUMENT_CODES = {
  notRegistered: "PERSISTED_QUERY_NOT_FOUND",
  registeredOnly: "PERSISTED_QUERY_ONLY",
} as const satisfies Record<string, ErrorCode>;

export type TrustedDocuments = {
  /** Whether requests carrying the portal's session cookie may run registered documents only. */
  readonly registeredOnly: boolean;
  /** How many documents the manifests register. */
  readonly size: number;
  /** Each manifest read: where, its version, how many operations. */
  readonly manifests: readonly LoadedManifest[];
  /** Configured manifest paths where no file was found. */
  readonly missing: readonly string[];
  /** The registered document with this hash, or null. */
  document(hash: string): string | null;
  /** Whether a request or WebSocket is held to registered documents: it carries the portal's cookie, or the token of a portal session. */
  heldToRegistered(credentials: { cookieHeader: string | null | undefined; bearer: string | null }): Promise<boolean>;
  /** The refusal of a hash no manifest has; it names the portal build the request says it came from, when that is not one loaded. */
  notRegistered(extensions: Record<string, unknown> | null | undefined): Error;
};

export type LoadedManifest = { path: string; version: string; operations: number };

/** Whether a bearer token is the token of a session handed over in the portal's cookie. */
export type PortalSessionCheck = (token: string) => Promise<boolean>;

/**
 * The configured manifests, read and checked, the paths where none was found,
 * and the mode they give. With no mode configured, the portal is held to its
 * documents when a manifest is there (a built checkout) and not otherwise; a
 * configured `registered` without a manifest, or a file that cannot be read or
 * is not a manifest, is refused. Only a file that does not exist counts as absent.
 */
export function readPortalManifests(settings: Config["portalDocuments"]) {
  const documents = new Map<string, string>();
  const manifests: LoadedManifest[] = [];
  const missing: string[] = [];
  for (const path of settings.manifests) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        missing.push(path);
        continue;
      }
      throw new Error(`The portal operations manifest ${path} cannot be read: ${(error as Error).message}`);
    }
    let read;
    try {
      read = readOperationsManifest(JSON.parse(text));
    } catch (error) {
      throw new Error(`${path} is not a portal operations manifest: ${(error as Error).message}`);
    }
    for (const [hash, document] of Object.entries(read.documents)) documents.set(hash, document);
    manifests.push({ path, version: read.version, operations: Object.keys(read.documents).length });
  }
  if (settings.mode === "registered" && manifests.length === 0) {
    throw new Error(
      `Invalid configuration: PORTAL_DOCUMENTS=registered, but no manifest was found at ${settings.manifests.join(", ")}. ` +
        "Build the portal (npm run generate) or set PORTAL_DOCUMENT_MANIFESTS to its operations-manifest.json",
    );
  }
  const registeredOnly = (settings.mode ?? (manifests.length > 0 ? "registered" : "any")) === "registered";
  return { registeredOnly, manifests, missing, documents };
}

/** At most this many portal builds the API was not given are logged an hour: a stale tab retrying, or a client making up versions, cannot fill the log or silence it for good. */
const UNKNOWN_BUILDS_LOGGED_PER_HOUR = 20;

/** Reads the configured manifests once, at start (see `readPortalManifests`). */
export function loadTrustedDocuments(
  settings: Config["portalDocuments"],
  isPortalSession: PortalSessionCheck,
  log: Logger,
  clock: { now(): number } = Date,
): TrustedDocuments {
  const { registeredOnly, manifests, missing, documents } = readPortalManifests(settings);
  const versions = new Set(manifests.map((one) => one.version));
  let windowStart = clock.now();
  const reported = new Set<string>();
  let unreported = 0;
  const report = (build: string) => {
    if (clock.now() - windowStart >= 3600_000) {
      if (unreported > 0) log.warn("more portal builds this API was not given sent operations in the last hour than were logged", { notLogged: unreported });
      windowStart = clock.now();
      reported.clear();
      unreported = 0;
    }
    if (reported.has(build)) return;
    if (reported.size >= UNKNOWN_BUILDS_LOGGED_PER_HOUR) {
      unreported += 1;
      return;
    }
    reported.add(build);
    log.warn("a portal build this API was not given sent its operations: add its operations-manifest.json to PORTAL_DOCUMENT_MANIFESTS", {
      portalOperations: build,
      loaded: [...versions].join(","),
    });
  };
  return {
    registeredOnly,
    size: documents.size,
    manifests,
    missing,
    document: (hash) => documents.get(hash) ?? null,
    heldToRegistered: async ({ cookieHeader, bearer }) =>
      registeredOnly && (cookieFrom(cookieHeader ?? undefined, SESSION_COOKIE) !== null || (bearer !== null && (await isPortalSession(bearer)))),
    notRegistered: (extensions) => {
      const build = extensions?.portalOperations;
      if (isOperationsVersion(build) && !versions.has(build)) {
        report(build);
        return createGraphQLError(
          `This portal (operations ${build}) is not the build this API was given; reload the page, and if it stays, the API needs its operations-manifest.json`,
          { extensions: { code: TRUSTED_DOCUMENT_CODES.notRegistered } },
        );
      }
      return createGraphQLError(NOT_REGISTERED, { extensions: { code: TRUSTED_DOCUMENT_CODES.notRegistered } });
    },
  };
}

const NOT_REGISTERED = "This operation is not one of the portal's registered operations";

/** The HTTP side: a hash is looked up for everyone; arbitrary text is refused from portal sessions. */
export function useTrustedDocuments(trusted: TrustedDocuments) {
  return usePersistedOperations({
    getPersistedOperation: (hash) => trusted.document(hash),
    allowArbitraryOperations: async (request) =>
      !(await trusted.heldToRegistered({ cookieHeader: request.headers.get("cookie"), bearer: bearerFrom(request.headers.get("authorization")) })),
    customErrors: {
      notFound: ({ params }) => trusted.notRegistered(params.extensions),
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
    return text !== null ? { text } : { error: trusted.notRegistered(payload.extensions) };
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
