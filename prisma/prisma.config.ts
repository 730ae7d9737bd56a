// Prisma 6 with the JS engine: the CLI downloads no native engine and reaches the
// database through the same driver adapters the API uses. `migrate dev` authors
// migrations on a throw-away in-memory PGlite; with DATABASE_URL set, `migrate
// status` / `migrate deploy` talk to that PostgreSQL.
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";

process.env.DATABASE_URL ??= "postgresql://embedded/pglite";

export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  schema: "./schema.prisma",
  migrations: { path: "./migrations" },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (url && !url.startsWith("postgresql://embedded/")) {
      return new PrismaPg({ connectionString: url });
    }
    // Typed against an older @prisma/driver-adapter-utils; the protocol is the one Prisma 6.19 speaks.
    return new PrismaPGlite(new PGlite()) as unknown as PrismaPg;
  },
});
