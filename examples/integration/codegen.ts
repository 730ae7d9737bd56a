// Typed documents for the operations in src/, from Latchkey's SDL. Run with `npm run generate`.
// In your own project, point `schema` at a copy of schema.graphql from the Latchkey release you run.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema/schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        defaultScalarType: "unknown",
        scalars: { ID: "string", DateTime: "string" },
      },
    },
  },
};

export default config;
