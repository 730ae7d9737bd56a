// graphql-ws on the same path as HTTP. Operations go through yoga.getEnveloped,
// so they get the same plugins (limits, revocation, masking) and the same
// context. Yoga's HTTP hooks (CORS, CSRF, body size) do not run here, so the
// upgrade is checked by hand: its Origin, and how many sockets its address or
// credential already holds. graphql-ws' own `ws` glue would print to the
// console; this one logs through pino.
import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { getOperationAST, type DocumentNode, type ExecutionArgs } from "graphql";
import { CloseCode, handleProtocols, makeServer, type SubscribePayload } from "graphql-ws";
import { createGraphQLError, type YogaServerInstance } from "graphql-yoga";
import { WebSocketServer, type WebSocket } from "ws";
import { databaseUnavailable, UnavailableError, type ErrorCode } from "@latchkey/schema";
import { describeUnexpected, logError } from "./error-reporting.ts";
import { WORKSTATION_SOCKET_LIFETIME_MS, bearerFrom } from "./context.ts";
import { credentialOf, OpenCounts, type TransportLimits } from "./limits.ts";
import { currentRequestId, requestScope, type AppLogger } from "./log.ts";
import type { Metrics } from "./observability/metrics.ts";
import { newRequestId, REQUEST_ID_HEADER } from "./observability/request-id.ts";
import type { OriginRule } from "./origins.ts";
import { socketOperationText, type TrustedDocuments } from "./trusted-documents.ts";

/** How often a socket is pinged; one that does not answer within as long is dropped. */
const KEEPALIVE_MS = 12_000;

/**
 * The one place a socket holds in the caps: its address's until its
 * connection_init carries a valid credential, that credential's after.
 */
class SocketPlace {
  private closed = false;

  constructor(private release: () => void) {}

  /** Swaps to another place; if the socket closed meanwhile, that place is given back at once. */
  moveTo(release: () => void) {
    if (this.closed) return release();
    this.release();
    this.release = release;
  }

  close() {
    this.closed = true;
    this.release();
  }
}

/**
 * The operations one socket runs now, each holding a place from its subscribe
 * message (before any await) until it ends. An operation is known by its
 * message, not its id: a client may reuse an id once it has completed it.
 */
class SocketOperations {
  private readonly entries = new Map<object, { id: string; running: boolean }>();

  constructor(private readonly cap: number) {}

  /** Takes a place for this subscribe message; false when the socket already holds its cap. */
  start(id: string, payload: object): boolean {
    if (this.entries.size >= this.cap) return false;
    this.entries.set(payload, { id, running: false });
    return true;
  }

  running(payload: object) {
    const entry = this.entries.get(payload);
    if (entry) entry.running = true;
  }

  end(payload: object) {
    this.entries.delete(payload);
  }

  /**
   * A client that completes a running operation may use its place in its next
   * message: graphql-ws reports the end only once the stream has wound down.
   * One still being prepared keeps its place until it is settled.
   */
  completedByClient(id: string) {
    for (const [payload, entry] of this.entries) {
      if (entry.id === id && entry.running) this.entries.delete(payload);
    }
  }
}

type Extra = {
  socket: WebSocket;
  /** The upgrade request's id: connection-level work (connection_init, close) logs with it. */
  requestId: string;
  request: IncomingMessage;
  place: SocketPlace;
  originAllowed: boolean;
  operations: SocketOperations;
};

type Runner = { execute(args: ExecutionArgs): unknown; subscribe(args: ExecutionArgs): unknown };

export type WebSocketOptions = {
  limits: TransportLimits;
  originAllowed: OriginRule;
  clientIp: (req: IncomingMessage) => string;
  log: AppLogger;
  metrics?: Metrics | null;
  /** The upgrade's request id (an incoming x-request-id only from a trusted proxy). */
  requestId?: (req: IncomingMessage) => string;
  /** The portal's registered operations, which a portal session's socket is held to. */
  trustedDocuments: TrustedDocuments;
};

