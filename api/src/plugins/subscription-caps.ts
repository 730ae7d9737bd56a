// Subscriptions over HTTP (GraphQL over SSE: one request per subscription)
// are capped per credential, or per address for requests without one, as
// WebSockets are. A place is taken before the subscription starts and given
// back when its stream ends, however it ends.
import { createGraphQLError, isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Context, ErrorCode } from "@latchkey/schema";
import { credentialOf, type OpenCounts, type TransportLimits } from "../limits.ts";

export function useHttpSubscriptionCaps(
  limits: Pick<TransportLimits, "httpSubscriptionsPerCredential" | "unauthenticatedHttpSubscriptionsPerAddress">,
  open: OpenCounts,
): Plugin<Context & { connectionParams?: unknown }> {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as Context & { connectionParams?: unknown };
      // WebSocket operations are capped per socket, and sockets per credential.
      if (context.connectionParams !== undefined) return undefined;
      const credential = credentialOf(context);
      const release = credential
        ? open.take(credential, limits.httpSubscriptionsPerCredential)
        : open.take(`address:${context.request.ip}`, limits.unauthenticatedHttpSubscriptionsPerAddress);
      if (!release) {
        const cap = credential ? limits.httpSubscriptionsPerCredential : limits.unauthenticatedHttpSubscriptionsPerAddress;
        setResultAndStopExecution({
          errors: [
            createGraphQLError(`Too many subscriptions open at once (at most ${cap}${credential ? " per sign-in" : " per address"}); end one first`, {
              extensions: { code: "TOO_MANY_SUBSCRIPTIONS" satisfies ErrorCode, http: { status: 429 } },
            }),
          ],
        });
        return undefined;
      }
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            release();
            return undefined;
          }
          return { onEnd: release };
        },
        onSubscribeError: release,
      };
    },
  };
}
