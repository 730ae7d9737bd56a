// OpenTelemetry traces through the official Node SDK: HTTP, GraphQL (parse,
// validate, execute), ioredis and Prisma (its queries and their SQL) spans,
// exported over OTLP. Off unless an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the
// standard variables; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn
// it off again). Every other OTEL_* variable (protocol, headers, sampler,
// OTEL_SERVICE_NAME) is read by the SDK itself.
//
// Loaded before the application (`node --import ./src/observability/tracing.ts`)
// so that the modules it instruments are hooked as they are first imported.
import { register } from "node:module";

type Sdk = { shutdown(): Promise<void> };

export function tracingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").toLowerCase() === "true") return false;
  if ((env.OTEL_TRACES_EXPORTER ?? "").toLowerCase() === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

let sdk: Sdk | null = null;

async function startTracing(): Promise<Sdk> {
  // ESM modules are hooked by import-in-the-middle's loader; CommonJS ones by require hooks.
  const { createAddHookMessageChannel } = await import("import-in-the-middle");
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register("import-in-the-middle/hook.mjs", import.meta.url, registerOptions);

  // Traces only: metrics are Prometheus' (METRICS_PORT) and logs go to stdout.
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  process.env.OTEL_SERVICE_NAME ??= "latchkey-api";

  const [{ NodeSDK }, { HttpInstrumentation }, { GraphQLInstrumentation }, { IORedisInstrumentation }, { PrismaInstrumentation }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/instrumentation-http"),
    import("@opentelemetry/instrumentation-graphql"),
    import("@opentelemetry/instrumentation-ioredis"),
    import("@prisma/instrumentation"),
  ]);
  const started = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        // Health checks and the metrics scrape would drown the traces that matter.
        ignoreIncomingRequestHook: (request) => request.url === "/healthz" || request.url === "/readyz" || request.url === "/metrics",
      }),
      // One span per operation phase and per non-trivial resolver; lists' items merged.
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      // Only commands made within a traced request: not the pub/sub connection's own traffic.
      new IORedisInstrumentation({ requireParentSpan: true }),
      new PrismaInstrumentation(),
    ],
  });
  started.start();
  await waitForAllMessagesAcknowledged();
  return started;
}

if (tracingEnabled()) sdk = await startTracing();

/** Sends the spans still buffered; called once the instance has stopped. */
export async function shutdownTracing() {
  const running = sdk;
  sdk = null;
  await running?.shutdown().catch(() => undefined);
}
