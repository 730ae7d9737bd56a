// One operation per root field, built from the schema as it is when the test
// runs: every argument a variable, a selection of the result's scalars a few
// levels down, the typed errors' `code message` on result unions. The variables
// are drawn afresh for every request (values.ts).
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  parse,
  validate,
} from "graphql";
import {
  type FilePart,
  HOSTILE_EMAILS,
  HOSTILE_FLOATS,
  HOSTILE_INTS,
  HOSTILE_RANGES,
  HOSTILE_STRINGS,
  HOSTILE_URLS,
  MALFORMED_IDS,
  OUT_OF_RANGE_INTS,
  type Random,
  anyJson,
  deepJson,
  hostileDates,
  uuidVariants,
  wrongType,
} from "./values.ts";

export type RootKind = "query" | "mutation";

export type Operation = {
  kind: RootKind;
  field: string;
  document: string;
  args: readonly GraphQLArgument[];
};

/** How deep results are selected: the result, its objects, and their scalars. */
const RESULT_LEVELS = 3;
/** Objects selected under one object; connections' edges and nodes first. */
const OBJECTS_PER_LEVEL = 4;
const PREFERRED_OBJECTS = ["edges", "node", "nodes", "pageInfo"];

function takesRequiredArgument(field: GraphQLField<unknown, unknown>) {
  return field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
}

function implementsError(type: GraphQLNamedType) {
  return isObjectType(type) && type.getInterfaces().some((i) => i.name === "Error");
}

function objectSelection(type: GraphQLObjectType, levels: number): string {
  const parts = ["__typename"];
  const fields = Object.values(type.getFields()).filter((field) => !takesRequiredArgument(field));
  // At the deepest level an object with an id is asked only for it: enough to see whose it is, without its costlier counts.
  if (levels === 1 && fields.some((field) => field.name === "id")) return "__typename id";
  for (const field of fields) if (isLeafType(getNamedType(field.type))) parts.push(field.name);
  if (levels > 1) {
    const objects = fields
      .filter((field) => !isLeafType(getNamedType(field.type)))
      .sort((x, y) => rank(x.name) - rank(y.name) || x.name.localeCompare(y.name))
      .slice(0, OBJECTS_PER_LEVEL);
    for (const field of objects) parts.push(`${field.name} { ${selectionOf(field.type, levels - 1)} }`);
  }
  return parts.join(" ");
}

function rank(name: string) {
  const index = PREFERRED_OBJECTS.indexOf(name);
  return index === -1 ? PREFERRED_OBJECTS.length : index;
}

/** What to ask of a result of `type`, `levels` objects deep. */
export function selectionOf(type: GraphQLOutputType, levels = RESULT_LEVELS): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return "";
  if (isObjectType(named)) return objectSelection(named, levels);
  if (isUnionType(named)) {
    const members = named.getTypes();
    const parts = ["__typename"];
    if (members.some(implementsError)) parts.push("... on Error { code message }");
    for (const member of members) if (!implementsError(member)) parts.push(`... on ${member.name} { ${objectSelection(member, levels)} }`);
    return parts.join(" ");
  }
  if (isInterfaceType(named)) {
    const parts = ["__typename"];
    for (const field of Object.values(named.getFields())) {
      if (!takesRequiredArgument(field) && isLeafType(getNamedType(field.type))) parts.push(field.name);
    }
    return parts.join(" ");
  }
  throw new Error(`no selection for ${String(named)}`);
}

/** Every query and mutation field, each as one operation with all its arguments as variables. */
export function operationsOf(schema: GraphQLSchema): Operation[] {
  const roots: [RootKind, GraphQLObjectType | null | undefined][] = [
    ["query", schema.getQueryType()],
    ["mutation", schema.getMutationType()],
  ];
  const operations: Operation[] = [];
  for (const [kind, root] of roots) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const declarations = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ");
      const call = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
      const selection = selectionOf(field.type);
      const document = `${kind} Fuzz${declarations ? `(${declarations})` : ""} { ${field.name}${call ? `(${call})` : ""}${selection ? ` { ${selection} }` : ""} }`;
      // A document the schema refuses would fuzz nothing but the validator: a bug in this file.
      const problems = validate(schema, parse(document));
      if (problems.length) throw new Error(`the fuzzer built an invalid document for ${field.name}: ${problems.map((p) => p.message).join("; ")}\n${document}`);
      operations.push({ kind, field: field.name, document, args: field.args });
    }
  }
  return operations;
}

/** Ids the fuzzer draws from, by kind (tenant, user, workstation...): the victim's, and the caller's own. */
export type IdPool = {
  victim: Map<string, string[]>;
  own: Map<string, string[]>;
};

/** What the generator knows of the world besides ids. */
export type Plausible = {
  emails: string[];
  /** Tenant slugs, customer names, usernames: what sign-in and naming fields take. */
  names: string[];
  /** Well-formed OPAQUE client messages (login and registration starts). */
  opaqueMessages: string[];
  /** Well-formed SPKI public keys, base64. */
  publicKeys: string[];
};