type RequestError = { message: string; extensions?: Record<string, unknown>; nodes?: unknown; source?: unknown; positions?: unknown };

/**
 * A request error as graphql-ws sends it: without yoga's HTTP hints, and made
 * by yoga's graphql copy, the one graphql-ws checks errors against (graphql
 * ships an ESM and a CommonJS build). `code` is used when it has none.
 */
function forSocket(error: RequestError, code?: ErrorCode) {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return createGraphQLError(error.message, {
    nodes: error.nodes as never,
    source: error.source as never,
    positions: error.positions as never,
    extensions: withRequestId(code ? { code, ...extensions } : extensions),
  });
}

/** An error's extensions with the operation's request id, as the HTTP response has it in its header. */
function withRequestId(extensions: Record<string, unknown>) {
  const requestId = currentRequestId();
  return requestId ? { ...extensions, requestId } : extensions;
}

/** A result's errors, each carrying the operation's request id. */
function errorsWithRequestId<T extends { errors?: readonly unknown[] }>(result: T): T {
  if (!result.errors?.length || !currentRequestId()) return result;
  return {
    ...result,
    errors: result.errors.map((error) => {
      const json = typeof (error as { toJSON?: unknown }).toJSON === "function" ? (error as { toJSON(): RequestError }).toJSON() : (error as RequestError);
      return { ...json, extensions: withRequestId(json.extensions ?? {}) };
    }),
  };
}

/** The type of a client message, read cheaply: a subscribe message starts an operation with its own request id. */
function isSubscribeMessage(text: string) {
  return text.includes('"subscribe"') && /"type"\s*:\s*"subscribe"/.test(text);
}

/** Tells the socket's operations of a client's complete message as soon as it arrives. */
function noteComplete(extra: Extra, text: string) {
  if (!text.includes('"complete"')) return;
  try {
    const message = JSON.parse(text) as { type?: unknown; id?: unknown };
    if (message.type === "complete" && typeof message.id === "string") extra.operations.completedByClient(message.id);
  } catch {
    // graphql-ws answers a malformed message itself.
  }
}

/**
 * What an operation that failed outside its fields answers: UNAVAILABLE when the
 * database could not be asked (building its context looks the session up), as
 * over HTTP; otherwise nothing of what went wrong.
 */
function operationFailed(error: unknown) {
  if (databaseUnavailable(error)) {
    const unavailable = new UnavailableError();
    return createGraphQLError(unavailable.message, { extensions: withRequestId({ code: unavailable.code }) });
  }
  return createGraphQLError("Unexpected error.", { extensions: withRequestId({ code: "INTERNAL_SERVER_ERROR" satisfies ErrorCode }) });
}

function pathOf(request: IncomingMessage): string | null {
  try {
    return new URL(request.url ?? "/", "http://api").pathname;
  } catch {
    return null;
  }
}

