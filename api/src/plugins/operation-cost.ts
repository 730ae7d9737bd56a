// Every operation is measured (operation-cost.ts) with its variables before it
// runs: at execution, as validation sees no variables and yoga caches its
// verdict per document. One costing more than OPERATION_LIMITS.maxCost is
// refused; any other is charged to its credential's budget, which every
// instance shares through the rate limiter. The answer says what it cost in
// `extensions.cost` and, over HTTP, how the budget stands in RateLimit-*
// headers; a spent budget is answered 429 with Retry-After, and nothing runs.
import type { IncomingMessage } from "node:http";
import type { ExecutionArgs, ExecutionResult } from "graphql";
import { createGraphQLError, isAsyncIterable, type Plugin } from "graphql-yoga";
import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Context, ErrorCode, LimiterFactory } from "@latchkey/schema";
import type { CostBudgetName, CostBudgets } from "../limits.ts";
import { operationCost } from "../operation-cost.ts";
import { OPERATION_LIMIT_CODES } from "./limits.ts";

/** Response headers a browser client may read: the IETF RateLimit header fields draft's, and Retry-After on a refusal. */
export const RATE_LIMIT_HEADERS = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"];

/** What `extensions.cost` says: the operation's cost, the most one may cost, and the credential's budget. */
export type CostReport = {
  requested: number;
  limit: number;
  rateLimit?: { limit: number; remaining: number; resetAt: string };
};

/** A budget after an operation was charged to it (or refused by it); `resetSeconds` is when it is renewed, as headers say it. */
type BudgetState = { limit: number; remaining: number; resetAt: Date; resetSeconds: number; windowSeconds: number; refused: boolean };

type Payer = { budget: CostBudgetName; key: string };

type OperationContext = Context & { req?: IncomingMessage; connectionParams?: unknown };

/** Requests without a credential (signing in, enrolling) are held by their own per-address limits instead. */
function payerOf(context: OperationContext): Payer | null {
  if (context.viewer?.apiKey) return { budget: "costPerApiKey", key: context.viewer.apiKey.id };
  if (context.viewer) return { budget: "costPerUser", key: context.viewer.userId };
  if (context.workstation) return { budget: "costPerWorkstation", key: context.workstation.id };
  if (context.device) return { budget: "costPerPhone", key: context.device.authenticatorId };
  return null;
}

const count = (n: number) => n.toLocaleString("en");

function perWindow(seconds: number) {
  if (seconds === 3600) return "per hour";
  if (seconds === 60) return "per minute";
  return `every ${count(seconds)} s`;
}

class Budgets {
  private readonly limiters: Record<CostBudgetName, RateLimiterAbstract>;

  constructor(
    limiter: LimiterFactory,
    private readonly budgets: CostBudgets,
  ) {
    this.limiters = Object.fromEntries(
      Object.entries(budgets).map(([name, budget]) => [name, limiter(name, budget.points, budget.durationSeconds)]),
    ) as Record<CostBudgetName, RateLimiterAbstract>;
  }

  /** Spends `cost` from the payer's budget; a refused operation spends nothing, so cheaper ones may still pass. */
  async charge(payer: Payer, cost: number): Promise<BudgetState> {
    const limiter = this.limiters[payer.budget];
    try {
      return this.state(payer, await limiter.consume(payer.key, cost), 0, false);
    } catch (reason) {
      if (!(reason instanceof RateLimiterRes)) throw reason;
      await limiter.reward(payer.key, cost);
      return this.state(payer, reason, cost, true);
    }
  }

  /** The payer's budget as it stands, for an answer that spends nothing. */
  async peek(payer: Payer): Promise<BudgetState> {
    const { points, durationSeconds } = this.budgets[payer.budget];
    const current = await this.limiters[payer.budget].get(payer.key);
    if (!current) {
      return { limit: points, remaining: points, resetAt: new Date(Date.now() + durationSeconds * 1000), resetSeconds: durationSeconds, windowSeconds: durationSeconds, refused: false };
    }
    return this.state(payer, current, 0, false);
  }

  private state(payer: Payer, spent: RateLimiterRes, givenBack: number, refused: boolean): BudgetState {
    const { points, durationSeconds } = this.budgets[payer.budget];
    const msLeft = Math.max(0, spent.msBeforeNext);
    return {
      limit: points,
      remaining: Math.max(0, points - (spent.consumedPoints - givenBack)),
      resetAt: new Date(Date.now() + msLeft),
      resetSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
      windowSeconds: durationSeconds,
      refused,
    };
  }
}

