import type { PrismaClient, TenantKind, UserRole } from "@latchkey/db";
import type { Access } from "./access.ts";
import type { Clock } from "./clock.ts";
import type { JobQueue } from "./jobs.ts";
import type { ChallengeWaiters } from "./modules/challenge/challenge-waiters.ts";
import type { SessionCache } from "./modules/session/session-cache.ts";
import type { SessionDeadlines } from "./modules/session/session-deadlines.ts";
import type { AppPubSub } from "./pubsub.ts";
import type { PasswordVault } from "./security/password-vault.ts";
import type { PasswordHasher } from "./security/passwords.ts";
import type { PasswordAuthentication } from "./security/password-authentication.ts";
import type { TenantKeys } from "./security/tenant-keys.ts";
import type { DeviceCookies } from "./security/device-cookie.ts";
import type { ReplayGuard } from "./security/replay-guard.ts";
import type { SignInAdmission } from "./security/sign-in-admission.ts";
import type { RateLimits } from "./security/throttle.ts";

/** Settings the schema needs; read and validated once by the API's config. */
export type SchemaConfig = {
  signUpEnabled: boolean;
  /** How long a QR challenge may be scanned and approved. */
  challengeTtlSeconds: number;
  sessionIdleMinutes: number;
  sessionMaxAgeHours: number;
  /** Keyed hash for values that must be logged without being readable (an unknown login). */
  pseudonymize(value: string): string;
  /** Keyed hash of an emailed code for its address, under a key of its own (EMAIL_CODE_KEY). */
  hashEmailCode(emailKey: string, code: string): string;
  /** Where people reach the portal, for links in emails. */
  portalUrl: string;
};

export type Logger = {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
};

export type Mail = { to: string; subject: string; text: string };

export type Mailer = { send(mail: Mail): Promise<void> };

/** Long-lived parts shared by every request of one API instance. */
export type Services = {
  /** Work that outlives the request (email among it), run by a worker after the change commits. */
  jobs: JobQueue;
  /** Sessions this instance looked up in the last few seconds. */
  sessionCache: SessionCache;
  /** Ends open subscriptions when their session expires. */
  sessionDeadlines: SessionDeadlines;
  /** What sessions are timed by (the system clock outside tests). */
  clock: Clock;
  /** This instance's waiting requesters, polled together as pub/sub's backstop. */
  challengeWaiters: ChallengeWaiters;
  db: PrismaClient;
  pubsub: AppPubSub;
  config: SchemaConfig;
  passwords: PasswordHasher;
  /** Customer directory passwords kept reversibly under per-tenant data keys. */
  vault: PasswordVault;
  /** OPAQUE: the server's side of password registration and login. */
  passwordAuth: PasswordAuthentication;
  /** Customer tenants' HPKE key pairs, the private keys escrowed under the key-encryption key. */
  tenantKeys: TenantKeys;
  /** Who may try a password in the portal (and for a password change), decided before it is checked. */
  signInAdmission: SignInAdmission;
  /** The same for passwords typed at a workstation's login screen. */
  desktopAdmission: SignInAdmission;
  /** Signs and checks the browsers' device cookies. */
  deviceCookies: DeviceCookies;
  limits: RateLimits;
  /** Remembers single-use credentials (workstation credentials' jti). */
  replayGuard: ReplayGuard;
  log: Logger;
};

/** The signed-in user, as their session presents them. */
export type Viewer = {
  sessionId: string;
  userId: string;
  /** The user's own tenant: what they may reach is decided from here. */
  tenantId: string;
  tenantKind: TenantKind;
  /** The tenant the session works in: the user's own, or a customer a technician signed in to by QR. */
  workingTenantId: string;
  role: UserRole;
  label: string;
  /** The session's absolute expiry (ms since the epoch). */
  expiresAt: number;
  /** Its idle expiry as of the lookup; requests slide it. */
  idleExpiresAt: number;
};

export type RequestInfo = { ip: string; userAgent: string | null };

/** How the transport hands a session to a browser; the schema knows nothing of HTTP. */
export type SessionCookie = {
  set(token: string, expiresAt: Date): void;
  clear(): void;
};

/** The browser's device cookie, as sent with the request; set() replaces it (HTTP only). */
export type DeviceCookieJar = {
  readonly value: string | null;
  set(value: string): void;
};

/** A mobile authenticator calling with its device token. */
export type DeviceViewer = {
  authenticatorId: string;
  /** Null until the phone has scanned its user's onboarding QR code. */
  userId: string | null;
  verifiedEmail: string;
  algorithm: "P256" | "ED25519";
  publicKey: string;
};

/** A desktop agent calling with a credential signed by its workstation's key. */
export type WorkstationViewer = {
  id: string;
  tenantId: string;
  name: string;
  status: "PENDING" | "APPROVED";
  keyAgreementAlgorithm: "X25519" | "P256" | null;
  keyAgreementPublicKey: string | null;
  createdAt: Date;
};

export type Context = Services & {
  request: RequestInfo;
  viewer: Viewer | null;
  device: DeviceViewer | null;
  workstation: WorkstationViewer | null;
  cookie: SessionCookie;
  deviceCookie: DeviceCookieJar;
  access: Access;
};
