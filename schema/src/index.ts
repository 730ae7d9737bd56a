// Imports every module for its side effects on the builder, then builds the schema.
import { builder } from "./builder.ts";
import "./modules/errors/errors.types.ts";
import "./modules/tenant/tenant.types.ts";
import "./modules/tenant/tenant.mutations.ts";
import "./modules/user/user.types.ts";
import "./modules/user/user.mutations.ts";
import "./modules/session/session.types.ts";
import "./modules/session/session.mutations.ts";
import "./modules/password/password.types.ts";
import "./modules/password/password.mutations.ts";
import "./modules/tenant-key/tenant-key.types.ts";
import "./modules/tenant-key/master-key.types.ts";
import "./modules/delegation/delegation.types.ts";
import "./modules/delegation/delegation.mutations.ts";
import "./modules/audit/audit.types.ts";
import "./modules/challenge/challenge.types.ts";
import "./modules/challenge/challenge.mutations.ts";
import "./modules/challenge/challenge.subscriptions.ts";
import "./modules/authenticator/authenticator.types.ts";
import "./modules/authenticator/authenticator.mutations.ts";
import "./modules/invitation/invitation.mutations.ts";
import "./modules/desktop-settings/desktop-settings.types.ts";
import "./modules/desktop-settings/desktop-settings.mutations.ts";
import "./modules/workstation/workstation.types.ts";
import "./modules/workstation/workstation.mutations.ts";
import "./modules/login-event/login-event.types.ts";
import "./modules/login-event/login-event.subscriptions.ts";
import "./modules/desktop-login/desktop-login.types.ts";
import "./modules/desktop-login/desktop-login.mutations.ts";
import "./modules/elevation/elevation.types.ts";
import "./modules/elevation/elevation.mutations.ts";
import "./modules/elevation/elevation.queries.ts";
import "./modules/api-key/api-key.types.ts";
import "./modules/api-key/api-key.mutations.ts";
import "./modules/webhook/webhook.types.ts";
import "./modules/webhook/webhook.mutations.ts";
import "./modules/elevation/break-glass.graphql.ts";
import "./modules/node/node.queries.ts";

builder.queryType({
  description:
    "What a client can read: the viewer, tenants and their users, workstations, phones and challenges, logs, and integrations. " +
    "Requests carry a session (cookie or `Authorization: Bearer`) or an API key.",
});
builder.mutationType({
  description:
    "What a client can change. Most mutations take one `input` and answer a `…Result` union: their payload, or one of the typed errors (`Error`) they can raise.",
});
builder.subscriptionType({
  description: "Live feeds over WebSocket (graphql-ws, on the same path as queries). A feed opened with a session or API key ends when that does.",
});

export const schema = builder.toSchema({ sortSchema: true });

export { Access } from "./access.ts";
export { AUDIT_EXPORT_PAGE, auditEventPages, auditTenants, auditWhere, publishAudit, purgeAuditEvents, recordAudit } from "./modules/audit/audit.service.ts";
export { ChallengeWaiters } from "./modules/challenge/challenge-waiters.ts";
export { SessionCache } from "./modules/session/session-cache.ts";
export { SessionDeadlines } from "./modules/session/session-deadlines.ts";
export { systemClock, type Clock } from "./clock.ts";
export { AppError, UnavailableError } from "./errors.ts";
export { databaseUnavailable } from "./database-errors.ts";
export { ERROR_CODES, type ErrorCode } from "./error-codes.ts";
export type { ApiKeyViewer, Context, DeviceCookieJar, Logger, RequestInfo, RevocationJournal, RevokedKind, SchemaConfig, Services, SessionCookie, Viewer, WorkstationViewer } from "./context.ts";
export type { AppPubSub, Topics } from "./pubsub.ts";
export {
  KEY_BYTES,
  KEY_ID_PATTERN,
  KeyHierarchyError,
  TenantKeyring,
  decodeKeyEncryptionKey,
  rewrapTenantKeys,
  unwrapDataKey,
  wrapDataKey,
  type KeyEncryptionKey,
  type RewrapReport,
} from "./security/key-hierarchy.ts";
export { RateLimits, limiterFactory, type LimiterFactory } from "./security/throttle.ts";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./pagination.ts";
export { isOperationsVersion, readOperationsManifest, type OperationsManifest } from "./operations-manifest.ts";
export { openWebhookSecret } from "./security/webhook-signing.ts";
export { traceAbandonedLogins } from "./modules/password/password.service.ts";
export { sweepExpired } from "./housekeeping.ts";
export { PasswordAuthentication, createServerSetup, serverSetupPublicKey } from "./security/password-authentication.ts";
export { TenantKeys, rewrapTenantKeyPairs, unwrapTenantPrivateKey, unwrapTenantSigningKey } from "./security/tenant-keys.ts";
export { SignInAdmission, SIGN_IN_BUDGETS } from "./security/sign-in-admission.ts";
export { DeviceCookies, DEVICE_COOKIE_LIFETIME_DAYS } from "./security/device-cookie.ts";
export { hashToken } from "./security/tokens.ts";
export { authenticate } from "./modules/session/session.service.ts";
export { authenticateApiKey } from "./modules/api-key/api-key.service.ts";
export { claimsToBeApiKey, API_KEY_PATTERN } from "./security/api-key-secret.ts";
export { apiKeyOperations, apiKeyPermissionNames } from "./modules/api-key/api-key-permissions.ts";
export { refreshUsernameKeys } from "./modules/user/user.service.ts";
export { authenticateDevice } from "./modules/authenticator/authenticator.service.ts";
export { authenticateWorkstation, reloadWorkstation } from "./modules/workstation/workstation.service.ts";
export { ReplayGuard } from "./security/replay-guard.ts";
export { looksLikeWorkstationCredential } from "./security/workstation-credential.ts";
export type { DeviceViewer, Mail, Mailer, WebhookRequest, WebhookSender } from "./context.ts";
export { enqueueDueDeliveries } from "./modules/webhook/webhook-delivery.ts";
export { addressInRanges, parseCidr, refusedTarget, type TargetAllowance } from "./security/network-ranges.ts";
export { jobDefinitions, jobNames, type EnqueueOptions, type JobDefinition, type JobName, type JobPayloads, type JobQueue, type JobServices } from "./jobs.ts";
