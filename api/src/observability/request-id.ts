// Every HTTP request and every WebSocket operation gets a request id: on each
// log line written while it runs (through requestScope), in the `x-request-id`
// response header, and for a WebSocket operation in its errors' extensions
// (`requestId`). An incoming `x-request-id` is kept only from a trusted proxy
// (TRUSTED_PROXIES), so a client cannot plant ids in the log.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";

export const REQUEST_ID_HEADER = "x-request-id";

/** What a proxy may pass on: short, and only characters that cannot break a log line or a header. */
const ACCEPTABLE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function requestIdResolver(trustedProxies: string[]) {
  const trust = proxyaddr.compile(trustedProxies);
  return (req: IncomingMessage): string => {
    const incoming = req.headers[REQUEST_ID_HEADER];
    const peer = req.socket?.remoteAddress;
    if (typeof incoming === "string" && ACCEPTABLE.test(incoming) && peer && trust(peer, 0)) return incoming;
    return randomUUID();
  };
}

export const newRequestId = () => randomUUID();
