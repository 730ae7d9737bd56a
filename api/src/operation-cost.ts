// What an operation costs, counted the way GitHub's and Shopify's APIs count:
// an object costs 1, a scalar or enum 0, and a field that pages (takes
// `first`/`last`: every connection) multiplies the cost of what is selected
// under it by its page size, the default page when neither is given. Where a
// union or interface is selected, the costliest member counts. Lists without
// page arguments count once: they hold what one row has (its delegations).
import { createRequire } from "node:module";
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from "graphql";
import { createComplexityRule, type ComplexityEstimatorArgs } from "graphql-query-complexity";
import { DEFAULT_PAGE_SIZE } from "@latchkey/schema";

// graphql ships a CommonJS and an ES build, and its type checks refuse the
// other build's types. The schema is built with the CommonJS one (Node loads
// Pothos and graphql-query-complexity with it); an import here would get the
// ES build under vitest, so the functions that inspect the schema come from there.
const { getNamedType, getOperationAST, isLeafType, Kind, validate } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

/**
 * A fragment is measured each time it is spread, so a few fragments spreading
 * each other many times would make measuring itself the attack: it stops here.
 */
const MAX_MEASURED_SELECTIONS = 10_000;

/** Rows a paging field asks for: `first`, else `last`, else the default page. */
function pageSize(args: Record<string, unknown>): number {
  const asked = typeof args.first === "number" ? args.first : typeof args.last === "number" ? args.last : DEFAULT_PAGE_SIZE;
  // A negative size is refused when the field runs; it must not lower the cost meanwhile.
  return Math.max(0, asked);
}

export function fieldCost({ field, args, childComplexity }: ComplexityEstimatorArgs): number {
  if (isLeafType(getNamedType(field.type))) return 0;
  const pages = field.args.some((arg) => arg.name === "first" || arg.name === "last");
  return 1 + (pages ? pageSize(args) : 1) * childComplexity;
}

/**
 * Measured costs by document: yoga's parser cache hands back the same
 * DocumentNode for the same text, so a page asked again is not validated again
 * (measuring was a tenth of what a small page cost). Within a document, the cost
 * depends only on the operation and its Int and Boolean variables (page sizes,
 * `@skip`/`@include`), never on ids or other input, so those are the key.
 */
const measured = new WeakMap<DocumentNode, Map<string, number | null>>();

/** Keys kept per document; a document asked with ever new page sizes starts over past this. */
const MEASURED_PER_DOCUMENT = 64;

/**
 * The cost of the operation `operationName` picks, with its variables; at
 * least 1, as every operation is charged. Null when it cannot be measured
 * (more than MAX_MEASURED_SELECTIONS selections once its fragments are spread).
 * Variables that do not fit count as nothing here: execution refuses them and says why.
 * Remembered for the document (see `measured`).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
): number | null {
  const operation = getOperationAST(document, operationName);
  // No such operation: execution answers that, before anything runs.
  if (!operation) return 1;
  const costing = (operation.variableDefinitions ?? [])
    .filter((definition) => {
      let type = definition.type;
      while (type.kind !== Kind.NAMED_TYPE) type = type.type;
      return type.name.value === "Int" || type.name.value === "Boolean";
    })
    .map((definition) => variables?.[definition.variable.name.value] ?? null);
  const key = `${operationName ?? ""}\u0000${JSON.stringify(costing)}`;
  let costs = measured.get(document);
  if (!costs) measured.set(document, (costs = new Map()));
  if (costs.has(key)) return costs.get(key)!;
  const cost = measure(schema, document, variables, operation);
  if (costs.size >= MEASURED_PER_DOCUMENT) costs.clear();
  costs.set(key, cost);
  return cost;
}

function measure(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operation: OperationDefinitionNode): number | null {
  let cost = 0;
  const rule = createComplexityRule({
    maximumComplexity: Number.POSITIVE_INFINITY,
    estimators: [fieldCost],
    variables: variables ?? {},
    operationName: operation.name?.value,
    maxQueryNodes: MAX_MEASURED_SELECTIONS,
    onComplete: (measuredCost) => {
      cost = measuredCost;
    },
  });
  try {
    // The rule reports problems with the variables (ignored, see above) and throws past the selections cap.
    validate(schema, document, [rule]);
  } catch {
    return null;
  }
  return Math.max(1, cost);
}
