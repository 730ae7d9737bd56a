// Writes docs/schema/, the browsable reference of the public API, from schema.graphql: an index and one
// Markdown page per kind (queries, mutations, …, scalars), each entry linking to the types it uses.
// With --check, generates into a temporary folder and fails when the committed pages differ.
// Over graphql-js because the npm generators tried were slow, Docusaurus-bound or dropped deprecated arguments.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  astFromValue,
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  print,
  type GraphQLArgument,
  type GraphQLEnumValue,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLType,
} from "graphql";

const sdlFile = fileURLToPath(new URL("../schema.graphql", import.meta.url));
const target = fileURLToPath(new URL("../../docs/schema", import.meta.url));
const shown = "docs/schema/";
const regenerate = "npm run reference --workspace @latchkey/schema";
const generatedNote = `<!-- Generated from schema/schema.graphql by \`${regenerate}\`: do not edit. -->\n\n`;

function renderReference(sdl: string): Map<string, string> {
  const schema = buildSchema(sdl);
  const operations = [
    { page: "queries.md", title: "Queries", root: schema.getQueryType() },
    { page: "mutations.md", title: "Mutations", root: schema.getMutationType() },
    { page: "subscriptions.md", title: "Subscriptions", root: schema.getSubscriptionType() },
  ].filter((group): group is typeof group & { root: GraphQLObjectType } => group.root != null);
  const roots = new Map<GraphQLNamedType, string>(operations.map(({ root, page }) => [root, page]));
  const types = Object.values(schema.getTypeMap())
    .filter((type) => !type.name.startsWith("__") && !roots.has(type))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const groups = [
    { page: "objects.md", title: "Objects", is: isObjectType },
    { page: "interfaces.md", title: "Interfaces", is: isInterfaceType },
    { page: "unions.md", title: "Unions", is: isUnionType },
    { page: "inputs.md", title: "Input types", is: isInputObjectType },
    { page: "enums.md", title: "Enums", is: isEnumType },
    { page: "scalars.md", title: "Scalars", is: isScalarType },
  ].map((group) => ({ ...group, types: types.filter((type) => group.is(type)) }));

  const pageOf = (type: GraphQLNamedType) =>
    roots.get(type) ?? `${groups.find((group) => group.is(type))!.page}#${type.name.toLowerCase()}`;
  const link = (type: GraphQLType) => `[\`${String(type)}\`](${pageOf(getNamedType(type))})`;
  const deprecation = (item: { deprecationReason?: string | null | undefined }) =>
    item.deprecationReason != null ? ` **Deprecated:** ${item.deprecationReason}` : "";
  const text = (description: string | null | undefined, indent: string) =>
    (description ?? "").replaceAll("\n", `\n${indent}`);

  const inputLine = (input: GraphQLArgument | GraphQLInputField, indent: string) => {
    const fallback = input.defaultValue === undefined ? null : astFromValue(input.defaultValue, input.type);
    const byDefault = fallback ? ` (default \`${print(fallback)}\`)` : "";
    const description = text(input.description, `${indent}  `);
    return `${indent}- **\`${input.name}\`** ${link(input.type)}${byDefault}: ${description}${deprecation(input)}`;
  };
  // A field's arguments are listed beneath it; its name shows them, so they read as arguments.
  const fieldLines = (field: GraphQLField<unknown, unknown>) => {
    const name = field.args.length > 0 ? `${field.name}(${field.args.map((arg) => arg.name).join(", ")})` : field.name;
    const description = text(field.description, "  ");
    return [
      `- **\`${name}\`** ${link(field.type)}: ${description}${deprecation(field)}`,
      ...field.args.map((arg) => inputLine(arg, "  ")),
    ];
  };

  const section = (type: GraphQLNamedType): string[] => {
    const lines = [`## ${type.name}`, "", type.description ?? ""];
    if (isScalarType(type) && type.specifiedByURL) lines.push("", `Specified by <${type.specifiedByURL}>.`);
    if ((isObjectType(type) || isInterfaceType(type)) && type.getInterfaces().length > 0) {
      lines.push("", `Implements ${type.getInterfaces().map(link).join(", ")}.`);
    }
    if (isInterfaceType(type)) {
      const { objects, interfaces } = schema.getImplementations(type);
      const implementations = [...interfaces, ...objects].sort((a, b) => (a.name < b.name ? -1 : 1));
      lines.push("", `Implemented by ${implementations.map(link).join(", ")}.`);
    }
    if (isObjectType(type) || isInterfaceType(type)) {
      lines.push("", "**Fields**", "", ...Object.values(type.getFields()).flatMap(fieldLines));
    }
    if (isInputObjectType(type)) {
      lines.push("", "**Fields**", "", ...Object.values(type.getFields()).map((field) => inputLine(field, "")));
    }
    if (isUnionType(type)) {
      const members = type.getTypes().map((member) => `- ${link(member)}: ${text(member.description, "  ")}`);
      lines.push("", "**Possible types**", "", ...members);
    }
    if (isEnumType(type)) {
      const value = (item: GraphQLEnumValue) => `- \`${item.name}\`: ${text(item.description, "  ")}${deprecation(item)}`;
      lines.push("", "**Values**", "", ...type.getValues().map(value));
    }
    return [...lines, ""];
  };

  const operation = (field: GraphQLField<unknown, unknown>): string[] => [
    `## ${field.name}`,
    "",
    `${field.description ?? ""}${deprecation(field)}`,
    "",
    `Returns ${link(field.type)}.`,
    ...(field.args.length > 0 ? ["", "**Arguments**", "", ...field.args.map((arg) => inputLine(arg, ""))] : []),
    "",
  ];

  const page = (title: string, body: string[]) => `${generatedNote}# ${title}\n\n${body.join("\n").trimEnd()}\n`;
  const pages = new Map<string, string>();
  for (const { page: name, title, root } of operations) {
    pages.set(name, page(title, Object.values(root.getFields()).flatMap(operation)));
  }
  for (const { page: name, title, types: members } of groups) {
    if (members.length > 0) pages.set(name, page(title, members.flatMap(section)));
  }

  const index = [
    "Every query, mutation and subscription of the public GraphQL API, and every type they use, as the schema",
    "describes them. How to call the API (API keys, errors, pagination, webhooks) is in",
    "[Integrating with Latchkey](../integrating.md).",
    "",
  ];
  for (const { page: name, title, root } of operations) {
    index.push(`## [${title}](${name})`, "");
    for (const field of Object.values(root.getFields())) {
      const deprecated = field.deprecationReason != null ? " *(deprecated)*" : "";
      const entry = `[\`${field.name}\`](${name}#${field.name.toLowerCase()})`;
      index.push(`- ${entry}${deprecated}: ${text(field.description, "  ")}`);
    }
    index.push("");
  }
  for (const { page: name, title, types: members } of groups) {
    if (members.length === 0) continue;
    index.push(`## [${title}](${name})`, "", members.map(link).join(" · "), "");
  }
  pages.set("README.md", page("Latchkey GraphQL API reference", index));
  return pages;
}

