// Every operation the portal was built with runs within the API's per-operation
// limits at the largest pages it may ask for: a screen whose query grew past
// them would be refused in front of its user, not at build time.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { schema } from "@latchkey/schema";
import { createRequire } from "node:module";
import type { DocumentNode, OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { OPERATION_LIMITS } from "../src/limits.ts";
import { operationCost } from "../src/operation-cost.ts";

// The schema is built with graphql's CommonJS build; the document is parsed with the same.
const { parse } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

const MANIFEST = fileURLToPath(new URL("../../web/src/gql/persisted-documents.json", import.meta.url));
/** The largest page any list gives. */
const LARGEST_PAGE = 100;

describe.runIf(existsSync(MANIFEST))("the portal's registered operations", () => {
  const documents = Object.values(JSON.parse(readFileSync(MANIFEST, "utf8")) as Record<string, string>);

  it("each cost no more than one operation may, with every page variable at its largest", () => {
    expect(documents.length).toBeGreaterThan(20);
    const over: string[] = [];
    for (const text of documents) {
      const document = parse(text) as unknown as DocumentNode;
      for (const operation of document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === "OperationDefinition")) {
        const variables = Object.fromEntries(
          (operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, /^(first|last)$/i.test(definition.variable.name.value) ? LARGEST_PAGE : null]),
        );
        const cost = operationCost(schema, document, variables, operation.name?.value);
        if (cost === null || cost > OPERATION_LIMITS.maxCost) over.push(`${operation.name?.value}: ${cost}`);
      }
    }
    expect(over).toEqual([]);
  });
});
