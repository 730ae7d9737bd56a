"use client";

import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { cacheExchange, Client, fetchExchange, Provider, subscriptionExchange } from "urql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";

type Connection = { client: Client; closeWebSocket: () => void };

function connect(apiUrl: string): Connection {
  // Subscriptions use the same path over WebSocket. Created on first use: nothing opens until a
  // live view subscribes, and server rendering (no WebSocket in Node 20) never creates one.
  let ws: WsClient | null = null;
  const client = new Client({
    url: apiUrl,
    // The session is an HttpOnly cookie set by the API; the portal never sees the token.
    fetchOptions: { credentials: "include" },
    // POST only: the API's CSRF prevention refuses simple GET requests.
    preferGetMethod: false,
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              ws ??= createWsClient({ url: apiUrl.replace(/^http/, "ws"), lazy: true });
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
  };
}

const SessionResetContext = createContext<() => void>(() => {
  throw new Error("useResetSession must be used inside <UrqlProvider>");
});

/**
 * Call after signing in or out: the next session starts with an empty cache and a
 * fresh WebSocket, so nothing from one tenant's session shows up in another's.
 */
export function useResetSession() {
  return useContext(SessionResetContext);
}

export function UrqlProvider({ apiUrl, children }: { apiUrl: string; children: ReactNode }) {
  const [connection, setConnection] = useState(() => connect(apiUrl));

  useEffect(() => () => connection.closeWebSocket(), [connection]);

  const resetSession = useCallback(() => setConnection(connect(apiUrl)), [apiUrl]);

  return (
    <SessionResetContext.Provider value={resetSession}>
      <Provider value={connection.client}>{children}</Provider>
    </SessionResetContext.Provider>
  );
}