function writePages(pages: Map<string, string>, folder: string) {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const [name, content] of pages) writeFileSync(join(folder, name), content);
}

const listing = (folder: string) => (existsSync(folder) ? readdirSync(folder).sort() : []);

const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
const started = performance.now();
const pages = renderReference(readFileSync(sdlFile, "utf8"));

if (!values.check) {
  writePages(pages, target);
  console.log(`wrote ${pages.size} files to ${shown} in ${Math.round(performance.now() - started)} ms`);
} else {
  const scratch = mkdtempSync(join(tmpdir(), "schema-reference-"));
  try {
    writePages(pages, scratch);
    const names = [...new Set([...listing(scratch), ...listing(target)])].sort();
    const differing = names.filter((name) => {
      const [expected, committed] = [join(scratch, name), join(target, name)];
      if (!existsSync(expected) || !existsSync(committed)) return true;
      return !readFileSync(expected).equals(readFileSync(committed));
    });
    if (differing.length > 0) {
      console.error(`${shown} is out of date with schema/schema.graphql: run ${regenerate} and commit it.`);
      console.error(`Differing files: ${differing.map((name) => shown + name).join(", ")}`);
      process.exitCode = 1;
    } else {
      console.log(`${shown} is up to date (${pages.size} files, ${Math.round(performance.now() - started)} ms)`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
