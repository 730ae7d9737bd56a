// Every operation, over HTTP or WebSocket, is measured before it runs.
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";

export const OPERATION_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: 5000,
  maxDirectives: 20,
};

export function useOperationLimits(development: boolean) {
  return EnvelopArmorPlugin({
    maxDepth: { n: OPERATION_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: OPERATION_LIMITS.maxAliases },
    maxTokens: { n: OPERATION_LIMITS.maxTokens },
    maxDirectives: { n: OPERATION_LIMITS.maxDirectives },
    costLimit: { maxCost: OPERATION_LIMITS.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true },
    // Suggestions ("did you mean …") map the schema for an attacker; keep them for development.
    blockFieldSuggestion: { enabled: !development },
  });
}
