// Fails when schema.graphql breaks integrators without saying so. GraphQL Inspector compares it
// with the previous committed version:
//   - the working file differs from HEAD's: HEAD's version (or, with --against <ref>, the version
//     where <ref> and HEAD diverged: a pull request's whole branch at once);
//   - it equals HEAD's, as on CI's fresh clone: the last commit that changed it, against that
//     commit's first parent, so the change being shipped is still the one checked.
// Breaking changes pass only when declared in breaking-changes.json, or when they remove what a
// deprecation announced ("… Removed after <YYYY-MM-DD>.") once that date has passed.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeReview, passes, readDeclarations, reviewSchemaChange } from "../src/changes/breaking-changes.ts";
import { describeCommit, openSdlRepository, utcDay } from "../src/changes/sdl-history.ts";

const sdlFile = fileURLToPath(new URL("../schema.graphql", import.meta.url));
const declarationsFile = fileURLToPath(new URL("../breaking-changes.json", import.meta.url));
const { values } = parseArgs({ options: { against: { type: "string" } } });

function skip(why: string): never {
  console.log(`Breaking-change check skipped: ${why}.`);
  process.exit(0);
}

const repository = openSdlRepository(sdlFile);
if (!repository.available) skip(`${repository.why}, so there is no previous version to compare with`);

let comparison: { before: string | null; after: string | null; what: string };
if (values.against) {
  const base = (() => {
    try {
      return repository.atMergeBase(values.against);
    } catch (error) {
      console.error(`Cannot compare against ${values.against}: ${(error as Error).message}`);
      process.exit(1);
    }
  })();
  comparison = {
    before: base.sdl,
    after: existsSync(sdlFile) ? readFileSync(sdlFile, "utf8") : null,
    what: `the working schema.graphql against ${describeCommit(base.commit)}, where ${values.against} and HEAD diverged`,
  };
} else {
  const last = repository.changes().at(-1);
  if (!last) {
    if (repository.shallow) skip("this shallow clone's history does not reach the last change to schema.graphql (git fetch --unshallow)");
    skip("schema.graphql has never changed in git");
  }
  const base = last.base ? describeCommit(last.base) : "nothing";
  comparison = {
    ...last,
    what: last.commit
      ? `${describeCommit(last.commit)}, the last commit that changed schema.graphql, against ${base}`
      : `the working schema.graphql against HEAD, ${base}`,
  };
}

if (comparison.after === null) {
  console.error("schema/schema.graphql is missing: run npm run generate --workspace @latchkey/schema");
  process.exit(1);
}
if (comparison.before === null) skip(`${comparison.what}: it is the schema's first version, nothing earlier to break`);

const today = utcDay(new Date());
const review = await reviewSchemaChange({
  before: comparison.before,
  after: comparison.after,
  declarations: readDeclarations(declarationsFile),
  today,
});
console.log(`Schema changes: ${comparison.what}`);
console.log(describeReview(review, "schema/breaking-changes.json", today));
if (!passes(review)) process.exit(1);
