// One factory for both deployments: PostgreSQL through @prisma/adapter-pg when
// DATABASE_URL is set, otherwise an embedded PGlite database under DATA_DIR so a
// fresh clone runs with nothing installed. Both get the same migrations.
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { PrismaClient } from "../generated/client/client.ts";
import { applyMigrations, type SqlRunner } from "./migrate.ts";

export type Database = {
  prisma: PrismaClient;
  kind: "postgres" | "pglite";
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /** The PostgreSQL pool's connections (for metrics); null on the embedded database. */
  poolStats(): { total: number; idle: number; waiting: number } | null;
  /**
   * SQL outside Prisma, for the job queue's own work (polling, maintenance):
   * several statements in one text when there are no values, run as one
   * transaction on PGlite. Not seen by `onQuery`.
   */
  execute(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  /** PostgreSQL connection string; absent means embedded PGlite. */
  url?: string | undefined;
  /** Where PGlite keeps its files; absent means in memory (tests). */
  dataDir?: string | undefined;
  poolSize?: number;
  /** Called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
};

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.url ? await openPostgres(options.url, options.poolSize ?? 10, options.onQuery) : await openPglite(options.dataDir, options.onQuery);
  return database;
}

function createClient(adapter: PrismaPg | PrismaPGlite, onQuery?: (sql: string) => void) {
  // "minimal" also stops the client capturing a call-site stack on every query
  // (it only serves the code frame of "pretty"/"colorless" messages); Prisma's
  // errors never reach clients, and the logged error keeps its own stack.
  const errorFormat = "minimal";
  if (!onQuery) return new PrismaClient({ adapter, errorFormat });
  const prisma = new PrismaClient({ adapter, errorFormat, log: [{ emit: "event", level: "query" }] });
  prisma.$on("query", (event) => onQuery(event.query));
  return prisma;
}

async function openPostgres(url: string, max: number, onQuery?: (sql: string) => void): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max });
  // A connection that drops (PostgreSQL restarting, as
  // fault-postgres-restart.test.ts does) makes its client emit 'error', which
  // ends the process if nobody listens. The pool listens only while a client is
  // idle; a held one (a transaction, the job queue's statements) has no
  // listener, nor does one just handed out before its holder can add one. So
  // every client gets one for life: its statement fails all the same, and the
  // pool drops a broken client when it is released.
  pool.on("connect", (client) => client.on("error", () => undefined));
  pool.on("error", () => undefined);
  const runner: SqlRunner = {
    async exec(sql) {
      await pool.query(sql);
    },
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async withLock(fn) {
      // Several API instances may start at once against one database.
      const client = await pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock(72707369)");
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock(72707369)").catch(() => undefined);
        client.release();
      }
    },
  };
  await applyMigrations(runner);
  const prisma = createClient(new PrismaPg(pool), onQuery);
  return {
    prisma,
    kind: "postgres",
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async ping() {
      await pool.query("SELECT 1");
    },
    async execute(text, values) {
      const client = await pool.connect();
      try {
        const result = (await client.query(text, values)) as pg.QueryResult | pg.QueryResult[];
        // Several statements answer with one result each; the last is the one asked for.
        return { rows: (Array.isArray(result) ? result.at(-1)?.rows : result.rows) ?? [] };
      } catch (error) {
        // A text with its own BEGIN that fails half-way leaves the connection in
        // an aborted transaction: end it before the pool hands the connection on.
        if (!values?.length) await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string | undefined, onQuery?: (sql: string) => void): Promise<Database> {
  let path: string | undefined;
  if (dataDir) {
    path = join(dataDir, "pglite");
    // Owner-only, also when an older version created it with the umask's mode:
    // PGlite makes its files 0666, so this directory is what keeps others out.
    await mkdir(path, { recursive: true, mode: 0o700 });
    await chmod(path, 0o700);
  }
  const client = new PGlite(path);
  await client.waitReady;
  await applyMigrations({
    exec: async (sql) => void (await client.exec(sql)),
    query: async (sql, params) => (await client.query(sql, params)).rows as never[],
    withLock: (fn) => fn(),
  });
  const prisma = createClient(new PrismaPGlite(client), onQuery);
  return {
    prisma,
    kind: "pglite",
    poolStats: () => null,
    async ping() {
      await client.query("SELECT 1");
    },
    async execute(text, values) {
      if (values?.length) return { rows: (await client.query<Record<string, unknown>>(text, values)).rows };
      // One connection: a multi-statement text that fails half-way must not
      // leave it inside an aborted transaction, so it runs inside one that
      // PGlite rolls back on error (its own BEGIN/COMMIT only warn).
      const results = await client.transaction((tx) => tx.exec(text));
      return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
    },
    async close() {
      await prisma.$disconnect();
      // PGlite keeps the process alive until it is closed.
      await client.close();
    },
  };
}
