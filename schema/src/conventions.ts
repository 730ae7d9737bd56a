// The public API's conventions (STYLE.md) that hold for every operation alike
// are applied here once rather than repeated in each module: the wording of the
// parts a convention generates (a mutation's `input` argument, its result union,
// payload and input types), and the page sizes every connection keeps. A module
// that says more about one of them writes its own description, which is kept.
import SchemaBuilder, {
  BasePlugin,
  type PothosInputFieldConfig,
  type PothosOutputFieldConfig,
  type PothosTypeConfig,
  type SchemaTypes,
} from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { ValidationError } from "./errors.ts";
import { refuseOversizedPage } from "./pagination.ts";

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      publicApiConventions: PublicApiConventionsPlugin<Types>;
    }
  }
}

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** The mutation a convention-named type belongs to: `CreateUserResult` → `createUser`. */
function mutationOf(typeName: string, suffix: string) {
  return lowerFirst(typeName.slice(0, -suffix.length));
}

function conventionalTypeDescription(config: PothosTypeConfig): string | undefined {
  const { name } = config;
  if (config.kind === "Union" && name.endsWith("Result")) {
    return `What \`${mutationOf(name, "Result")}\` answers: its payload, or one of the typed errors (\`Error\`) it can raise.`;
  }
  if (config.kind === "InputObject" && name.endsWith("Input")) {
    return `What \`${mutationOf(name, "Input")}\` takes.`;
  }
  if (config.kind === "Object" && name.endsWith("Payload")) {
    return `What \`${mutationOf(name, "Payload")}\` returns when it succeeds.`;
  }
  return undefined;
}

const PAGE_ARGUMENTS = ["first", "last", "after", "before"];

function isConnectionField(fieldConfig: PothosOutputFieldConfig<SchemaTypes>) {
  return PAGE_ARGUMENTS.every((name) => name in fieldConfig.args);
}

export class PublicApiConventionsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onTypeConfig(typeConfig: PothosTypeConfig) {
    if (typeConfig.description) return typeConfig;
    const description = conventionalTypeDescription(typeConfig);
    return description ? { ...typeConfig, description } : typeConfig;
  }

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>) {
    const input = fieldConfig.args.input as PothosInputFieldConfig<Types> | undefined;
    if (fieldConfig.parentType !== "Mutation" || !input || input.description) return fieldConfig;
    return {
      ...fieldConfig,
      args: { ...fieldConfig.args, input: { ...input, description: `What \`${fieldConfig.name}\` needs.` } },
    };
  }

  // Every connection refuses a page larger than the documented maximum instead of cutting it short,
  // and a cursor it never gave, or arguments that do not go together, with VALIDATION.
  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types["Context"], object>, fieldConfig: PothosOutputFieldConfig<Types>) {
    if (!isConnectionField(fieldConfig as PothosOutputFieldConfig<SchemaTypes>)) return resolver;
    const checkingPageArguments: GraphQLFieldResolver<unknown, Types["Context"], object> = (parent, args, context, info) => {
      const page = args as PageArgs;
      refuseOversizedPage(page);
      try {
        const result: unknown = resolver(parent, args, context, info);
        return isPromiseLike(result) ? result.then(undefined, (error: unknown) => refusePageArguments(error, page)) : result;
      } catch (error) {
        return refusePageArguments(error, page);
      }
    };
    return checkingPageArguments;
  }
}

type PageArgs = { first?: number | null; last?: number | null; after?: string | null; before?: string | null };

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === "function";

const ARGUMENTS_APART = /^Arguments "(first|last|after|before)" and "(first|last|after|before)" are not supported at the same time$/;

/**
 * Pothos refuses two kinds of page arguments with its own error, which would
 * reach the client without a code (and with the cursor echoed back): a cursor
 * it cannot decode, and `first` with `before` or `last` with `after`. Those are
 * told as VALIDATION on the argument at fault; any other error, one of Pothos'
 * own included, is thrown as it was.
 */
function refusePageArguments(error: unknown, page: PageArgs): never {
  if (!(error instanceof Error) || error.name !== "PothosValidationError") throw error;
  if (error.message.startsWith("Invalid cursor")) {
    throw ValidationError.field(page.after != null ? "after" : "before", "Not a cursor this list gave: send back an edge's `cursor` or `pageInfo.endCursor`");
  }
  const apart = ARGUMENTS_APART.exec(error.message);
  if (!apart) throw error;
  const cursor = apart[1] === "after" || apart[1] === "before" ? apart[1] : apart[2]!;
  throw ValidationError.field(cursor, `${error.message}: page forward with \`first\` and \`after\`, or backward with \`last\` and \`before\``);
}

const pluginName = "publicApiConventions";
SchemaBuilder.registerPlugin(pluginName, PublicApiConventionsPlugin);

export default pluginName;
