// Every cap the transport enforces, by name, in one place. The README lists
// them; TRANSPORT_LIMITS overrides any of them (config.ts). Each counts the real
// quantity: bytes as they are read, sockets and subscriptions while they are open.

export const DEFAULT_TRANSPORT_LIMITS = {
  /** Largest HTTP request body, counted as it is read (a chunked body has no Content-Length). */
  requestBodyBytes: 256 * 1024,
  /** Largest multipart request: one branding image (5 MiB at most) beside the operation. */
  uploadBodyBytes: 6 * 1024 * 1024,
  /** Largest WebSocket message (`ws` would accept 100 MiB). */
  webSocketMessageBytes: 64 * 1024,
  /** Operations one WebSocket runs at once; a subscription holds its place until it ends. */
  operationsPerSocket: 20,
  /** Open WebSockets per credential (a session, a workstation, a phone). */
  socketsPerCredential: 20,
  /**
   * Open WebSockets per client address without a valid credential (yet): waiting
   * login screens, and every socket until its connection_init is checked.
   * Authenticated sockets are not counted per address: an office shares one.
   */
  unauthenticatedSocketsPerAddress: 100,
  /** Subscriptions over HTTP (GraphQL over SSE) open at once per credential. */
  httpSubscriptionsPerCredential: 20,
  /** Subscriptions over HTTP open at once per client address without a credential. */
  unauthenticatedHttpSubscriptionsPerAddress: 100,
  /** How long a new WebSocket may take to send connection_init. */
  connectionInitTimeoutMs: 5_000,
};

export type TransportLimits = typeof DEFAULT_TRANSPORT_LIMITS;

/** Measured on every operation, over HTTP and WebSocket alike, before it runs. */
export const OPERATION_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  maxTokens: 2000,
  /**
   * The most one operation may cost (operation-cost.ts): a page of 100 rows
   * with a page of 40 under each passes, 100 under 100 does not.
   */
  maxCost: 10_000,
  maxDirectives: 20,
};

/**
 * Cost points each credential may spend per window, counted across instances
 * (in Redis when configured). RATE_LIMIT_OVERRIDES replaces any of them by name.
 */
export const DEFAULT_COST_BUDGETS = {
  /** An integration's API key. */
  costPerApiKey: { points: 200_000, durationSeconds: 3600 },
  /** A person, over all their sessions, so signing in again buys no fresh budget. The portal's costliest page is about 500. */
  costPerUser: { points: 200_000, durationSeconds: 3600 },
  /**
   * Workstations and phones send small operations of a fixed shape, at a pace
   * their sign-in and approval limits already hold far below this: the budget
   * bounds a stolen credential, and no login screen or phone reaches it.
   */
  costPerWorkstation: { points: 100_000, durationSeconds: 3600 },
  costPerPhone: { points: 100_000, durationSeconds: 3600 },
};

export type CostBudgetName = keyof typeof DEFAULT_COST_BUDGETS;
export type CostBudgets = Record<CostBudgetName, { points: number; durationSeconds: number }>;

/**
 * How many of something each key (a credential, an address) holds open. A
 * place is taken and checked in one synchronous step, so concurrent arrivals
 * cannot all pass the check before any of them is counted.
 */
export class OpenCounts {
  private readonly counts = new Map<string, number>();

  /** Takes a place for `key` unless it already holds `cap`: the place's release (safe to call twice), or null. */
  take(key: string, cap: number): (() => void) | null {
    const held = this.counts.get(key) ?? 0;
    if (held >= cap) return null;
    this.counts.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = this.counts.get(key) ?? 0;
      if (now <= 1) this.counts.delete(key);
      else this.counts.set(key, now - 1);
    };
  }
}

/**
 * What per-credential caps count by: the session, workstation or phone the
 * request authenticated as; null when it carries no valid credential, and is
 * then counted by its address.
 */
export function credentialOf(context: {
  viewer?: { sessionId: string } | null;
  workstation?: { id: string } | null;
  device?: { authenticatorId: string } | null;
}): string | null {
  if (context.viewer) return `session:${context.viewer.sessionId}`;
  if (context.workstation) return `workstation:${context.workstation.id}`;
  if (context.device) return `device:${context.device.authenticatorId}`;
  return null;
}
