// Typed GraphQL documents for the portal, generated from the committed SDL so the
// portal never needs a running API to build. Run with `npm run generate`.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { CodegenConfig } from "@graphql-codegen/cli";
import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";

const config: CodegenConfig = {
  // Workspaces run this from their own folder; paths below are from the repo root.
  cwd: dirname(fileURLToPath(import.meta.url)),
  schema: "schema/schema.graphql",
  documents: ["web/src/**/*.{ts,tsx}", "!web/src/gql/**"],
  ignoreNoDocuments: true,
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
