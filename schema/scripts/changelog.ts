// Writes docs/schema-changelog.md from schema.graphql's git history; with --check, fails when the
// committed file is not what that history gives (the changelog's counterpart of the SDL drift check).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readDeclarations } from "../src/changes/breaking-changes.ts";
import { renderChangelog } from "../src/changes/changelog.ts";
import { openSdlRepository } from "../src/changes/sdl-history.ts";

const sdlFile = fileURLToPath(new URL("../schema.graphql", import.meta.url));
const declarationsFile = fileURLToPath(new URL("../breaking-changes.json", import.meta.url));
const target = fileURLToPath(new URL("../../docs/schema-changelog.md", import.meta.url));
const shown = "docs/schema-changelog.md";
const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });

const repository = openSdlRepository(sdlFile);
const unavailable = !repository.available
  ? repository.why
  : repository.shallow
    ? "this is a shallow clone, and the changelog needs the SDL's whole history (git fetch --unshallow)"
    : undefined;
if (!repository.available || unavailable) {
  if (values.check) {
    console.log(`Schema changelog check skipped: ${unavailable}.`);
    process.exit(0);
  }
  console.error(`Cannot write ${shown}: ${unavailable}.`);
  process.exit(1);
}

const started = performance.now();
const changes = repository.changes();
const changelog = await renderChangelog(changes, readDeclarations(declarationsFile));
const took = `${changes.length} changes to the SDL in ${Math.round(performance.now() - started)} ms`;

if (!values.check) {
  writeFileSync(target, changelog);
  console.log(`wrote ${shown} (${took})`);
} else {
  const committed = existsSync(target) ? readFileSync(target, "utf8") : "";
  if (committed !== changelog) {
    const expected = changelog.split("\n");
    const actual = committed.split("\n");
    const differs = expected.findIndex((text, i) => text !== actual[i]);
    const line = differs === -1 ? expected.length : differs;
    console.error(`${shown} is out of date: run npm run changelog --workspace @latchkey/schema and commit it.`);
    console.error(`First difference, line ${line + 1}:`);
    console.error(`  expected: ${expected[line] ?? "(end of file)"}`);
    console.error(`  found:    ${actual[line] ?? "(end of file)"}`);
    console.error("(After amending or rebasing a commit that changed schema.graphql, regenerate it too.)");
    process.exit(1);
  }
  console.log(`${shown} is up to date (${took})`);
}
