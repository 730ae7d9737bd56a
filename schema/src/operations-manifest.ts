// The portal's operations manifest: every GraphQL document the portal was built
// with, under the SHA-256 of its text, as `npm run generate` writes it
// (web/src/gql/operations-manifest.json) and the API reads it (trusted
// documents). Its version names the set of operations, not a date: the digest of
// their hashes, so the same operations give the same version in any build, and
// an API can say which portal builds it holds and which one a refused request
// came from. No imports beyond node: codegen's config loads this file too.
import { createHash } from "node:crypto";

export const OPERATIONS_MANIFEST_FORMAT = "latchkey-portal-operations/1";

export type OperationsManifest = {
  format: typeof OPERATIONS_MANIFEST_FORMAT;
  /** `operationsVersion` of the documents' hashes. */
  version: string;
  /** `sha256:<hex digest of the text>` → the document's text. */
  documents: Record<string, string>;
};

const VERSION = /^[0-9a-f]{16}$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

/** The key a document is registered under. */
export const documentHash = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/** The version of a set of operations: the first 16 hex digits of the SHA-256 of their sorted hashes, one per line. */
export function operationsVersion(hashes: Iterable<string>): string {
  return createHash("sha256").update([...hashes].sort().join("\n")).digest("hex").slice(0, 16);
}

/** Whether a client's claim of its build (a request's `extensions.portalOperations`) has a version's form. */
export const isOperationsVersion = (value: unknown): value is string => typeof value === "string" && VERSION.test(value);

/** The manifest for these documents. */
export function operationsManifest(documents: Record<string, string>): OperationsManifest {
  const hashes = Object.keys(documents).sort();
  return { format: OPERATIONS_MANIFEST_FORMAT, version: operationsVersion(hashes), documents: Object.fromEntries(hashes.map((hash) => [hash, documents[hash]!])) };
}

/**
 * Reads a manifest in either form: this versioned one, or a bare map of hash →
 * text (what codegen's client preset writes as persisted-documents.json, from
 * earlier builds and other tools), whose version is then computed the same way.
 * Every key must be the SHA-256 of its text, and a stated version must be the
 * version of the documents: a manifest edited by hand is refused, not half-read.
 */
export function readOperationsManifest(json: unknown): OperationsManifest {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error("not a JSON object");
  const versioned = "format" in json;
  if (versioned && (json as { format: unknown }).format !== OPERATIONS_MANIFEST_FORMAT) {
    throw new Error(`format ${JSON.stringify((json as { format: unknown }).format)} is not ${OPERATIONS_MANIFEST_FORMAT}`);
  }
  const documents: unknown = versioned ? (json as { documents?: unknown }).documents : json;
  if (typeof documents !== "object" || documents === null || Array.isArray(documents)) throw new Error("its documents are not an object of hash → text");
  for (const [hash, text] of Object.entries(documents)) {
    if (!HASH.test(hash)) throw new Error(`${JSON.stringify(hash.slice(0, 80))} is not sha256:<64 hex digits>`);
    if (typeof text !== "string" || text.length === 0) throw new Error(`the document under ${hash} is not text`);
    if (documentHash(text) !== hash) throw new Error(`the document under ${hash} does not have that hash`);
  }
  const manifest = operationsManifest(documents as Record<string, string>);
  const stated = versioned ? (json as { version?: unknown }).version : undefined;
  if (versioned && stated !== manifest.version) {
    throw new Error(`its version ${JSON.stringify(stated)} is not its documents' (${manifest.version})`);
  }
  return manifest;
}
