// A customer's desktop logins, live, over graphql-ws.
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { graphql } from "./gql/index.ts";
import type { LoginEventAddedSubscription } from "./gql/graphql.ts";

const LoginEventAdded = graphql(`
  subscription LoginEventAdded($tenantId: ID!) {
    loginEventAdded(tenantId: $tenantId) {
      id
      createdAt
      method
      outcome
      reason
      username
      workstationName
      ip
    }
  }
`);

export type LoginEvent = LoginEventAddedSubscription["loginEventAdded"];

/**
 * Subscribes to `tenantId`'s login events, authenticating with the key in
 * connectionParams, and returns the first one pushed (then closes the socket).
 */
export async function firstLoginEvent(options: {
  apiUrl: string;
  apiKey: string;
  tenantId: string;
  /** Called once the API has acknowledged the connection (a refused key fails the subscription itself). */
  onConnected?: () => void;
}): Promise<LoginEvent> {
  const client = createClient({
    // The WebSocket is on the same path as queries: https://… becomes wss://…
    url: options.apiUrl.replace(/^http/, "ws"),
    // Node 20 has no WebSocket of its own.
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${options.apiKey}` },
    retryAttempts: 0,
    on: { connected: () => options.onConnected?.() },
  });
  try {
    const feed = client.iterate<LoginEventAddedSubscription>({ query: print(LoginEventAdded), variables: { tenantId: options.tenantId } });
    for await (const result of feed) {
      if (result.errors?.length) throw new Error(`loginEventAdded failed: ${JSON.stringify(result.errors)}`);
      if (result.data) return result.data.loginEventAdded;
    }
    throw new Error("loginEventAdded ended before any event");
  } catch (error) {
    // graphql-ws rejects with the socket's close event when the server closes it (a refused key, say).
    if (error instanceof Error) throw error;
    throw new Error(`The API closed the WebSocket: ${describeClose(error)}`);
  } finally {
    await client.dispose();
  }
}

function describeClose(event: unknown) {
  const { code, reason } = (event ?? {}) as { code?: number; reason?: string };
  return [code, reason].filter(Boolean).join(" ") || "no reason given";
}
