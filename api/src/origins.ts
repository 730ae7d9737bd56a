// Which browser origins may use the API with the viewer's credentials: CORS and
// the WebSocket upgrade both ask this one rule, so it is widened in one place.
import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";

/** Whether a request carrying this `Origin` header comes from a page allowed to use the API. */
export type OriginRule = (origin: string, req: IncomingMessage | undefined) => boolean;

/** `https://Portal.example:443` and `https://portal.example` are one origin; anything unparsable is none. */
function normalised(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The API's own origin as the request addressed it: the Host header, with the
 * scheme of the connection, or X-Forwarded-Proto/-Host when a trusted proxy sent them.
 */
function ownOrigin(req: IncomingMessage, trusted: (address: string, hop: number) => boolean): string | null {
  const viaTrustedProxy = req.socket?.remoteAddress !== undefined && trusted(req.socket.remoteAddress, 0);
  const forwarded = (name: string) => {
    const value = req.headers[name];
    return viaTrustedProxy && typeof value === "string" ? value.split(",")[0]!.trim() : undefined;
  };
  const scheme = forwarded("x-forwarded-proto") ?? ((req.socket as { encrypted?: boolean } | undefined)?.encrypted ? "https" : "http");
  const host = forwarded("x-forwarded-host") ?? req.headers.host;
  return host ? normalised(`${scheme}://${host}`) : null;
}

export function originRule(config: { webOrigins: string[]; trustedProxies: string[] }): OriginRule {
  const portal = new Set(config.webOrigins.map(normalised).filter((origin): origin is string => origin !== null));
  const trusted = proxyaddr.compile(config.trustedProxies);
  return (origin, req) => {
    const candidate = normalised(origin);
    if (!candidate) return false;
    if (portal.has(candidate)) return true;
    return req !== undefined && ownOrigin(req, trusted) === candidate;
  };
}
