// Every limit the transport enforces, by name, in one place.

/** Measured on every operation, over HTTP and WebSocket alike, before it runs. */
export const OPERATION_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxTokens: 2000,
  maxCost: 5000,
  maxDirectives: 20,
};
