// graphql-ws on the same path as HTTP. Operations go through yoga.getEnveloped,
// so they get the same plugins (limits, revocation, masking) and the same
// context. Yoga's HTTP hooks (CORS, CSRF, body size) do not run here, so the
// Origin and message size are checked by hand.
import type { Server } from "node:http";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { ExecutionArgs } from "graphql";
import type { YogaServerInstance } from "graphql-yoga";
import type { IncomingMessage } from "node:http";

export const WS_LIMITS = {
  /** Largest accepted WebSocket message; `ws` would allow 100 MiB. */
  maxPayloadBytes: 64 * 1024,
  /** Subscriptions one connection may hold at once. */
  maxSubscriptionsPerConnection: 20,
  connectionInitWaitTimeoutMs: 5_000,
};

type Extra = { request: IncomingMessage; subscriptions: number };

export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>,
  allowedOrigins: string[],
) {
  // No per-message compression: `ws` keeps zlib state per socket, and our messages are small.
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: WS_LIMITS.maxPayloadBytes, perMessageDeflate: false });

  const cleanup = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: WS_LIMITS.connectionInitWaitTimeoutMs,
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onConnect: (ctx) => {
        ctx.extra.subscriptions = 0;
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        if ((ctx.extra.subscriptions ?? 0) >= WS_LIMITS.maxSubscriptionsPerConnection) {
          ctx.extra.socket.close(4429, "Too many subscriptions on one connection");
          return [];
        }
        const origin = ctx.extra.request.headers.origin;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
          originAllowed: origin === undefined ? false : allowedOrigins.includes(origin),
        });
        // Envelop builds the context by adding properties one by one, which
        // leaves V8 a slow dictionary object; a subscription keeps its context
        // while it waits, so it keeps a compact copy instead.
        const contextValue = { ...(await contextFactory()) };
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        ctx.extra.subscriptions = (ctx.extra.subscriptions ?? 0) + 1;
        return args;
      },
      onComplete: (ctx) => {
        ctx.extra.subscriptions = Math.max(0, (ctx.extra.subscriptions ?? 0) - 1);
      },
    },
    wss,
  );

  return {
    async close() {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
