// A span per GraphQL execution and subscription, made active while it runs so
// the database and Redis spans it causes nest under it. yoga executes through
// @graphql-tools/executor rather than graphql-js' `execute`, which the
// official GraphQL instrumentation patches (it still reports validation), so
// execution is traced here through envelop's instrumentation API.
import { SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";

const tracer = trace.getTracer("latchkey-api");

function traced(name: string, wrapped: () => unknown) {
  return tracer.startActiveSpan(name, (span: Span) => {
    const end = (error?: unknown) => {
      if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
    };
    try {
      const result = wrapped();
      if (result && typeof (result as PromiseLike<void>).then === "function") {
        return (result as Promise<void>).then(
          () => end(),
          (error: unknown) => {
            end(error);
            throw error;
          },
        );
      }
      end();
      return result;
    } catch (error) {
      end(error);
      throw error;
    }
  });
}

export function useGraphqlSpans(): Plugin {
  const describe = (args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null }) => {
    const operation = getOperationAST(args.document, args.operationName ?? undefined);
    const fields = operation?.selectionSet.selections.flatMap((selection) => (selection.kind === "Field" ? [selection.name.value] : [])) ?? [];
    // The root fields, not the client-chosen operation name nor its text (an inline argument may be a secret).
    trace.getActiveSpan()?.setAttributes({ "graphql.operation.type": operation?.operation ?? "unknown", "graphql.operation.fields": fields.slice(0, 10).join(",") });
  };
  return {
    instrumentation: {
      execute: (_payload, wrapped) => traced("graphql.execute", wrapped) as never,
      subscribe: (_payload, wrapped) => traced("graphql.subscribe", wrapped) as never,
    },
    onExecute({ args }) {
      describe(args);
      const span = trace.getActiveSpan();
      return {
        onExecuteDone({ result }) {
          if ("errors" in result && result.errors?.length) span?.setStatus({ code: SpanStatusCode.ERROR, message: "GraphQL errors" });
        },
      };
    },
    onSubscribe({ args }) {
      describe(args);
    },
  };
}
