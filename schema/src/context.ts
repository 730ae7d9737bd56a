import type { PrismaClient, TenantKind, UserRole } from "@latchkey/db";
import type { Access } from "./access.ts";
import type { AppPubSub } from "./pubsub.ts";
import type { PasswordHasher } from "./security/passwords.ts";
import type { LoginThrottle, RateLimits } from "./security/throttle.ts";

/** Settings the schema needs; read and validated once by the API's config. */
export type SchemaConfig = {
  signUpEnabled: boolean;
  sessionIdleMinutes: number;
  sessionMaxAgeHours: number;
  /** Keyed hash for values that must be logged without being readable (an unknown login). */
  pseudonymize(value: string): string;
};

export type Logger = {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
};

/** Long-lived parts shared by every request of one API instance. */
export type Services = {
  db: PrismaClient;
  pubsub: AppPubSub;
  config: SchemaConfig;
  passwords: PasswordHasher;
  throttle: LoginThrottle;
  limits: RateLimits;
  log: Logger;
};

/** The signed-in user, as their session presents them. */
export type Viewer = {
  sessionId: string;
  userId: string;
  /** The tenant the session works in. */
  tenantId: string;
  tenantKind: TenantKind;
  role: UserRole;
  label: string;
};

export type RequestInfo = { ip: string; userAgent: string | null };

/** How the transport hands a session to a browser; the schema knows nothing of HTTP. */
export type SessionCookie = {
  set(token: string, expiresAt: Date): void;
  clear(): void;
};

export type Context = Services & {
  request: RequestInfo;
  viewer: Viewer | null;
  cookie: SessionCookie;
  access: Access;
};
