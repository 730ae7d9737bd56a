// Prometheus metrics of one instance, served on their own port (METRICS_PORT,
// loopback by default) so they are never reachable through the public API
// address. yoga's Prometheus plugin measures GraphQL phases and HTTP; ours
// count what an operator of a directory watches: operations by root field and
// outcome, open WebSockets and subscriptions, requesters waiting on QR
// challenges, challenge and sign-in outcomes, rate-limit refusals, the job
// queue's depth and the database pool.
//
// Labels are bounded: an operation is named by its root field (the schema's
// names), never by the client-chosen operation name, and an outcome by an
// error code (the schema's codes) or `ok`.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { usePrometheus } from "@graphql-yoga/plugin-prometheus";
import { getOperationAST, GraphQLObjectType, type ExecutionArgs, type GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AppLogger } from "../log.ts";

/** Root mutations whose results are a challenge's or a sign-in's outcome. */
const CHALLENGE_FIELDS = new Set(["startLoginChallenge", "scanChallenge", "approveChallenge", "denyChallenge", "cancelChallenge", "redeemChallenge", "redeemDesktopLogin"]);
const SIGN_IN_FIELDS = new Set(["startPasswordLogIn", "finishPasswordLogIn", "startDesktopPasswordLogin", "finishDesktopPasswordLogin"]);

/** The context key through which the root-field wrapper finds this instance's metrics. */
const SINK = Symbol.for("latchkey.metrics");

type Sink = { rootResult(field: string, outcome: string): void };

export type MetricSources = {
  /** Requesters waiting on a challenge on this instance. */
  challengeWaiters(): number;
  /** Jobs waiting, waiting for a retry or running. */
  jobQueueDepth(): Promise<number>;
  /** The PostgreSQL pool, when there is one. */
  databasePool(): { total: number; idle: number; waiting: number } | null;
};

/** An error's code as the schema gives it, or INTERNAL for anything else. */
function outcomeOf(value: unknown): string {
  if (value instanceof Error || (value && typeof value === "object" && "code" in value && "message" in value)) {
    const code = (value as { code?: unknown }).code;
    return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : "INTERNAL";
  }
  return "ok";
}

const wrapped = new WeakSet<object>();

/**
 * Wraps the resolvers of the schema's root mutations, once per schema object,
 * so their outcome (a result union's error type, or a thrown error) is
 * counted by the metrics of whichever instance runs the operation. Only root
 * mutations are wrapped: nothing is added to any other field's resolution.
 */
