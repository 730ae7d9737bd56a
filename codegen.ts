// Typed GraphQL documents for the portal, generated from the committed SDL so the
// portal never needs a running API to build. Run with `npm run generate`.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CodegenConfig } from "@graphql-codegen/cli";
import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";
import { operationsManifest } from "./schema/src/operations-manifest.ts";

const root = dirname(fileURLToPath(import.meta.url));
const portalGql = join(root, "web/src/gql");

/**
 * The portal's operations, published for the API as a versioned manifest
 * (operations-manifest.json), and the version compiled into the portal, which
 * sends it with each operation so a refusal can name the build it came from.
 * A file is written only when it changes, and whole (a new file renamed over
 * the old), as an API starting meanwhile reads it.
 */
function writeOperationsManifest() {
  const manifest = operationsManifest(JSON.parse(readFileSync(join(portalGql, "persisted-documents.json"), "utf8")));
  writeIfChanged(join(portalGql, "operations-manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeIfChanged(
    join(portalGql, "operations-version.ts"),
    `/** The version of the portal's operations manifest (operations-manifest.json), written by \`npm run generate\`. */\n` +
      `export const PORTAL_OPERATIONS_VERSION = ${JSON.stringify(manifest.version)};\n`,
  );
}

function writeIfChanged(path: string, content: string) {
  if (existsSync(path) && readFileSync(path, "utf8") === content) return;
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

const config: CodegenConfig = {
  // Workspaces run this from their own folder; paths below are from the repo root.
  cwd: root,
  schema: "schema/schema.graphql",
  documents: ["web/src/**/*.{ts,tsx}", "!web/src/gql/**"],
  ignoreNoDocuments: true,
  hooks: { afterAllFileWrite: [writeOperationsManifest] },
  generates: {
    "web/src/gql/": {
      preset: "client",
      // The registered text is what the API runs, so it selects `__typename` everywhere itself:
      // the portal's normalized cache needs it and can no longer add it on the way out.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        // Components read the fields they select directly; no masking layer to unwrap.
        fragmentMasking: false,
        // The portal's operations are registered at build time: persisted-documents.json maps
        // each document's SHA-256 to its text, the API accepts only these from a portal session,
        // and the portal sends the hash (each document carries it in `__meta__.hash`).
        persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: "sha256" },
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        defaultScalarType: "unknown",
        scalars: { ID: "string", DateTime: "string", JSON: "unknown" },
      },
    },
    // The schema's shape for the portal's normalized cache (graphcache): which types are in each
    // result union and the Error interface, which fields are nullable, which types have no id.
    "web/src/gql/introspection.ts": {
      plugins: ["urql-introspection"],
      config: { useTypeImports: true },
    },
  },
};

export default config;
