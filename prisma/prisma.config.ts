// Prisma 7 CLI configuration. `prisma generate` (scripts/generate.ts) is the only
// command the project runs with it; the API applies migrations itself
// (src/migrate.ts) and migrations are authored with scripts/new-migration.ts.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "./schema.prisma",
  migrations: { path: "./migrations" },
  // Only commands that reach a database read it; generate needs none.
  datasource: { url: process.env.DATABASE_URL },
});
