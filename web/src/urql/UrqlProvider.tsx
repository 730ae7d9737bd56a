"use client";

import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { Client, fetchExchange, makeOperation, mapExchange, Provider, subscriptionExchange } from "urql";
import { persistedExchange } from "@urql/exchange-persisted";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { PORTAL_OPERATIONS_VERSION } from "@/gql/operations-version";
import { awaitCompleteResults, portalCacheExchange } from "./portal-cache";

type Connection = {
  client: Client;
  closeWebSocket: () => void;
  /** Calls `listener` each time the WebSocket connects again after it dropped. */
  onReconnected: (listener: () => void) => () => void;
};

/** How often graphql-ws reconnects (with growing, randomised waits) before a live view gives up. */
const WEBSOCKET_RETRY_ATTEMPTS = 10;

function connect(apiUrl: string): Connection {
  // Subscriptions use the same path over WebSocket. Created on first use: nothing opens until a
  // live view subscribes, and server rendering (no WebSocket in Node 20) never creates one.
  let ws: WsClient | null = null;
  const reconnectListeners = new Set<() => void>();
  const client = new Client({
    url: apiUrl,
    // The session is an HttpOnly cookie set by the API; the portal never sees the token.
    fetchOptions: { credentials: "include" },
    // POST only: the API's CSRF prevention refuses simple GET requests.
    preferGetMethod: false,
    exchanges: [
      awaitCompleteResults,
      // Created with the client: a new session (see `useResetSession`) starts with an empty cache.
      portalCacheExchange(),
      // Each operation says which build's manifest it is from, so an API not given this build's
      // operations-manifest.json can say so (to the page and in its log) instead of only refusing.
      mapExchange({
        onOperation: (operation) =>
          makeOperation(operation.kind, { ...operation, extensions: { ...operation.extensions, portalOperations: PORTAL_OPERATIONS_VERSION } }, operation.context),
      }),
      // Every operation goes by the hash it was registered under at build time (codegen's
      // operations manifest): a portal session may run nothing else.
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        preferGetForPersistedQueries: false,
        generateHash: async (_query, document) => registeredHash(document),
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              ws ??= createWsClient({
                // Only ever in the browser: a same-origin API_URL ("/graphql") is this page's host.
                url: new URL(apiUrl, window.location.href).toString().replace(/^http/, "ws"),
                lazy: true,
                retryAttempts: WEBSOCKET_RETRY_ATTEMPTS,
                on: {
                  // Whatever was published while the socket was down is gone: live views
                  // re-query the state they show (pub/sub is a hint, the API's state is the record).
                  connected: (_socket, _payload, wasRetry) => {
                    if (wasRetry) for (const listener of reconnectListeners) listener();
                  },
                },
              });
              return { unsubscribe: ws.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
  });
  return {
    client,
    closeWebSocket() {
      void ws?.dispose();
      ws = null;
    },
    onReconnected(listener) {
      reconnectListeners.add(listener);
      return () => void reconnectListeners.delete(listener);
    },
  };
}

/** The hash codegen registered a document under. */
function registeredHash(document: unknown): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== "string") throw new Error("Portal operations are written with graphql() from src/gql, which registers them");
  return hash;
}

const SessionResetContext = createContext<() => void>(() => {
  throw new Error("useResetSession must be used inside <UrqlProvider>");
});

/**
 * Call after signing in or out: the next session starts with a new client, whose normalized
 * cache is empty, and a fresh WebSocket, so nothing from one tenant's session shows up in another's.
 */
export function useResetSession() {
  return useContext(SessionResetContext);
}

const ApiUrlContext = createContext<string | null>(null);

/**
 * The API's GraphQL endpoint as the browser reaches it (runtime configuration), for what
 * the API serves beside GraphQL, such as branding images at `/branding/<hash>`.
 */
/** The API's GraphQL endpoint as an absolute URL (resolved against this page when same-origin). */
export function useApiUrl(): string {
  const apiUrl = useContext(ApiUrlContext);
  if (!apiUrl) throw new Error("useApiUrl must be used inside <UrqlProvider>");
  return typeof window === "undefined" ? apiUrl : new URL(apiUrl, window.location.href).toString();
}

const ReconnectedContext = createContext<Connection["onReconnected"]>(() => () => {});

/**
 * Runs `listener` whenever the WebSocket comes back after a drop, so a live view can
 * re-query what it may have missed. The latest `listener` is used; no need to memoise it.
 */
export function useWebSocketReconnected(listener: () => void) {
  const onReconnected = useContext(ReconnectedContext);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => onReconnected(() => latest.current()), [onReconnected]);
}

export function UrqlProvider({ apiUrl, children }: { apiUrl: string; children: ReactNode }) {
  const [connection, setConnection] = useState(() => connect(apiUrl));

  useEffect(() => () => connection.closeWebSocket(), [connection]);

  const resetSession = useCallback(() => setConnection(connect(apiUrl)), [apiUrl]);

  return (
    <ApiUrlContext.Provider value={apiUrl}>
      <SessionResetContext.Provider value={resetSession}>
        <ReconnectedContext.Provider value={connection.onReconnected}>
          <Provider value={connection.client}>{children}</Provider>
        </ReconnectedContext.Provider>
      </SessionResetContext.Provider>
    </ApiUrlContext.Provider>
  );
}
