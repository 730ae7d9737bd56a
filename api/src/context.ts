// Turns a request (HTTP or WebSocket) into the schema's Context: who is asking,
// from where, and how to hand them a session cookie.
import type { IncomingMessage } from "node:http";
import {
  Access,
  authenticate,
  authenticateDevice,
  authenticateWorkstation,
  looksLikeWorkstationCredential,
  type Context,
  type Services,
  type SessionCookie,
} from "@latchkey/schema";
import type { YogaInitialContext } from "graphql-yoga";

// Scoped to the GraphQL path (hence __Secure-, as __Host- demands Path=/), so
// other paths of the API origin, such as uploaded branding images, never see it.
export const SESSION_COOKIE = "__Secure-latchkey_session";
export const SESSION_COOKIE_PATH = "/graphql";

type CookieStore = {
  get(name: string): Promise<{ value: string } | undefined | null>;
  set(init: Record<string, unknown>): Promise<void>;
  delete(init: Record<string, unknown> | string): Promise<void>;
};

/** What yoga hands us: HTTP requests carry `req`; WebSocket operations carry graphql-ws' context. */
export type ServerContext = {
  req?: IncomingMessage;
  /** Set for WebSocket operations. */
  connectionParams?: Readonly<Record<string, unknown>>;
  /** For WebSocket operations authenticated by cookie: was the upgrade's Origin allowed? */
  originAllowed?: boolean;
};

export function bearerFrom(header: unknown): string | null {
  if (typeof header !== "string") return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

export function cookieFrom(header: string | undefined, name = SESSION_COOKIE): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** A WebSocket message cannot set a cookie. */
const noCookie: SessionCookie = { set() {}, clear() {} };

export function contextFactory(services: Services, clientIp: (req: IncomingMessage | undefined) => string) {
  return async (initial: YogaInitialContext & ServerContext): Promise<Context> => {
    const request = initial.request as (Request & { cookieStore?: CookieStore }) | undefined;
    const isWebSocket = initial.connectionParams !== undefined;

    let token: string | null;
    if (isWebSocket) {
      // Bearer clients authenticate in connectionParams; browsers by the cookie
      // sent with the upgrade, accepted only from an allowed Origin.
      token =
        bearerFrom(initial.connectionParams?.authorization ?? initial.connectionParams?.Authorization) ??
        (initial.originAllowed ? cookieFrom(initial.req?.headers.cookie) : null);
    } else {
      token = bearerFrom(request?.headers.get("authorization")) ?? cookieFrom(request?.headers.get("cookie") ?? undefined);
    }
    const ip = clientIp(initial.req);
    // A bearer token is a workstation's signed credential (a JWT), a person's
    // session or, failing that, a phone's device token.
    const workstation = token && looksLikeWorkstationCredential(token) ? await authenticateWorkstation(services, token, ip) : null;
    const viewer = token && !workstation ? await authenticate(services, token) : null;
    const device = token && !workstation && !viewer ? await authenticateDevice(services, token) : null;

    const cookie: SessionCookie = isWebSocket ? noCookie : {
      set(value, expiresAt) {
        void request?.cookieStore?.set({
          name: SESSION_COOKIE,
          value,
          expires: expiresAt.getTime(),
          path: SESSION_COOKIE_PATH,
          domain: null,
          secure: true,
          httpOnly: true,
          sameSite: "lax",
        });
      },
      clear() {
        void request?.cookieStore?.delete({ name: SESSION_COOKIE, path: SESSION_COOKIE_PATH, domain: null, secure: true, httpOnly: true, sameSite: "lax" });
      },
    };

    return {
      ...services,
      request: {
        ip,
        userAgent: (isWebSocket ? initial.req?.headers["user-agent"] : request?.headers.get("user-agent")) ?? null,
      },
      viewer,
      device,
      workstation,
      cookie,
      access: new Access(services.db, viewer),
    };
  };
}