export type OperationCostOptions = {
  maxCost: number;
  budgets: CostBudgets;
  limiter: LimiterFactory;
  /** Told of each operation a spent budget refused (metrics). */
  onRefused?: (budget: CostBudgetName) => void;
};

export function useOperationCost({ maxCost, budgets: sizes, limiter, onRefused }: OperationCostOptions): Plugin<OperationContext, { req?: IncomingMessage }> {
  const budgets = new Budgets(limiter, sizes);
  /** Each HTTP request's budget, read back when its response goes out. */
  const answered = new WeakMap<IncomingMessage, BudgetState>();

  function report(cost: number, state: BudgetState | null): CostReport {
    if (!state) return { requested: cost, limit: maxCost };
    return { requested: cost, limit: maxCost, rateLimit: { limit: state.limit, remaining: state.remaining, resetAt: state.resetAt.toISOString() } };
  }

  /** The answer instead of running the operation, or what to report once it has run. */
  async function admit(args: ExecutionArgs): Promise<{ refusal: ExecutionResult } | { report: CostReport }> {
    const context = args.contextValue as OperationContext;
    // Transport hints (status, headers) are for HTTP; a WebSocket message has neither.
    const http = context.connectionParams === undefined && context.req !== undefined;
    const remember = (state: BudgetState) => {
      if (http) answered.set(context.req!, state);
      return state;
    };
    const payer = payerOf(context);
    const cost = operationCost(args.schema, args.document, args.variableValues as Record<string, unknown> | undefined, args.operationName);
    if (cost === null || cost > maxCost) {
      const state = payer ? remember(await budgets.peek(payer)) : null;
      const message =
        cost === null
          ? "This operation spreads its fragments into more selections than can be measured; ask for less"
          : `This operation costs ${count(cost)}, over the limit of ${count(maxCost)} for one operation: ask for smaller pages (first/last), or fewer lists inside lists`;
      const error = createGraphQLError(message, { extensions: { code: OPERATION_LIMIT_CODES.maxCost, ...(http ? { http: { status: 400, spec: true } } : {}) } });
      return { refusal: { errors: [error], ...(cost === null ? {} : { extensions: { cost: report(cost, state) } }) } };
    }
    if (!payer) return { report: report(cost, null) };
    const state = remember(await budgets.charge(payer, cost));
    if (!state.refused) return { report: report(cost, state) };
    onRefused?.(payer.budget);
    const error = createGraphQLError(
      `Rate limited: this operation costs ${count(cost)} and ${count(state.remaining)} of the ${count(state.limit)} points ` +
        `this credential may spend ${perWindow(state.windowSeconds)} are left; more are available in ${count(state.resetSeconds)} s`,
      { extensions: { code: "RATE_LIMITED" satisfies ErrorCode, retryAfterSeconds: state.resetSeconds, ...(http ? { http: { status: 429 } } : {}) } },
    );
    return { refusal: { errors: [error], extensions: { cost: report(cost, state) } } };
  }

  const withCost = (result: ExecutionResult, cost: CostReport): ExecutionResult => ({ ...result, extensions: { ...result.extensions, cost } });

  /** A stream reports the cost on its first result only. */
  function onFirst(cost: CostReport) {
    let reported = false;
    return {
      onNext({ result, setResult }: { result: ExecutionResult; setResult(result: ExecutionResult): void }) {
        if (reported) return;
        reported = true;
        setResult(withCost(result, cost));
      },
    };
  }

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const admitted = await admit(args);
      if ("refusal" in admitted) return setResultAndStopExecution(admitted.refusal);
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return onFirst(admitted.report);
          setResult(withCost(result, admitted.report));
          return undefined;
        },
      };
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const admitted = await admit(args);
      if ("refusal" in admitted) return setResultAndStopExecution(admitted.refusal);
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) return onFirst(admitted.report);
          setResult(withCost(result, admitted.report));
          return undefined;
        },
      };
    },
    onResponse({ response, serverContext }) {
      const state = serverContext.req && answered.get(serverContext.req);
      if (!state) return;
      response.headers.set("RateLimit-Limit", String(state.limit));
      response.headers.set("RateLimit-Remaining", String(state.remaining));
      response.headers.set("RateLimit-Reset", String(state.resetSeconds));
      if (state.refused) response.headers.set("Retry-After", String(state.resetSeconds));
    },
  };
}