/** Which kind of id an argument or input field named `name` in `context` (type or field names) takes. */
function idKind(name: string, context: string[], kinds: string[]): string | null {
  const base = name.replace(/Ids?$/, "").toLowerCase();
  const aliases: Record<string, string> = { customer: "tenant", msp: "tenant", technician: "user", approvedby: "user", target: "user", holder: "authenticator" };
  if (base && base !== "id" && base !== "ids") {
    const kind = aliases[base] ?? base;
    // `deliveryId` names a webhookDelivery.
    return kinds.find((k) => k.toLowerCase() === kind) ?? kinds.find((k) => k.toLowerCase().endsWith(kind)) ?? null;
  }
  // `id` alone: the kind the operation or input type is named after.
  const where = context.join(" ").toLowerCase();
  return [...kinds].sort((x, y) => y.length - x.length).find((k) => where.includes(k.toLowerCase())) ?? null;
}

/**
 * Draws variables. Each request has a hostility: the chance that any one value
 * in it is hostile rather than plausible. Low, the request is a well-formed one
 * with a hostile value or two (often the victim's id where the caller's would
 * go), so it gets past the first checks; high, nearly everything is hostile.
 * Some requests are also ill-typed: any value may come as another JSON type.
 */
export class InputGenerator {
  private hostility = 0.5;
  private illTyped = false;
  private readonly dates: readonly string[];
  private readonly kinds: string[];

  constructor(
    private readonly rng: Random,
    private readonly ids: IdPool,
    private readonly plausible: Plausible,
    private readonly now: number,
    private readonly files: readonly FilePart[],
  ) {
    this.dates = hostileDates(now);
    this.kinds = [...new Set([...ids.victim.keys(), ...ids.own.keys()])];
  }

  variables(operation: Operation): Record<string, unknown> {
    this.hostility = this.rng.pick([0.05, 0.15, 0.4, 0.7]);
    this.illTyped = this.rng.chance(0.12);
    const variables: Record<string, unknown> = {};
    for (const arg of operation.args) {
      if (this.omitted(arg.type, arg.name)) continue;
      variables[arg.name] = this.value(arg.type, arg.name, [operation.field], 0);
    }
    // An argument the field does not have.
    if (this.illTyped && this.rng.chance(0.2)) variables.unexpected = wrongType(this.rng);
    return variables;
  }

  private hostile() {
    return this.rng.chance(this.hostility);
  }

  /** Whether an optional argument or input field is left out; a cursor is given only as a hostile value. */
  private omitted(type: GraphQLInputType, name: string) {
    if (isNonNullType(type) || this.illTyped) return false;
    if (name === "after" || name === "before") return !this.hostile();
    return this.rng.chance(0.4);
  }

  private value(type: GraphQLInputType, name: string, context: string[], depth: number): unknown {
    if (this.illTyped && this.rng.chance(0.08)) return this.rng.chance(0.3) ? null : wrongType(this.rng);
    if (isNonNullType(type)) return this.present(type.ofType, name, context, depth);
    if (this.rng.chance(0.05)) return null;
    return this.present(type, name, context, depth);
  }

