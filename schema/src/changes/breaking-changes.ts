// Which breaking changes to the public schema are accepted: those declared in
// schema/breaking-changes.json, and the removal of an element whose @deprecated reason named a
// removal date that has passed ("… Removed after 2027-01-31."). Anything else breaks integrators
// by accident, and the check fails.
import { readFileSync } from "node:fs";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from "graphql";
import { ChangeType } from "@graphql-inspector/core";
import { z } from "zod";
import { diffSchemas, parseSdl, type SchemaChange } from "./schema-diff.ts";

const changeTypes = Object.values(ChangeType) as [string, ...string[]];

const declarationSchema = z.object({
  type: z.enum(changeTypes),
  path: z.string().min(1).optional(),
  reason: z.string().min(1),
  /** The day the break ships, YYYY-MM-DD. */
  date: z.iso.date(),
});

const declarationsFileSchema = z.object({
  $comment: z.string().optional(),
  breakingChanges: z.array(declarationSchema),
});

export type BreakingChangeDeclaration = z.infer<typeof declarationSchema>;

export function readDeclarations(file: string): BreakingChangeDeclaration[] {
  const parsed = declarationsFileSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new Error(`${file} is not a list of breaking-change declarations:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.breakingChanges;
}

export function declarationFor(change: SchemaChange, declarations: readonly BreakingChangeDeclaration[]) {
  return declarations.find((d) => d.type === change.type && d.path === change.path);
}

export interface BreakingChangeReview {
  changes: SchemaChange[];
  declared: { change: SchemaChange; declaration: BreakingChangeDeclaration }[];
  /** Removed after the removal date its deprecation announced: declared by the policy itself. */
  removedAsAnnounced: { change: SchemaChange; deprecation: string }[];
  undeclared: { change: SchemaChange; note?: string }[];
}

/** `today` is a UTC day, YYYY-MM-DD: a removal date must be strictly before it. */
export async function reviewSchemaChange(input: {
  before: string;
  after: string;
  declarations: readonly BreakingChangeDeclaration[];
  today: string;
}): Promise<BreakingChangeReview> {
  const before = parseSdl(input.before);
  const changes = await diffSchemas(before, parseSdl(input.after));
  return reviewChanges(changes, before, input.declarations, input.today);
}

export function reviewChanges(
  changes: SchemaChange[],
  before: GraphQLSchema,
  declarations: readonly BreakingChangeDeclaration[],
  today: string,
): BreakingChangeReview {
  const review: BreakingChangeReview = { changes, declared: [], removedAsAnnounced: [], undeclared: [] };
  const expired = (reason: string | null | undefined) => {
    const date = removalDate(reason);
    return date !== undefined && date < today;
  };
  let reachableWithoutExpired: Set<string> | undefined;

  for (const change of changes.filter((c) => c.criticality === "BREAKING")) {
    const declaration = declarationFor(change, declarations);
    if (declaration) {
      review.declared.push({ change, declaration });
      continue;
    }
    const deprecation = change.path ? deprecationOf(before, change.path) : undefined;
    if (isRemoval(change) && deprecation !== undefined && expired(deprecation)) {
      review.removedAsAnnounced.push({ change, deprecation });
      continue;
    }
    // A type only the announced removals led to (their input and result types) goes with them.
    if (change.type === ChangeType.TypeRemoved && change.path) {
      reachableWithoutExpired ??= reachableTypes(before, (element) => expired(element.deprecationReason));
      if (reachableTypes(before, () => false).has(change.path) && !reachableWithoutExpired.has(change.path)) {
        review.removedAsAnnounced.push({ change, deprecation: "reachable only through deprecated fields past their removal date" });
        continue;
      }
    }
    review.undeclared.push({ change, note: deprecationNote(deprecation, isRemoval(change), today) });
  }
  return review;
}

export function passes(review: BreakingChangeReview): boolean {
  return review.undeclared.length === 0;
}

/** The date in a deprecation reason's "removed after YYYY-MM-DD", if it names one. */
export function removalDate(reason: string | null | undefined): string | undefined {
  return /removed after (\d{4}-\d{2}-\d{2})/i.exec(reason ?? "")?.[1];
}

function deprecationNote(deprecation: string | undefined, removal: boolean, today: string): string | undefined {
  if (!removal || deprecation === undefined) return undefined;
  const date = removalDate(deprecation);
  if (date === undefined) return `it was deprecated ("${deprecation}") without "removed after <YYYY-MM-DD>"`;
  return `it was deprecated, but its removal date ${date} is not before today (${today})`;
}

const removals = new Set<string>([
  ChangeType.FieldRemoved,
  ChangeType.InputFieldRemoved,
  ChangeType.FieldArgumentRemoved,
  ChangeType.EnumValueRemoved,
]);

function isRemoval(change: SchemaChange): boolean {
  return removals.has(change.type);
}

/** The deprecation reason of the field, input field, argument or enum value at an Inspector path. */
export function deprecationOf(schema: GraphQLSchema, path: string): string | undefined {
  const [typeName, member, argument] = path.split(".");
  const type = typeName ? schema.getType(typeName) : undefined;
  if (!type || !member) return undefined;
  if (isEnumType(type)) return type.getValue(member)?.deprecationReason ?? undefined;
  if (isObjectType(type) || isInterfaceType(type)) {
    const field = type.getFields()[member];
    const element = argument === undefined ? field : field?.args.find((a) => a.name === argument);
    return element?.deprecationReason ?? undefined;
  }
  if (isInputObjectType(type)) return type.getFields()[member]?.deprecationReason ?? undefined;
  return undefined;
}

/** Named types a client can reach from the root types and directives, skipping elements `gone` says are removed. */
function reachableTypes(schema: GraphQLSchema, gone: (element: { deprecationReason?: string | null | undefined }) => boolean) {
  const reached = new Set<string>();
  const queue: GraphQLNamedType[] = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
    (root) => root != null,
  );
  for (const directive of schema.getDirectives()) queue.push(...directive.args.map((a) => getNamedType(a.type)));

  for (let type = queue.pop(); type; type = queue.pop()) {
    if (reached.has(type.name)) continue;
    reached.add(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields()).filter((f) => !gone(f))) {
        queue.push(getNamedType(field.type), ...field.args.filter((a) => !gone(a)).map((a) => getNamedType(a.type)));
      }
      queue.push(...type.getInterfaces());
      if (isInterfaceType(type)) queue.push(...schema.getPossibleTypes(type));
    } else if (isUnionType(type)) {
      queue.push(...type.getTypes());
    } else if (isInputObjectType(type)) {
      queue.push(...Object.values(type.getFields()).filter((f) => !gone(f)).map((f) => getNamedType(f.type)));
    }
  }
  return reached;
}

export function describeReview(review: BreakingChangeReview, declarationsFile: string, today: string): string {
  const count = (level: SchemaChange["criticality"]) => review.changes.filter((c) => c.criticality === level).length;
  const lines = [
    `${count("BREAKING")} breaking (${review.declared.length} declared, ${review.removedAsAnnounced.length} removed as announced, ` +
      `${review.undeclared.length} undeclared), ${count("DANGEROUS")} dangerous, ${count("NON_BREAKING")} non-breaking`,
  ];
  const line = (change: SchemaChange) => `${change.type} ${change.path ?? "(schema)"}: ${change.message}`;

  const dangerous = review.changes.filter((c) => c.criticality === "DANGEROUS");
  if (dangerous.length > 0) {
    lines.push("", "Dangerous (allowed; clients that assumed the old behaviour may misread results):");
    lines.push(...dangerous.map((c) => `  - ${line(c)}`));
  }
  if (review.declared.length > 0) {
    lines.push("", `Breaking, declared in ${declarationsFile}:`);
    lines.push(...review.declared.map(({ change, declaration }) => `  - ${line(change)}\n      ${declaration.date}: ${declaration.reason}`));
  }
  if (review.removedAsAnnounced.length > 0) {
    lines.push("", "Breaking, removed after the date its deprecation announced:");
    lines.push(...review.removedAsAnnounced.map(({ change, deprecation }) => `  - ${line(change)}\n      (${deprecation})`));
  }
  if (review.undeclared.length > 0) {
    lines.push("", `Undeclared breaking changes (${review.undeclared.length}):`);
    for (const { change, note } of review.undeclared) {
      lines.push(`  ✗ ${line(change)}`);
      if (note) lines.push(`      (${note})`);
    }
    lines.push(
      "",
      "If a break is deliberate, declare each change in the breakingChanges list of",
      `${declarationsFile}:`,
      ...review.undeclared.map(({ change }) => `  ${JSON.stringify(declarationTemplate(change, today))},`),
      "If it is not, keep the old field, argument or enum value for one more release, marked",
      '  @deprecated(reason: "Use <new name> instead. Removed after <YYYY-MM-DD>.")',
      "and remove it once that date has passed: the check then accepts the removal by itself.",
    );
  }
  return lines.join("\n");
}

function declarationTemplate(change: SchemaChange, today: string): BreakingChangeDeclaration {
  return { type: change.type, ...(change.path ? { path: change.path } : {}), reason: "<why, and what integrators use instead>", date: today };
}
