// The documents the agent sends, validated against the committed SDL
// (schema/schema.graphql): catches a renamed field, type or argument as soon
// as the schema changes, without a running API. Skipped while the schema does
// not yet have the desktop-login part.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, NoDeprecatedCustomRule, parse, specifiedRules, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { ELEVATION_OPERATIONS, OPERATIONS } from "../src/index.ts";

const sdl = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "schema", "schema.graphql"), "utf8");

describe.skipIf(!sdl.includes("redeemDesktopLogin"))("GraphQL operations against schema/schema.graphql", () => {
  const schema = buildSchema(sdl);
  it.each(Object.entries({ ...OPERATIONS, ...ELEVATION_OPERATIONS }))("%s is valid", (_, document) => {
    // Nor any deprecated field or argument: the reference clients show integrators the current forms.
    expect(validate(schema, parse(document), [...specifiedRules, NoDeprecatedCustomRule]).map((error) => error.message)).toEqual([]);
  });
});
