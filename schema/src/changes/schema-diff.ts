// GraphQL Inspector's diff between two versions of the public SDL, tidied into the list that both
// the breaking-change check and the changelog read, so the two never disagree about what changed.
import { buildSchema, type GraphQLSchema } from "graphql";
import { ChangeType, diff, type Change } from "@graphql-inspector/core";

export type Criticality = "BREAKING" | "DANGEROUS" | "NON_BREAKING";

export interface SchemaChange {
  /** Inspector's change type, e.g. FIELD_REMOVED: with `path`, what a declaration names. */
  type: string;
  /** Inspector's path, e.g. `Mutation.logIn` or `Query.user.id`; absent for schema-wide changes. */
  path: string | undefined;
  criticality: Criticality;
  message: string;
}

// Source locations are never read here, and skipping them makes the changelog's ~40 parses of a
// 5,000-line SDL about a third faster.
export function parseSdl(sdl: string): GraphQLSchema {
  return buildSchema(sdl, { noLocation: true });
}

export async function diffSchemas(before: GraphQLSchema, after: GraphQLSchema): Promise<SchemaChange[]> {
  const changes = (await diff(before, after)).map(fromInspector);
  return tidy(changes).sort(byPath);
}

function fromInspector(change: Change): SchemaChange {
  return {
    type: change.type,
    path: change.path,
    criticality: change.criticality.level as Criticality,
    message: readableMessage(change),
  };
}

// A description change quotes both texts in full, often paragraphs long: the path says enough.
function readableMessage(change: Change): string {
  const description = /_DESCRIPTION_(ADDED|REMOVED|CHANGED)$/.exec(change.type);
  if (description && change.path) {
    return `Description ${description[1]!.toLowerCase()} on '${change.path}'`;
  }
  return change.message.replace(/\s+/g, " ").trim();
}

function parentPath(path: string): string {
  return path.slice(0, Math.max(path.lastIndexOf("."), 0));
}

// Inspector reports one edit several ways: a new type with each of its fields, members and
// descriptions, a deprecation both as FIELD_DEPRECATION_ADDED and as the @deprecated directive's
// usage and argument, and a changed deprecation reason as that argument removed (DANGEROUS) and
// added. One line per edit is kept. Nothing BREAKING is ever dropped here.
function tidy(changes: SchemaChange[]): SchemaChange[] {
  const addedElements = new Set(changes.filter((c) => elementAdditions.has(c.type) && c.path).map((c) => c.path!));
  const partOfAddition = (change: SchemaChange, path: string) =>
    (addedElements.has(path) && !elementAdditions.has(change.type)) || ancestors(path).some((a) => addedElements.has(a));
  const reportedPaths = new Set(changes.filter((c) => c.path && !isDirectiveUsage(c)).map((c) => c.path!));
  const changedPaths = new Set(changes.map((c) => c.path));
  const reasonsReported = new Set<string>();

  const kept: SchemaChange[] = [];
  for (const change of changes) {
    const path = change.path;
    if (change.criticality === "BREAKING" || !path) {
      kept.push(change);
      continue;
    }
    if (partOfAddition(change, path)) continue;
    if (isDirectiveUsage(change) && (reportedPaths.has(path) || reportedPaths.has(parentPath(path)))) continue;
    if (isDirectiveUsage(change) && path.endsWith(".@deprecated.reason")) {
      const deprecation = parentPath(path);
      if (changedPaths.has(deprecation) || reasonsReported.has(path)) continue;
      // Only the reason moved: Inspector has no change type for that on an argument or input field.
      reasonsReported.add(path);
      kept.push({ ...change, criticality: "NON_BREAKING", message: `Deprecation reason changed on '${parentPath(deprecation)}'` });
      continue;
    }
    kept.push(change);
  }
  return kept;
}

/** Changes that add a whole element: what else Inspector says about that element is part of it. */
const elementAdditions = new Set<string>([
  ChangeType.TypeAdded,
  ChangeType.FieldAdded,
  ChangeType.InputFieldAdded,
  ChangeType.FieldArgumentAdded,
  ChangeType.EnumValueAdded,
  ChangeType.DirectiveAdded,
  ChangeType.DirectiveArgumentAdded,
]);

function ancestors(path: string): string[] {
  const found: string[] = [];
  for (let parent = parentPath(path); parent; parent = parentPath(parent)) found.push(parent);
  return found;
}

function isDirectiveUsage(change: SchemaChange): boolean {
  return change.type.startsWith("DIRECTIVE_USAGE_");
}

function byPath(a: SchemaChange, b: SchemaChange): number {
  return compare(a.path ?? "", b.path ?? "") || compare(a.type, b.type) || compare(a.message, b.message);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
