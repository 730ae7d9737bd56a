// Turns a request (HTTP or WebSocket) into the schema's Context: who is asking,
// from where, and how to hand them a session cookie.
import type { IncomingMessage } from "node:http";
import {
  Access,
  authenticate,
  authenticateApiKey,
  authenticateDevice,
  claimsToBeApiKey,
  authenticateWorkstation,
  looksLikeWorkstationCredential,
  reloadWorkstation,
  DEVICE_COOKIE_LIFETIME_DAYS,
  type Context,
  type DeviceCookieJar,
  type Services,
  type SessionCookie,
} from "@latchkey/schema";
import type { YogaInitialContext } from "graphql-yoga";

// Scoped to the GraphQL path (hence __Secure-, as __Host- demands Path=/), so
// other paths of the API origin, such as uploaded branding images, never see it.
export const SESSION_COOKIE = "__Secure-latchkey_session";
export const SESSION_COOKIE_PATH = "/graphql";
/** The browser's device cookie: makes it a known client of the accounts that signed in on it. */
export const DEVICE_COOKIE = "__Secure-latchkey_device";

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

/**
 * Whether a bearer token is a person's session that was handed over in the
 * portal's cookie. API keys and workstation credentials are told apart by their
 * form and never looked up as sessions.
 */
export async function isPortalSession(services: Services, token: string): Promise<boolean> {
  if (claimsToBeApiKey(token) || looksLikeWorkstationCredential(token)) return false;
  return (await authenticate(services, token))?.portal === true;
}

/** A WebSocket is given this long after its workstation credential was checked. */
export const WORKSTATION_SOCKET_LIFETIME_MS = 24 * 3600_000;

/**
 * Workstation sockets, by their connection parameters (one object per
 * connection): the credential is checked once, as it is single-use, and the
 * connection then acts as that workstation until it is removed or a day has passed.
 */
const workstationSockets = new WeakMap<object, Promise<{ id: string; since: number } | null>>();

async function socketWorkstation(services: Services, connection: object, token: string, ip: string) {
  let checked = workstationSockets.get(connection);
  if (!checked) {
    const first = authenticateWorkstation(services, token, ip);
    checked = first.then((workstation) => (workstation ? { id: workstation.id, since: services.clock.now() } : null));
    workstationSockets.set(connection, checked);
    return first;
  }
  const socket = await checked;
  if (!socket || services.clock.now() - socket.since > WORKSTATION_SOCKET_LIFETIME_MS) return null;
  return reloadWorkstation(services, socket.id, ip);
}

/** A WebSocket message cannot set a cookie. */
const noCookie: SessionCookie = { set() {}, clear() {} };

export function contextFactory(services: Services, clientIp: (req: IncomingMessage | undefined) => string) {
  return async (initial: YogaInitialContext & ServerContext): Promise<Context> => {
    const request = initial.request as (Request & { cookieStore?: CookieStore }) | undefined;
    const isWebSocket = initial.connectionParams !== undefined;

    let token: string | null;
    let bearer: string | null;
    if (isWebSocket) {
      // Bearer clients authenticate in connectionParams; browsers by the cookie
      // sent with the upgrade, accepted only from an allowed Origin.
      bearer = bearerFrom(initial.connectionParams?.authorization ?? initial.connectionParams?.Authorization);
      token = bearer ?? (initial.originAllowed ? cookieFrom(initial.req?.headers.cookie) : null);
    } else {
      bearer = bearerFrom(request?.headers.get("authorization"));
      token = bearer ?? cookieFrom(request?.headers.get("cookie") ?? undefined);
    }
    const ip = clientIp(initial.req);
    // An API key (`lk_...`) is accepted only as a bearer token, never from the
    // portal's cookie, and is never tried as anything else.
    if (token !== null && claimsToBeApiKey(token)) {
      const keyViewer = token === bearer ? await authenticateApiKey(services, token, ip) : null;
      return {
        ...services,
        request: { ip, userAgent: (isWebSocket ? initial.req?.headers["user-agent"] : request?.headers.get("user-agent")) ?? null },
        viewer: keyViewer,
        device: null,
        workstation: null,
        cookie: noCookie,
        deviceCookie: { value: null, set() {} },
        access: new Access(services.db, keyViewer),
      };
    }
    // A bearer token is a workstation's signed credential (a JWT), a person's
    // session or, failing that, a phone's device token.
    const isCredential = token !== null && looksLikeWorkstationCredential(token);
    const workstation = !token || !isCredential
      ? null
      : isWebSocket && initial.connectionParams
        ? await socketWorkstation(services, initial.connectionParams, token, ip)
        : await authenticateWorkstation(services, token, ip);
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

    const deviceCookieValue = isWebSocket
      ? initial.originAllowed
        ? cookieFrom(initial.req?.headers.cookie, DEVICE_COOKIE)
        : null
      : cookieFrom(request?.headers.get("cookie") ?? undefined, DEVICE_COOKIE);
    const deviceCookie: DeviceCookieJar = {
      value: deviceCookieValue,
      set(value) {
        if (isWebSocket) return;
        void request?.cookieStore?.set({
          name: DEVICE_COOKIE,
          value,
          expires: Date.now() + DEVICE_COOKIE_LIFETIME_DAYS * 24 * 3600_000,
          path: SESSION_COOKIE_PATH,
          domain: null,
          secure: true,
          httpOnly: true,
          sameSite: "lax",
        });
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
      deviceCookie,
      access: new Access(services.db, viewer),
    };
  };
}
