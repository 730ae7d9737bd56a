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

/**
 * The portal's origins (WEB_ORIGIN), every existing tenant's own address
 * (`scheme://<slug>.<BASE_DOMAIN>[:port]`, with a scheme and port the portal
 * uses), and the API's own origin. `tenantExists` answers from memory.
 */
export function originRule(
  config: { webOrigins: string[]; trustedProxies: string[]; baseDomain: string },
  tenantExists: (slug: string) => boolean = () => false,
): OriginRule {
  const portalUrls = config.webOrigins.map(normalised).filter((origin): origin is string => origin !== null);
  const portal = new Set(portalUrls);
  // Where tenants' addresses may differ from the portal's: only in the host, under BASE_DOMAIN.
  const schemesAndPorts = new Set(portalUrls.map((origin) => schemeAndPort(new URL(origin))));
  const suffix = `.${config.baseDomain}`;
  const trusted = proxyaddr.compile(config.trustedProxies);
  return (origin, req) => {
    const candidate = normalised(origin);
    if (!candidate) return false;
    if (portal.has(candidate)) return true;
    const url = new URL(candidate);
    if (url.hostname.endsWith(suffix) && schemesAndPorts.has(schemeAndPort(url))) {
      const slug = url.hostname.slice(0, -suffix.length);
      if (!slug.includes(".") && tenantExists(slug)) return true;
    }
    return req !== undefined && ownOrigin(req, trusted) === candidate;
  };
}

function schemeAndPort(url: URL) {
  return `${url.protocol}${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}
