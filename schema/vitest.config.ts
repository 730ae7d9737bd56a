import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Node would load Inspector's own `import "graphql"` as graphql's CommonJS build while Vite
    // gives this package the ES build: two graphql copies, and instanceof checks fail. Inlined,
    // Inspector gets the same copy.
    server: { deps: { inline: ["@graphql-inspector/core"] } },
  },
});
