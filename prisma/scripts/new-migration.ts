// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes
// the committed schema.prisma (git HEAD) to the working one, from `migrate diff`
// between the two datamodels, so no database is needed.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { authoringSchema, packageDir, runAuthoringCli } from "./authoring-cli.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run migrate:new --workspace @latchkey/db -- <name_in_snake_case>");
  process.exit(2);
}
const previous = authoringSchema("previous", execFileSync("git", ["show", "HEAD:./schema.prisma"], { cwd: packageDir, encoding: "utf8" }));
const next = authoringSchema("next", readFileSync(join(packageDir, "schema.prisma"), "utf8"));
const { status, stdout: sql } = runAuthoringCli([
  "migrate", "diff", "--from-schema-datamodel", previous, "--to-schema-datamodel", next, "--script", "--exit-code",
]);
if (status === 0) {
  console.error("schema.prisma does not differ from HEAD: nothing to migrate");
  process.exit(1);
}
if (status !== 2) process.exit(status);
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = join(packageDir, "migrations", `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "migration.sql"), sql);
console.log(`wrote ${dir}/migration.sql`);