  /** A value other than null for `type` (of its own type, unless the request is ill-typed). */
  private present(type: GraphQLInputType, name: string, context: string[], depth: number): unknown {
    const rng = this.rng;
    if (isListType(type)) {
      // Long lists at the top; nested ones short, or every request would be refused for its size alone.
      const length = !this.hostile() ? rng.pick([1, 1, 2, 3]) : depth >= 2 ? rng.pick([0, 1, 2, 3]) : rng.pick([0, 5, 20, 100, depth === 0 ? 1_000 : 4]);
      // Long lists of long strings would only meet the request size limit; keep them to ids and the like.
      const items = Array.from({ length }, () => this.value(type.ofType, name, context, depth + 1));
      return length > 20 ? items.map((item) => (typeof item === "string" ? item.slice(0, 64) : item)) : items;
    }
    if (isEnumType(type)) {
      if (!this.hostile() || rng.chance(0.8)) return rng.pick(type.getValues()).name;
      return rng.pick(["", "NOT_A_VALUE", type.getValues()[0]!.name.toLowerCase(), "__proto__"]);
    }
    if (isInputObjectType(type)) {
      // Only a recursive input type gets this deep (lists count as a level too).
      if (depth > 10) return null;
      const object: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (this.omitted(field.type, field.name)) continue;
        object[field.name] = this.value(field.type, field.name, [...context, type.name], depth + 1);
      }
      if (this.illTyped && rng.chance(0.2)) object.unexpectedField = wrongType(rng);
      return object;
    }
    if (isScalarType(type)) return this.scalar(type.name, name, context);
    throw new Error(`no value for ${String(type)}`);
  }

  private scalar(scalar: string, name: string, context: string[]): unknown {
    const rng = this.rng;
    const hostile = this.hostile();
    switch (scalar) {
      case "ID":
        return this.id(name, context, hostile);
      case "Int":
        if (!hostile) return rng.pick([1, 2, 5, 10, 20]);
        if (this.illTyped && rng.chance(0.3)) return rng.pick(OUT_OF_RANGE_INTS);
        return rng.pick(HOSTILE_INTS);
      case "Float":
        return hostile ? rng.pick(HOSTILE_FLOATS) : rng.pick([0.5, 1, 10]);
      case "Boolean":
        return rng.chance(0.5);
      case "DateTime":
        return hostile ? rng.pick(this.dates) : new Date(this.now + rng.pick([1, 24, 24 * 30]) * 3600_000).toISOString();
      case "JSON":
        if (!hostile) return rng.pick<unknown>([{}, { note: "fuzz" }, []]);
        return rng.chance(0.1) ? deepJson(rng.pick([50, 500, 5_000])) : anyJson(rng);
      case "File":
        // Sent as a part of a multipart request; anything else in its place must be refused.
        if (!hostile) return this.files.find((file) => file.name === "logo.png") ?? rng.pick(this.files);
        return rng.chance(0.8) ? rng.pick(this.files) : rng.pick<unknown>(["file", { name: "x.png" }, 0]);
      case "String":
        return this.string(name, hostile);
      default:
        return rng.chance(0.5) ? this.string(name, hostile) : wrongType(rng);
    }
  }

  /**
   * Plausible: one of the caller's own ids of the kind the argument names, or
   * the victim's (the attack a well-formed request makes). Hostile: the
   * victim's written another way, a random or malformed one, a number.
   */
  private id(name: string, context: string[], hostile: boolean): unknown {
    const rng = this.rng;
    const kind = idKind(name, context, this.kinds);
    const from = (side: Map<string, string[]>) => {
      const ofKind = kind && rng.chance(0.85) ? side.get(kind) : undefined;
      const all = ofKind?.length ? ofKind : [...side.values()].flat();
      return all.length ? rng.pick(all) : rng.uuid();
    };
    if (!hostile) return rng.chance(0.55) ? from(this.ids.own) : from(this.ids.victim);
    const roll = rng.next();
    // The victim's ids written as PostgreSQL also reads them.
    if (roll < 0.3) return rng.pick(uuidVariants(from(this.ids.victim)));
    if (roll < 0.45) return from(this.ids.victim);
    if (roll < 0.65) return rng.uuid();
    if (roll < 0.7) return rng.pick([0, -1, 1, 2 ** 53]);
    return rng.pick(MALFORMED_IDS);
  }

  private string(name: string, hostile: boolean): string {
    const rng = this.rng;
    const field = name.toLowerCase();
    const any = () => rng.pick(HOSTILE_STRINGS);
    if (field === "after" || field === "before") {
      // Cursors are opaque to clients, so anything: including ones naming the victim's rows.
      const victim = [...this.ids.victim.values()].flat();
      const id = rng.pick(victim.length ? victim : [rng.uuid()]);
      return rng.pick([rng.base64url(12), Buffer.from(id).toString("base64url"), Buffer.from(JSON.stringify({ id, createdAt: "2020-01-01T00:00:00Z" })).toString("base64url"), any()]);
    }
    if (field.includes("email")) return hostile ? rng.pick([...HOSTILE_EMAILS, any()]) : rng.pick(this.plausible.emails);
    if (field.includes("url")) return hostile ? rng.pick([...HOSTILE_URLS, any()]) : "https://hooks.example.test/fuzz";
    if (field.includes("range") || field.includes("cidr")) return hostile ? rng.pick([...HOSTILE_RANGES, any()]) : "203.0.113.0/24";
    if (hostile) return any();
    // Sign-in pages name their tenant by slug or id.
    if (field === "tenant") return rng.chance(0.3) ? rng.pick(this.ids.victim.get("tenant") ?? ["none"]) : rng.pick(this.plausible.names);
    if (field.includes("slug") || field === "login" || field.includes("username") || field === "name" || field === "search") {
      return rng.pick([...this.plausible.names, ...this.plausible.emails, `fuzz${rng.int(1_000_000)}`]);
    }
    if (field === "request" || field.includes("response") || field.includes("record") || field.includes("message")) return rng.pick(this.plausible.opaqueMessages);
    if (field.includes("publickey") || field.includes("agreementkey") || field === "key") return rng.pick(this.plausible.publicKeys);
    // Secrets, signatures, sealed boxes: well-formed base64url of a plausible length.
    if (/token|secret|signature|enc|ciphertext|sealed|code|hash|nonce|proof/.test(field)) return rng.base64url(rng.pick([16, 32, 48, 64]));
    if (field.includes("version")) return rng.pick(["1.0.0", "0.0.1", "99999999999.0.0", "1.2.3-beta.1+build"]);
    return rng.pick(["Fuzz", `fuzz-${rng.int(1_000_000)}`, "Ünïcödé", "名前", "اسم", ...this.plausible.names]);
  }
}

/** Whether a value appears in the variables (an answer may echo what it was sent). */
export function mentions(variables: unknown, id: string): boolean {
  const text = JSON.stringify(variables ?? null).toLowerCase();
  return text.includes(id.toLowerCase()) || text.includes(id.replaceAll("-", "").toLowerCase());
}