function wrapRootMutations(schema: GraphQLSchema) {
  const mutation = schema.getMutationType();
  if (!mutation || wrapped.has(mutation)) return;
  wrapped.add(mutation);
  for (const field of Object.values((mutation as GraphQLObjectType).getFields())) {
    const resolve = field.resolve;
    if (!resolve) continue;
    const name = field.name;
    field.resolve = (source, args, context, info) => {
      const sink = (context as Record<symbol, Sink | undefined> | null)?.[SINK];
      if (!sink) return resolve(source, args, context, info);
      const report = (value: unknown) => {
        sink.rootResult(name, outcomeOf(value));
        return value;
      };
      try {
        const result = resolve(source, args, context, info);
        if (result && typeof (result as PromiseLike<unknown>).then === "function") {
          return (result as Promise<unknown>).then(report, (error: unknown) => {
            report(error);
            throw error;
          });
        }
        return report(result);
      } catch (error) {
        report(error);
        throw error;
      }
    };
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly operations: Counter<"operation" | "type" | "outcome">;
  private readonly operationSeconds: Histogram<"operation" | "type">;
  private readonly webSockets: Gauge;
  private readonly subscriptions: Gauge<"transport">;
  private readonly challengeOutcomes: Counter<"operation" | "outcome">;
  private readonly signInOutcomes: Counter<"operation" | "outcome">;
  private readonly refusals: Counter<"limit">;
  private server: Server | null = null;

  constructor(sources: MetricSources) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry });
    this.operations = new Counter({
      name: "latchkey_graphql_operations_total",
      help: "GraphQL operations run, by root field, operation type and outcome (ok, or the error code of the first error).",
      labelNames: ["operation", "type", "outcome"],
      registers: [registry],
    });
    this.operationSeconds = new Histogram({
      name: "latchkey_graphql_operation_duration_seconds",
      help: "Time from an operation's execution start to its result (for a subscription: to its first event source), by root field.",
      labelNames: ["operation", "type"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.webSockets = new Gauge({ name: "latchkey_websocket_connections", help: "Open GraphQL WebSocket connections.", registers: [registry] });
    this.subscriptions = new Gauge({
      name: "latchkey_subscriptions",
      help: "Subscriptions running now, by transport (websocket or sse).",
      labelNames: ["transport"],
      registers: [registry],
    });
    this.challengeOutcomes = new Counter({
      name: "latchkey_challenge_outcomes_total",
      help: "Challenge mutations (start, scan, approve, deny, cancel, redeem) by outcome: ok or the error code.",
      labelNames: ["operation", "outcome"],
      registers: [registry],
    });
    this.signInOutcomes = new Counter({
      name: "latchkey_sign_in_outcomes_total",
      help: "Password sign-ins by step (OPAQUE start and finish, portal and workstation) and outcome: ok or the error code.",
      labelNames: ["operation", "outcome"],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: "latchkey_rate_limit_refusals_total",
      help: "Requests refused by a rate limit, a cost budget or a transport cap, by limit (an operation's root field for RATE_LIMITED in its result, or the budget's or cap's name).",
      labelNames: ["limit"],
      registers: [registry],
    });
    new Gauge({
      name: "latchkey_challenge_waiters",
      help: "Requesters waiting on a challenge's outcome on this instance.",
      registers: [registry],
      collect() {
        this.set(sources.challengeWaiters());
      },
    });
    new Gauge({
      name: "latchkey_job_queue_depth",
      help: "Jobs waiting, waiting for a retry or running (the whole queue, shared by every instance).",
      registers: [registry],
      async collect() {
        this.set(await sources.jobQueueDepth().catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: "latchkey_database_pool_connections",
      help: "PostgreSQL connections of this instance's pool, by state (total, idle) and clients waiting for one (waiting).",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        const pool = sources.databasePool();
        if (!pool) return;
        this.set({ state: "total" }, pool.total);
        this.set({ state: "idle" }, pool.idle);
        this.set({ state: "waiting" }, pool.waiting);
      },
    });
  }

  /** Envelop plugins: yoga's Prometheus plugin and our operation counters. */
  plugins(): Plugin[] {
    const metrics = this;
    const prometheus = usePrometheus({
      registry: this.registry,
      endpoint: false,
      // Operation names are chosen by clients: as labels they could grow without bound.
      labels: { operationName: false, url: false },
      metrics: {
        graphql_envelop_request: true,
        graphql_envelop_request_duration: true,
        graphql_envelop_phase_parse: true,
        graphql_envelop_phase_validate: true,
        graphql_envelop_phase_context: true,
        graphql_envelop_phase_execute: true,
        graphql_envelop_phase_subscribe: true,
        graphql_envelop_error_result: true,
        graphql_yoga_http_duration: true,
      },
    });
    const sink: Sink = {
      rootResult(field, outcome) {
        if (CHALLENGE_FIELDS.has(field)) metrics.challengeOutcomes.inc({ operation: field, outcome });
        if (SIGN_IN_FIELDS.has(field)) metrics.signInOutcomes.inc({ operation: field, outcome });
        if (outcome === "RATE_LIMITED") metrics.refusals.inc({ limit: field });
      },
    };
    const ours: Plugin = {
      onSchemaChange({ schema }) {
        wrapRootMutations(schema);
      },
      onContextBuilding({ extendContext }) {
        extendContext({ [SINK]: sink } as never);
      },
      onExecute({ args }) {
        const { operation, type } = describe(args);
        const started = performance.now();
        return {
          onExecuteDone({ result }) {
            metrics.operationSeconds.observe({ operation, type }, (performance.now() - started) / 1000);
            if (Symbol.asyncIterator in result) return;
            metrics.operations.inc({ operation, type, outcome: resultOutcome(result.errors) });
          },
        };
      },
      onSubscribe({ args }) {
        const { operation, type } = describe(args);
        const started = performance.now();
        return {
          onSubscribeResult({ result }) {
            metrics.operationSeconds.observe({ operation, type }, (performance.now() - started) / 1000);
            metrics.operations.inc({ operation, type, outcome: Symbol.asyncIterator in result ? "ok" : resultOutcome(result.errors) });
          },
          onSubscribeError({ error }) {
            metrics.operations.inc({ operation, type, outcome: outcomeOf(error) });
          },
        };
      },
    };
    return [prometheus, ours];
  }

  webSocketOpened() {
    this.webSockets.inc();
    return () => this.webSockets.dec();
  }

  subscriptionStarted(transport: "websocket" | "sse") {
    this.subscriptions.inc({ transport });
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.subscriptions.dec({ transport });
    };
  }

  /** A transport cap or a cost budget refused something (its name as in TRANSPORT_LIMITS or the cost budgets). */
  refused(limit: string) {
    this.refusals.inc({ limit });
  }

  /** Serves GET /metrics on its own port; resolves to the bound URL. */
  listen(port: number, host: string, log: AppLogger): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (error: unknown) => {
          log.error("metrics could not be collected", { error: String(error) });
          res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable");
        },
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        const address = server.address() as AddressInfo;
        resolve(`http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`);
      });
    });
  }

  async close() {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function resultOutcome(errors: readonly { extensions?: Record<string, unknown> }[] | undefined): string {
  if (!errors?.length) return "ok";
  return outcomeOf({ code: errors[0]!.extensions?.code ?? "INTERNAL", message: "" });
}

/** An operation's root fields (schema names, so a bounded set) and its type. */
function describe(args: ExecutionArgs): { operation: string; type: string } {
  const operation = getOperationAST(args.document, args.operationName ?? undefined);
  if (!operation) return { operation: "unknown", type: "unknown" };
  const fields = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === "Field" && !selection.name.value.startsWith("__")) fields.add(selection.name.value);
  }
  const names = [...fields].sort();
  // A bound on the label's length: an operation may ask for many root fields at once.
  const operationLabel = names.length === 0 ? "__introspection" : names.length > 3 ? `${names.slice(0, 3).join(",")},...` : names.join(",");
  return { operation: operationLabel, type: operation.operation };
}
