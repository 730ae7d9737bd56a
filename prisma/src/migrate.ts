// Applies prisma/migrations at start-up. Prisma 7's `migrate deploy` needs a native
// schema engine that it downloads, and PGlite lives inside the API process, so the
// API applies the same SQL files itself and records them in Prisma's own
// `_prisma_migrations` table: `prisma migrate status` and `migrate deploy` keep
// working on the result wherever that engine is available.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export interface SqlRunner {
  /** Runs a script of several statements. */
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` holding a lock that other instances migrating the same database wait for. */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

export const migrationsDir = fileURLToPath(new URL("../migrations/", import.meta.url));

const createTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export async function applyMigrations(db: SqlRunner): Promise<string[]> {
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

  return db.withLock(async () => {
    await db.exec(createTable);
    const done = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const applied: string[] = [];
    for (const name of names) {
      const sql = await readFile(`${migrationsDir}${name}/migration.sql`, "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      const previous = done.find((row) => row.migration_name === name);
      if (previous) {
        if (!previous.finished_at) throw new Error(`Migration ${name} failed earlier; repair the database first`);
        if (previous.checksum !== checksum) throw new Error(`Migration ${name} was edited after it was applied`);
        continue;
      }
      const id = randomUUID();
      await db.exec(`BEGIN;\n${sql}\n;COMMIT;`).catch(async (error: unknown) => {
        await db.exec("ROLLBACK").catch(() => undefined);
        throw error;
      });
      await db.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
         VALUES ($1, $2, now(), $3, 1)`,
        [id, checksum, name],
      );
      applied.push(name);
    }
    return applied;
  });
}
