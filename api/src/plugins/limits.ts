// Every operation, over HTTP or WebSocket, is measured before it runs. A refusal
// is a request error with its own code: a validation error (HTTP 400 under
// application/graphql-response+json) rather than the exception graphql-armor
// throws by default, which yoga answers with 200 and no code.
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import type { GraphQLError, ValidationContext } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import type { ErrorCode } from "@latchkey/schema";
import { OPERATION_LIMITS } from "../limits.ts";

/** `extensions.code` of each refusal (maxCost's by useOperationCost); clients may rely on these. */
export const OPERATION_LIMIT_CODES = {
  maxDepth: "DEPTH_LIMIT_EXCEEDED",
  maxAliases: "ALIAS_LIMIT_EXCEEDED",
  maxTokens: "TOKEN_LIMIT_EXCEEDED",
  maxCost: "COST_LIMIT_EXCEEDED",
  maxDirectives: "DIRECTIVE_LIMIT_EXCEEDED",
} as const satisfies Record<string, ErrorCode>;

/** graphql-armor words every refusal as a syntax error; it is not one. */
function refusalMessage(error: GraphQLError) {
  return error.message.replace(/^Syntax Error: /, "");
}

/** Reports a refusal as a validation error, so validation goes on to answer 400. */
function report(code: ErrorCode) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    context?.reportError(createGraphQLError(refusalMessage(error), { extensions: { code } }));
  };
}

export function useOperationLimits(development: boolean) {
  const validation = { propagateOnRejection: false };
  return EnvelopArmorPlugin({
    maxDepth: { n: OPERATION_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...validation, onReject: [report(OPERATION_LIMIT_CODES.maxDepth)] },
    maxAliases: { n: OPERATION_LIMITS.maxAliases, ...validation, onReject: [report(OPERATION_LIMIT_CODES.maxAliases)] },
    maxDirectives: { n: OPERATION_LIMITS.maxDirectives, ...validation, onReject: [report(OPERATION_LIMIT_CODES.maxDirectives)] },
    // Cost depends on page sizes, which variables may give: useOperationCost measures it at execution.
    costLimit: { enabled: false },
    // Counted while parsing, where there is no validation context: the parser
    // stops with this error, which yoga answers as a bad request (400).
    maxTokens: {
      n: OPERATION_LIMITS.maxTokens,
      propagateOnRejection: false,
      onReject: [
        (_context: unknown, error: GraphQLError) => {
          throw createGraphQLError(refusalMessage(error), { extensions: { code: OPERATION_LIMIT_CODES.maxTokens } });
        },
      ],
    },
    // Suggestions ("did you mean …") map the schema for an attacker; keep them for development.
    blockFieldSuggestion: { enabled: !development },
  });
}
