import type { PrismaClient, TenantKind, UserRole } from "@latchkey/db";
import type { Access } from "./access.ts";
import type { Clock } from "./clock.ts";
import type { JobQueue } from "./jobs.ts";
import type { ChallengeWaiters } from "./modules/challenge/challenge-waiters.ts";
import type { SessionCache } from "./modules/session/session-cache.ts";
import type { SessionDeadlines } from "./modules/session/session-deadlines.ts";
import type { AppPubSub } from "./pubsub.ts";
import type { TenantKeyring } from "./security/key-hierarchy.ts";
import type { PasswordAuthentication } from "./security/password-authentication.ts";
import type { TenantKeys } from "./security/tenant-keys.ts";
import type { DeviceCookies } from "./security/device-cookie.ts";
import type { ReplayGuard } from "./security/replay-guard.ts";
import type { SignInAdmission } from "./security/sign-in-admission.ts";
import type { RateLimits } from "./security/throttle.ts";
import type { TargetAllowance } from "./security/network-ranges.ts";

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
  /** Which non-public addresses webhooks may be delivered to (none unless the operator says). */
  webhookTargets: TargetAllowance;
};

export type Logger = {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
};

export type Mail = { to: string; subject: string; text: string };

export type Mailer = { send(mail: Mail): Promise<void> };

/** One signed webhook request, as the delivery job hands it over. */
export type WebhookRequest = { url: string; headers: Record<string, string>; body: string };

/**
 * Sends webhook requests: resolves the target, refuses any address the
 * operator does not allow, connects to the address it checked, follows no
 * redirect. Resolves to the response's status; rejects when no response came.
 */
export type WebhookSender = {
  send(request: WebhookRequest): Promise<{ status: number }>;
  /** Why a URL's host may not receive webhooks as it resolves now, or null (an early answer; every delivery checks again). */
  check(url: string): Promise<string | null>;
};

/** What a revocation journal entry names: a session, an API key, a removed workstation or a revoked phone. */
export type RevokedKind = "session" | "apiKey" | "workstation" | "authenticator";

/**
 * Keeps every revocation outside the database too (ids and times only), so that
 * `post-restore` can re-apply those a restore from a backup lost. Services call
 * it once the revocation has committed; it writes in the background, never
 * throws, and logs a write that fails.
 */
export type RevocationJournal = { record(kind: RevokedKind, ids: readonly string[]): void };

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
  /** Per-tenant data keys under the key-encryption key, for the secrets the server reads back (webhook signing secrets). */
  keyring: TenantKeyring;
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
  /** Sends webhook deliveries, refusing targets the operator does not allow. */
  webhookSender: WebhookSender;
  /** Remembers single-use credentials (workstation credentials' jti). */
  replayGuard: ReplayGuard;
  /** Revocations, kept where a database restore does not reach. */
  revocationJournal: RevocationJournal;
  log: Logger;
};

/** An integration's API key acting as a viewer: held to its permissions (and, for an MSP key, its customers). */
export type ApiKeyViewer = {
  id: string;
  name: string;
  permissions: readonly string[];
  /** An MSP key's customers besides the MSP itself; null: every customer, present and future. */
  customerIds: readonly string[] | null;
  /** CIDR ranges requests may come from; empty: anywhere. */
  allowedRanges: readonly string[];
};

/**
 * The signed-in user, as their session presents them; or an API key, presented
 * as an admin of its tenant whose session and user ids are the key's id.
 */
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
  /** Set when the caller is an API key rather than a person. */
  apiKey?: ApiKeyViewer;
  /** The session's token was handed over in the portal's cookie: it runs only the portal's registered operations, however the token comes back. */
  portal?: boolean;
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
  /** False while a linked phone waits for approval: it then scans and decides no challenge. */
  approved: boolean;
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
