// OpenTelemetry traces from a real API process: with an OTLP endpoint set,
// a GraphQL request produces an HTTP server span, GraphQL spans and Prisma's
// query spans in one trace, sent to the endpoint (here a loopback receiver
// speaking OTLP/HTTP JSON).
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLogin } from "@latchkey/passwords";
import { ApiProcess } from "./api-process.ts";

type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number };
type Export = { resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { scope?: { name?: string }; spans?: Span[] }[] }[] };

describe("OpenTelemetry traces over OTLP", () => {
  let receiver: Server;
  let endpoint: string;
  const spans: (Span & { scope: string; service?: string })[] = [];
  let api: ApiProcess;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.url === "/v1/traces") {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Export;
          for (const resource of body.resourceSpans ?? []) {
            const service = resource.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue;
            for (const scope of resource.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push({ ...span, scope: scope.scope?.name ?? "", service });
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve()));
    endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    api = await ApiProcess.start("traced", {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      // Embedded database and in-process pub/sub: nothing shared with other tests.
      DATABASE_URL: "",
      REDIS_URL: "",
    });
  });

  afterAll(async () => {
    await api?.stop();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it("traces a GraphQL request through HTTP, GraphQL and Prisma, and flushes on SIGTERM", async () => {
    const response = await fetch(api.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: `mutation StartPasswordLogIn($input: StartPasswordLogInInput!) { startPasswordLogIn(input: $input) { __typename } }`,
        variables: { input: { tenant: "nobody-here", login: "someone@example.test", request: (await startLogin("not-a-real-password-1")).request } },
      }),
    });
    expect(response.status).toBe(200);
    await api.stop();
    const server = spans.find((span) => span.scope.includes("instrumentation-http") && span.kind === 2 && span.name.startsWith("POST"));
    expect(server, `spans: ${JSON.stringify(spans.map((s) => [s.scope, s.name]))}`).toBeDefined();
    expect(server!.service).toBe("latchkey-api");
    const inTrace = spans.filter((span) => span.traceId === server!.traceId);
    const names = inTrace.map((span) => span.name);
    expect(names).toContain("graphql.validate");
    expect(names).toContain("graphql.execute");
    // Prisma's query spans nest under the execution that caused them.
    const execute = inTrace.find((span) => span.name === "graphql.execute")!;
    expect(inTrace.some((span) => span.name === "prisma:client:operation" && span.parentSpanId === execute.spanId)).toBe(true);
    expect(names).toContain("prisma:client:db_query");
    // Health checks are not traced.
    expect(spans.some((span) => span.name.includes("readyz"))).toBe(false);
  });
});
