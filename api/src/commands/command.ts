// What every operator command does at its end, the same way: the database
// closed and DATA_DIR owner-only again, and an exit status with the error's
// message, never its stack, on stderr.
import type { Database } from "@latchkey/db";
import type { Config } from "../config.ts";
import { restrictDataDir } from "../data-dir.ts";

/** Closes the database a command opened; PGlite makes some files 0644 whatever the umask, so DATA_DIR is made owner-only again, as the API does at its stop. */
export async function closeDatabase(db: Database, config: Config) {
  await db.close();
  if (!config.databaseUrl) await restrictDataDir(config.dataDir);
}

/** Runs a command to its exit status; an error ends it with status 1 and its message. */
export function runCommand(main: () => Promise<number>) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
