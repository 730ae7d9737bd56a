// The schema changelog integrators read: one section per change to the SDL along the main line,
// newest first, its changes grouped by Inspector's criticality.
//
// The file is committed and checked for drift, so it is rendered from nothing but git history and
// the working SDL. A commit cannot name its own hash, so the newest change is headed by the commit
// it was made on top of ("Latest, on top of …"): before it is committed that commit is HEAD, and
// after, HEAD's first parent, the same commit, so `npm run changelog` then `git commit` gives a
// file the check accepts on a fresh clone, and keeps accepting until the SDL changes again. The
// change that follows gives the previous one its own date, hash and subject.
import type { GraphQLSchema } from "graphql";
import { declarationFor, deprecationOf, type BreakingChangeDeclaration } from "./breaking-changes.ts";
import { diffSchemas, parseSdl, type Criticality, type SchemaChange } from "./schema-diff.ts";
import { utcDay, type SdlChange } from "./sdl-history.ts";

const groups: [Criticality, string][] = [
  ["BREAKING", "Breaking"],
  ["DANGEROUS", "Dangerous"],
  ["NON_BREAKING", "Non-breaking"],
];

export async function renderChangelog(changes: readonly SdlChange[], declarations: readonly BreakingChangeDeclaration[]): Promise<string> {
  const parsed = lastParsed();
  const sections: string[] = [];
  for (const [index, change] of changes.entries()) {
    const latest = index === changes.length - 1;
    const body = await describe(change, parsed, declarations);
    sections.push([heading(change, latest), ...(latest ? [latestNote] : []), body].join("\n\n"));
  }
  return `${[intro, ...sections.reverse()].join("\n\n")}\n`;
}

const intro = `# Schema changelog

Changes to the public GraphQL schema (\`schema/schema.graphql\`), newest first: one section per
commit on the main line that changed it. Generated from the SDL's git history by
\`npm run changelog --workspace @latchkey/schema\`; do not edit by hand. How breaking changes are
declared and how long deprecated names are kept: [Schema changes and
deprecations](integrating.md#schema-changes-and-deprecations).`;

const latestNote =
  "_The newest change. It is named by the commit it was made on, because a commit cannot name itself; " +
  "the next change to the schema gives it its own date, hash and subject._";

function heading(change: SdlChange, latest: boolean): string {
  if (latest) {
    return change.base ? `## Latest, on top of \`${short(change.base.hash)}\` (${utcDay(change.base.committedAt)})` : "## Latest";
  }
  // Only the newest change can be uncommitted, so every other one has its commit.
  const commit = change.commit!;
  return `## ${utcDay(commit.committedAt)} · \`${short(commit.hash)}\` · ${prose(commit.subject)}`;
}

async function describe(change: SdlChange, parsed: ReturnType<typeof lastParsed>, declarations: readonly BreakingChangeDeclaration[]) {
  if (change.after === null) return "The SDL file was removed.";
  if (change.before === null) {
    const types = Object.keys(parsed(change.after).getTypeMap()).filter((name) => !name.startsWith("__"));
    return `The schema's first version: ${types.length} types.`;
  }
  // Before, then after: this change's before is the previous change's after, still parsed.
  const before = parsed(change.before);
  const after = parsed(change.after);
  const found = await diffSchemas(before, after);
  if (found.length === 0) return "The SDL's text changed; Inspector finds no change to the schema.";
  const descriptions = found.filter(isDescriptionChange);
  return groups
    .map(([level, title]) => {
      const items = found.filter((c) => c.criticality === level && !isDescriptionChange(c)).map((c) => `- ${item(c, before, declarations)}`);
      if (level === "NON_BREAKING" && descriptions.length > 0) items.push(`- ${describeDescriptions(descriptions)}`);
      return items.length === 0 ? undefined : `### ${title}\n\n${items.join("\n")}`;
    })
    .filter((group) => group !== undefined)
    .join("\n\n");
}

function isDescriptionChange(change: SchemaChange): boolean {
  return /_DESCRIPTION_(ADDED|CHANGED|REMOVED)$/.test(change.type);
}

// Documentation passes touch hundreds of descriptions at once; integrators need to know that
// wording changed, and where when it is a handful.
function describeDescriptions(changes: SchemaChange[]): string {
  const byKind = (["ADDED", "CHANGED", "REMOVED"] as const)
    .map((kind) => ({ kind, paths: changes.filter((c) => c.type.endsWith(`_DESCRIPTION_${kind}`)).map((c) => c.path ?? "(schema)") }))
    .filter(({ paths }) => paths.length > 0);
  const listed = changes.length <= 10;
  return `Descriptions ${byKind
    .map(({ kind, paths }) => `${kind.toLowerCase()} on ${listed ? paths.map((p) => `\`${p}\``).join(", ") : `${paths.length} element${paths.length === 1 ? "" : "s"}`}`)
    .join("; ")}`;
}

function item(change: SchemaChange, before: GraphQLSchema, declarations: readonly BreakingChangeDeclaration[]): string {
  let text = quotedAsCode(change.message);
  if (change.criticality !== "BREAKING") return text;
  const declaration = declarationFor(change, declarations);
  if (declaration) text += `. Declared (${declaration.date}): ${prose(declaration.reason)}`;
  const deprecation = change.path && change.type.endsWith("_REMOVED") ? deprecationOf(before, change.path) : undefined;
  if (deprecation !== undefined) text += `. It was deprecated: “${prose(deprecation)}”`;
  return text;
}

// Inspector quotes names and values in single quotes, escaping quotes inside them; code spans
// keep names such as ERROR_CODE from turning into emphasis.
function quotedAsCode(message: string): string {
  const quoted = /'((?:[^'\\]|\\.)*)'/g;
  let text = "";
  let from = 0;
  for (const match of message.matchAll(quoted)) {
    const name = match[1]!.replace(/\\(.)/g, "$1").replace(/\s+/g, " ");
    text += escaped(message.slice(from, match.index)) + (name.includes("`") ? `\`\` ${name} \`\`` : `\`${name}\``);
    from = match.index + match[0].length;
  }
  return (text + escaped(message.slice(from))).trim();
}

function prose(text: string): string {
  return escaped(text).trim();
}

// Subjects and reasons are plain text, not HTML.
function escaped(text: string): string {
  return text.replace(/\s+/g, " ").replace(/</g, "&lt;");
}

function short(hash: string): string {
  return hash.slice(0, 10);
}

// Consecutive changes share a version (one's after is the next one's before): parse each once.
function lastParsed() {
  let last: { sdl: string; schema: GraphQLSchema } | undefined;
  return (sdl: string) => {
    if (last?.sdl !== sdl) last = { sdl, schema: parseSdl(sdl) };
    return last.schema;
  };
}
