// The client's address comes from the socket, unless the socket's peer is a
// proxy we were told to trust; only then is X-Forwarded-For believed.
import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";

export function clientIpResolver(trustedProxies: string[]) {
  const trust = proxyaddr.compile(trustedProxies);
  return (req: IncomingMessage | undefined): string => {
    if (!req) return "unknown";
    try {
      return proxyaddr(req, trust);
    } catch {
      return req.socket?.remoteAddress ?? "unknown";
    }
  };
}
