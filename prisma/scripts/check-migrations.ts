// Fails when prisma/migrations, applied from empty, does not yield the database
// schema.prisma describes: a schema change committed without its migration, or a
// migration edited by hand into something else. The migrations run on an in-memory
// PGlite shadow database; nothing else is needed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { authoringSchema, packageDir, runAuthoringCli } from "./authoring-cli.ts";

const schema = authoringSchema("schema", readFileSync(join(packageDir, "schema.prisma"), "utf8"));
const { status, stdout } = runAuthoringCli([
  "migrate", "diff", "--from-migrations", "migrations", "--to-schema-datamodel", schema, "--script", "--exit-code",
]);
if (status === 0) {
  console.log("prisma/migrations yields the database schema.prisma describes");
} else if (status === 2) {
  console.error("prisma/migrations does not yield the database schema.prisma describes; the missing SQL:\n");
  console.error(stdout);
  console.error("Write it as a migration: npm run migrate:new --workspace @latchkey/db -- <name>");
  process.exit(1);
} else {
  process.exit(status);
}
