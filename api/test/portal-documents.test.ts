// Every operation the portal was built with runs within the API's per-operation
// limits at the largest pages it may ask for: a screen whose query grew past
// them would be refused in front of its user, not at build time. And the build's
// manifest is one the API reads, of the version compiled into the portal.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readOperationsManifest, schema } from "@latchkey/schema";
import { createRequire } from "node:module";
import type { DocumentNode, OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { OPERATION_LIMITS } from "../src/limits.ts";
import { operationCost } from "../src/operation-cost.ts";

// The schema is built with graphql's CommonJS build; the document is parsed with the same.
const { parse } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

const MANIFEST = fileURLToPath(new URL("../../web/src/gql/operations-manifest.json", import.meta.url));
const PORTAL_VERSION = fileURLToPath(new URL("../../web/src/gql/operations-version.ts", import.meta.url));
const CODEGEN_DOCUMENTS = fileURLToPath(new URL("../../web/src/gql/persisted-documents.json", import.meta.url));
/** The largest page any list gives. */
const LARGEST_PAGE = 100;

// Keyed on codegen's own output: once the portal is generated, its manifest must be there too.
describe.runIf(existsSync(CODEGEN_DOCUMENTS))("the portal's registered operations", () => {
  const manifest = readOperationsManifest(JSON.parse(readFileSync(MANIFEST, "utf8")));
  const documents = Object.values(manifest.documents);

  it("are the documents codegen wrote, under the version the portal sends", () => {
    expect(manifest.documents).toEqual(JSON.parse(readFileSync(CODEGEN_DOCUMENTS, "utf8")));
    expect(readFileSync(PORTAL_VERSION, "utf8")).toContain(`export const PORTAL_OPERATIONS_VERSION = "${manifest.version}";`);
  });

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