/** Answers an upgrade with a plain HTTP refusal: no WebSocket is opened. */
function refuse(socket: Duplex, status: number, reason: string) {
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>,
  { limits, originAllowed, clientIp, log, metrics, requestId, trustedDocuments }: WebSocketOptions,
) {
  // No per-message compression: `ws` keeps zlib state per socket, and our messages are small.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.webSocketMessageBytes, perMessageDeflate: false, handleProtocols });
  const open = new OpenCounts();
  /** Each subscribe message's place in the subscriptions gauge, released when it ends. */
  const subscriptionGauge = new WeakMap<object, () => void>();
  wss.on("headers", (headers, request) => {
    const id = (request as IncomingMessage & { requestId?: string }).requestId;
    if (id) headers.push(`${REQUEST_ID_HEADER}: ${id}`);
  });

  function operationContext(extra: Extra, connectionParams: Readonly<Record<string, unknown>> | undefined, params?: SubscribePayload) {
    return yoga.getEnveloped({ req: extra.request, params, connectionParams: connectionParams ?? {}, originAllowed: extra.originAllowed });
  }

  /** Parses, validates and builds the context of one operation; a request error comes back as errors, for this operation only. */
  async function prepare(extra: Extra, connectionParams: Readonly<Record<string, unknown>> | undefined, params: SubscribePayload) {
    const bearer = bearerFrom(connectionParams?.authorization ?? connectionParams?.Authorization);
    const operation = await socketOperationText(trustedDocuments, params, { cookieHeader: extra.request.headers.cookie, bearer });
    if (operation.error) return [forSocket(operation.error)];
    const { schema, parse, validate, contextFactory, execute, subscribe } = operationContext(extra, connectionParams, { ...params, query: operation.text });
    let document: DocumentNode;
    try {
      document = parse(operation.text);
    } catch (error) {
      // The parser's only failure is refusing its input (syntax, token limit);
      // it gets the code yoga gives it over HTTP unless it carries its own.
      return [forSocket(error instanceof Error ? (error as RequestError) : { message: "The operation could not be parsed" }, "GRAPHQL_PARSE_FAILED")];
    }
    const errors = validate(schema, document);
    if (errors.length) return errors.map((error: RequestError) => forSocket(error));
    if (!getOperationAST(document, params.operationName)) {
      return [createGraphQLError(params.operationName ? `No operation named "${params.operationName}"` : "Name the operation to run", { extensions: { code: "BAD_REQUEST" satisfies ErrorCode } })];
    }
    // Envelop builds the context by adding properties one by one, which
    // leaves V8 a slow dictionary object; a subscription keeps its context
    // while it waits, so it keeps a compact copy instead.
    const contextValue = { ...(await contextFactory()) };
    const runner: Runner = { execute, subscribe };
    return { schema, operationName: params.operationName, document, variableValues: params.variables, contextValue, rootValue: runner };
  }

  /** Runs an operation; whatever it throws becomes this operation's error, never the socket's end. */
  async function run(args: ExecutionArgs, kind: keyof Runner) {
    try {
      return await (args.rootValue as Runner)[kind](args);
    } catch (error) {
      logError(log, error);
      return { errors: [operationFailed(error)] };
    }
  }

  const graphqlWs = makeServer<Record<string, unknown> | undefined, Extra>({
    connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
    execute: (args) => run(args, "execute") as never,
    subscribe: (args) => run(args, "subscribe") as never,
    onConnect: async (ctx) => {
      const context = (await operationContext(ctx.extra, ctx.connectionParams).contextFactory()) as Parameters<typeof credentialOf>[0];
      const credential = credentialOf(context);
      // Without a valid credential the socket stays counted by its address.
      if (!credential) return true;
      if ((context as { workstation?: unknown }).workstation) {
        // Checked once, at connect: after a day the agent reconnects with a fresh credential.
        const lifetime = setTimeout(() => ctx.extra.socket.close(1000, "Reconnect with a fresh workstation credential"), WORKSTATION_SOCKET_LIFETIME_MS);
        lifetime.unref();
        ctx.extra.socket.once("close", () => clearTimeout(lifetime));
      }
      const release = open.take(credential, limits.socketsPerCredential);
      if (!release) {
        metrics?.refused("socketsPerCredential");
        ctx.extra.socket.close(CloseCode.Forbidden, "Too many connections with this credential");
        return false;
      }
      ctx.extra.place.moveTo(release);
      return true;
    },
    onSubscribe: async (ctx, id, params) => {
      const { operations } = ctx.extra;
      if (!operations.start(id, params)) {
        metrics?.refused("operationsPerSocket");
        return [
          createGraphQLError(`Too many operations at once on this connection (at most ${limits.operationsPerSocket}); end a subscription first`, {
            extensions: withRequestId({ code: "TOO_MANY_OPERATIONS" satisfies ErrorCode }),
          }),
        ];
      }
      try {
        const prepared = await prepare(ctx.extra, ctx.connectionParams, params);
        if (Array.isArray(prepared)) operations.end(params);
        else {
          operations.running(params);
          if (metrics && getOperationAST(prepared.document, params.operationName)?.operation === "subscription") {
            subscriptionGauge.set(params, metrics.subscriptionStarted("websocket"));
          }
        }
        return prepared;
      } catch (error) {
        operations.end(params);
        logError(log, error);
        return [operationFailed(error)];
      }
    },
    onNext: (_ctx, _id, _payload, _args, result) => errorsWithRequestId(result) as never,
    onError: (_ctx, _id, _payload, errors) => errorsWithRequestId({ errors }).errors as never,
    onComplete: (ctx, _id, payload) => {
      ctx.extra.operations.end(payload);
      subscriptionGauge.get(payload)?.();
      subscriptionGauge.delete(payload);
    },
  });

  function accept(socket: WebSocket, request: IncomingMessage, place: SocketPlace) {
    const origin = request.headers.origin;
    const connectionId = (request as IncomingMessage & { requestId?: string }).requestId ?? newRequestId();
    const extra: Extra = { socket, request, requestId: connectionId, place, originAllowed: origin !== undefined && originAllowed(origin, request), operations: new SocketOperations(limits.operationsPerSocket) };
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            // A failed send means the peer is gone; its close event ends the rest.
            socket.send(data, () => resolve());
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on("message", async (data) => {
            const text = String(data);
            noteComplete(extra, text);
            // A subscribe message is one operation: it and everything it runs (its
            // events included) log under an id of its own; other messages under the connection's.
            try {
              await requestScope.run({ requestId: isSubscribeMessage(text) ? newRequestId() : connectionId }, () => handle(text));
            } catch (error) {
              log.error("WebSocket message failed", describeUnexpected(error));
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      extra,
    );
    // Protocol errors (an oversized or malformed frame): `ws` closes the socket itself.
    socket.on("error", (error) => log.debug("WebSocket protocol error", { error: error.message }));
    let pongWait: NodeJS.Timeout | null = null;
    const keepalive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEPALIVE_MS);
      socket.once("pong", () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, KEEPALIVE_MS);
    const closedGauge = metrics?.webSocketOpened();
    socket.once("close", (code, reason) => {
      closedGauge?.();
      clearInterval(keepalive);
      if (pongWait) clearTimeout(pongWait);
      closed(code, String(reason)).catch((error: unknown) => log.error("WebSocket close failed", describeUnexpected(error)));
    });
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (pathOf(request) !== yoga.graphqlEndpoint) return refuse(socket, 404, "Not found");
    if (draining) return refuse(socket, 503, "This instance is restarting; connect again");
    (request as IncomingMessage & { requestId?: string }).requestId = requestId?.(request) ?? newRequestId();
    // A browser page may use the API's WebSockets only from an allowed origin;
    // clients that send no Origin (agents, phones, scripts) are not browsers.
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin, request)) return refuse(socket, 403, "Origin not allowed");
    const release = open.take(`address:${clientIp(request)}`, limits.unauthenticatedSocketsPerAddress);
    if (!release) {
      metrics?.refused("unauthenticatedSocketsPerAddress");
      return refuse(socket, 429, "Too many connections from this address");
    }

    const place = new SocketPlace(release);
    // The raw socket closes whether the handshake fails or the WebSocket ends later.
    socket.once("close", () => place.close());
    wss.handleUpgrade(request, socket, head, (webSocket) => accept(webSocket, request, place));
  };
  server.on("upgrade", onUpgrade);
  let draining = false;

  return {
    /**
     * Tells every client this instance is going away: close code 1012 (Service
     * Restart), which graphql-ws clients retry, re-subscribing their
     * operations on whichever instance answers next. New upgrades are refused.
     */
    restart() {
      draining = true;
      for (const client of wss.clients) client.close(1012, "Service restart: reconnect");
    },
    async close() {
      server.off("upgrade", onUpgrade);
      for (const client of wss.clients) client.close(1001, "Going away");
      // A peer that does not answer the close is cut off rather than waited for.
      const grace = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, 2_000);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      clearTimeout(grace);
    },
  };
}
