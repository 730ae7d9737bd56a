// Prisma 6.19 configuration for authoring migrations (scripts/new-migration.ts,
// scripts/check-migrations.ts). Prisma 7's migrate commands run a native schema
// engine that must be downloaded; Prisma 6 runs its engine as WebAssembly over a
// driver adapter instead. Every database it touches is a throw-away in-memory PGlite.
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { defineConfig } from "prisma6/config";

async function connect() {
  const db = new PGlite();
  const adapter = await new PrismaPGlite(db).connect();
  const executeRaw = adapter.executeRaw.bind(adapter);
  // The engine applies each migration file as one parameterless executeRaw. pg
  // sends such a query with the simple protocol, which runs several statements;
  // PGlite's query() always prepares it, which PostgreSQL refuses for several.
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    const results = await db.exec(query.sql);
    return results.at(-1)?.affectedRows ?? 0;
  };
  return adapter;
}

export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  schema: "../schema.prisma",
  migrations: { path: "../migrations" },
  async adapter() {
    // Typed against Prisma 7's adapter interface; the calls the Prisma 6 engine makes are the same.
    return { provider: "postgres", adapterName: "pglite-prisma-adapter", connect, connectToShadowDb: connect } as never;
  },
});
