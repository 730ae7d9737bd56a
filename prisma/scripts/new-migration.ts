// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes
// the committed schema.prisma (git HEAD) to the working one. `migrate diff`
// between two datamodels needs no database; `migrate dev` cannot replay our
// hand-written trigger migration on PGlite.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run migrate:new --workspace @latchkey/db -- <name_in_snake_case>");
  process.exit(2);
}
const here = fileURLToPath(new URL("..", import.meta.url));
const previous = join(mkdtempSync(join(tmpdir(), "latchkey-schema-")), "schema.prisma");
writeFileSync(previous, execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { cwd: here }));
const sql = execFileSync(
  "npx",
  ["prisma", "migrate", "diff", "--from-schema-datamodel", previous, "--to-schema-datamodel", "schema.prisma", "--script"],
  { cwd: here, stdio: ["ignore", "pipe", "inherit"] },
).toString();
if (!sql.trim() || /This is an empty migration/.test(sql)) {
  console.error("schema.prisma does not differ from HEAD: nothing to migrate");
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = join(here, "migrations", `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "migration.sql"), sql);
console.log(`wrote ${dir}/migration.sql`);
