import type { Prisma, SessionMethod, TenantKind, UserRole } from "@latchkey/db";
import { z } from "zod";
import type { Context, SchemaConfig, Services, Viewer } from "../../context.ts";
import {
  ForbiddenError,
  NotFoundError,
  PhoneApprovalRequiredError,
  PhoneRequiredError,
  TenantSuspendedError,
  UnauthenticatedError,
} from "../../errors.ts";
import { hashToken, newToken } from "../../security/tokens.ts";
import { isUuid, parseInput, withoutControlCharacters } from "../../validation.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { emailKey, usernameKey } from "../user/user-names.ts";
import { unknownAccount } from "../../security/sign-in-admission.ts";
import { portalClient, recordPasswordFailure, rememberDevice } from "./sign-in.ts";
import { finishLogin, recordWrongPassword, startLogin } from "../password/password.service.ts";
import { createChallenge, describeBrowser } from "../challenge/challenge.service.ts";

export type TokenDelivery = "BEARER" | "COOKIE";

/** Idle windows slide at most this often, so a busy client costs one write a minute, not one per request. */
const SLIDE_EVERY_MS = 60_000;

type SessionUser = { id: string; tenantId: string; role: UserRole; firstName: string; lastName: string; email: string };

/** The user's own tenant kind and the tenant the session will work in (usually the same). */
type SessionTenants = { homeKind: TenantKind; workingTenantId: string };

export function viewerLabel(user: Pick<SessionUser, "firstName" | "lastName" | "email">) {
  return `${user.firstName} ${user.lastName} <${user.email}>`;
}

/**
 * Opens a session and hands its token over the way the client asked: in the
 * payload (agents, CLIs, integrations) or as an HttpOnly cookie (the portal).
 * The request then continues as the new viewer.
 */
export async function startSession(
  ctx: Context,
  tx: Prisma.TransactionClient,
  user: SessionUser,
  tenants: SessionTenants,
  method: SessionMethod,
  delivery: TokenDelivery,
) {
  // Every way in ends here: a suspended customer's users get no session, whatever they proved.
  if (tenants.homeKind === "CUSTOMER") {
    const home = await tx.tenant.findUniqueOrThrow({ where: { id: user.tenantId }, select: { status: true } });
    if (home.status === "SUSPENDED") throw new TenantSuspendedError();
  }
  const token = newToken();
  const now = ctx.clock.now();
  const expiresAt = new Date(now + ctx.config.sessionMaxAgeHours * 3600_000);
  const idleExpiresAt = new Date(Math.min(now + ctx.config.sessionIdleMinutes * 60_000, expiresAt.getTime()));
  const session = await tx.session.create({
    data: {
      tokenHash: hashToken(token),
      userId: user.id,
      tenantId: tenants.workingTenantId,
      method,
      ip: ctx.request.ip,
      userAgent: ctx.request.userAgent?.slice(0, 512) ?? null,
      idleExpiresAt,
      expiresAt,
      createdAt: new Date(now),
      lastSeenAt: new Date(now),
      portal: delivery === "COOKIE",
    },
  });
  const viewer: Viewer = {
    sessionId: session.id,
    userId: user.id,
    tenantId: user.tenantId,
    tenantKind: tenants.homeKind,
    workingTenantId: tenants.workingTenantId,
    role: user.role,
    label: viewerLabel(user),
    expiresAt: expiresAt.getTime(),
    idleExpiresAt: idleExpiresAt.getTime(),
    portal: session.portal,
  };
  return { token, session, viewer };
}

/** After commit: make the rest of the request run as `viewer` and deliver the token. */
export function deliverSession(
  ctx: Context,
  started: { token: string; session: { expiresAt: Date }; viewer: Viewer },
  delivery: TokenDelivery,
) {
  ctx.viewer = started.viewer;
  ctx.access.signIn(started.viewer);
  if (delivery === "COOKIE") {
    ctx.cookie.set(started.token, started.session.expiresAt);
    return null;
  }
  return started.token;
}

/** Resolves a bearer or cookie token to its viewer, enforcing revocation and both expiries. */
export async function authenticate(
  services: Pick<Services, "db" | "sessionCache" | "clock"> & { config: Pick<SchemaConfig, "sessionIdleMinutes"> },
  token: string,
): Promise<Viewer | null> {
  if (!token || token.length > 128) return null;
  const tokenHash = hashToken(token);
  const cached = services.sessionCache.get(tokenHash, SLIDE_EVERY_MS, services.clock.now());
  if (cached) return cached;
  return services.sessionCache.lookUp(tokenHash, (generation) => lookUpSession(services, tokenHash, generation));
}

/** Reads a session from the database and remembers it, unless a session ended since `generation`. */
async function lookUpSession(
  services: Pick<Services, "db" | "sessionCache" | "clock"> & { config: Pick<SchemaConfig, "sessionIdleMinutes"> },
  tokenHash: string,
  generation: number,
): Promise<Viewer | null> {
  const session = await services.db.session.findUnique({
    where: { tokenHash },
    include: {
      user: {
        select: {
          id: true, tenantId: true, role: true, status: true, firstName: true, lastName: true, email: true,
          tenant: { select: { kind: true, status: true } },
        },
      },
    },
  });
  const now = services.clock.now();
  if (!session || session.revokedAt) return null;
  if (session.expiresAt.getTime() <= now || session.idleExpiresAt.getTime() <= now) return null;
  if (session.user.status !== "ACTIVE" || session.user.tenant.status === "SUSPENDED") return null;
  let lastSeenAt = session.lastSeenAt.getTime();
  let idleExpiresAt = session.idleExpiresAt.getTime();
  if (now - lastSeenAt > SLIDE_EVERY_MS) {
    idleExpiresAt = Math.min(now + services.config.sessionIdleMinutes * 60_000, session.expiresAt.getTime());
    lastSeenAt = now;
    await services.db.session.update({
      where: { id: session.id },
      data: { lastSeenAt: new Date(now), idleExpiresAt: new Date(idleExpiresAt) },
    });
  }
  const viewer: Viewer = {
    sessionId: session.id,
    userId: session.user.id,
    tenantId: session.user.tenantId,
    tenantKind: session.user.tenant.kind,
    workingTenantId: session.tenantId,
    role: session.user.role,
    label: viewerLabel(session.user),
    expiresAt: session.expiresAt.getTime(),
    idleExpiresAt,
    portal: session.portal,
  };
  services.sessionCache.set(tokenHash, { viewer, expiresAt: session.expiresAt.getTime(), idleExpiresAt, lastSeenAt }, generation, now);
  return viewer;
}

const INCORRECT = "Incorrect tenant, login or password";

/** After a password proved: the session, its audit event, the device cookie, the token. */
async function openPasswordSession(
  ctx: Context,
  user: SessionUser,
  tenant: { id: string; kind: TenantKind },
  delivery: TokenDelivery,
) {
  const { started, event } = await ctx.db.$transaction(async (tx) => {
    const started = await startSession(ctx, tx, user, { homeKind: tenant.kind, workingTenantId: tenant.id }, "PASSWORD", delivery);
    const event = await recordAudit(
      tx,
      { ...ctx, viewer: started.viewer },
      { tenantId: tenant.id, action: "session.loggedIn", targetType: "Session", targetId: started.session.id },
    );
    return { started, event };
  });
  publishAudit(ctx, [event]);
  rememberDevice(ctx, user.id);
  const token = deliverSession(ctx, started, delivery);
  return { token, userId: user.id, tenantId: tenant.id };
}

// No slug, username or email holds a control character, and PostgreSQL refuses to compare text holding U+0000.
const startPasswordLogInInput = z.object({
  tenant: withoutControlCharacters(z.string().trim().toLowerCase().min(1, "Required").max(63)),
  login: withoutControlCharacters(z.string().trim().min(1, "Required").max(254)),
  request: z.string().max(1024),
});

/** Stands in for a tenant that does not exist, so an unknown slug runs the same queries. */
const NO_TENANT = "00000000-0000-0000-0000-000000000000";

/**
 * The portal's (and any client's) OPAQUE log in, first step. A login that
 * matches nobody, or a user without a password, takes the same path with the
 * fake record, the same queries and an answer of the same length. Counted as
 * a failed attempt now; a finish that proves the password gives it back.
 */
export async function startPasswordLogIn(ctx: Context, input: z.input<typeof startPasswordLogInInput>) {
  const data = parseInput(startPasswordLogInInput, input);
  const loginKey = data.login.includes("@") ? emailKey(data.login) : usernameKey(data.login);
  const tenant = await ctx.db.tenant.findUnique({ where: { slug: data.tenant }, select: { id: true } });
  const user = await ctx.db.user.findFirst({
    where: { tenantId: tenant?.id ?? NO_TENANT, OR: [{ emailKey: loginKey }, { usernameKey: loginKey }] },
    select: { id: true, tenantId: true, opaqueRecord: true, passwordKsf: true },
  });
  const tenantRef = tenant?.id ?? `slug:${data.tenant}`;
  const credentialIdentifier = user ? user.id : unknownAccount(tenantRef, loginKey);
  return startLogin(ctx, {
    purpose: "PORTAL",
    tenant: tenantRef,
    tenantId: tenant?.id ?? null,
    credentialIdentifier,
    user,
    request: data.request,
    admission: ctx.signInAdmission,
    client: portalClient(ctx, user?.id ?? null),
    onLocked: (locked) =>
      recordPasswordFailure(ctx, { user, tenantId: tenant?.id ?? null, account: credentialIdentifier, action: null, locked }),
  });
}

/**
 * The second step: the client's proof. Proved, the session opens; otherwise
 * UNAUTHENTICATED, the same for a wrong password and an unknown login.
 */
export async function finishPasswordLogIn(
  ctx: Context,
  input: { loginId: string; finish: string; tokenDelivery?: TokenDelivery | null },
) {
  const { proved, state } = await finishLogin(ctx, {
    loginId: input.loginId,
    finish: input.finish,
    purposes: ["PORTAL"],
    admission: ctx.signInAdmission,
  });
  const user = proved && state.userId ? await ctx.db.user.findUnique({ where: { id: state.userId }, include: { tenant: true } }) : null;
  if (!user) {
    await recordWrongPassword(ctx, state, "session.logInFailed");
    throw new UnauthenticatedError(INCORRECT);
  }
  if (user.status !== "ACTIVE") throw new ForbiddenError("This account is disabled");
  if (user.tenant.signInRequiresPhone) await requirePhoneApproval(ctx, user);
  return openPasswordSession(ctx, user, user.tenant, input.tokenDelivery ?? "BEARER");
}

/**
 * "Sign-in requires phone": the password proved, and the session waits for the
 * user's own phone. Hands the client a QR code that only an approved phone of
 * this user may approve (the challenge names them); redeeming it opens the
 * session. A user with no approved phone is refused, unless no admin of the
 * tenant has one either: then nobody could approve a first phone yet (an MSP's
 * owner right after sign-up), and the password alone still signs in.
 */
async function requirePhoneApproval(ctx: Context, user: SessionUser & { tenant: { id: string } }) {
  const approvedPhone = { approvedAt: { not: null }, revokedAt: null } satisfies Prisma.AuthenticatorWhereInput;
  const phones = await ctx.db.authenticator.count({ where: { userId: user.id, ...approvedPhone } });
  if (phones === 0) {
    const adminPhones = await ctx.db.authenticator.count({
      where: { ...approvedPhone, user: { tenantId: user.tenantId, role: "ADMIN", status: "ACTIVE" } },
    });
    if (adminPhones === 0) return;
    throw new PhoneRequiredError();
  }
  // Each right password makes a code: the same budget per address as codes shown on the sign-in page.
  await ctx.limits.consume("challengeStartPerIp", ctx.request.ip);
  const { started, event } = await ctx.db.$transaction(async (tx) => {
    const started = await createChallenge(tx, ctx.clock, ctx.config.challengeTtlSeconds, {
      tenantId: user.tenant.id,
      kind: "PORTAL_LOGIN",
      targetUserId: user.id,
      requesterKind: "BROWSER",
      requesterName: describeBrowser(ctx.request.userAgent),
      requesterIp: ctx.request.ip,
      requesterUserAgent: ctx.request.userAgent,
    });
    // A right password whose phone step never comes is worth an admin's look.
    const event = await recordAudit(
      tx,
      ctx,
      { tenantId: user.tenant.id, action: "session.passwordProved", targetType: "Challenge", targetId: started.challenge.id },
      { id: user.id, label: viewerLabel(user) },
    );
    return { started, event };
  });
  publishAudit(ctx, [event]);
  throw new PhoneApprovalRequiredError(started);
}

/** Revokes sessions inside a transaction; publish the returned ids after commit. */
export async function revokeSessions(tx: Prisma.TransactionClient, where: Prisma.SessionWhereInput) {
  const sessions = await tx.session.findMany({ where: { AND: [where, { revokedAt: null }] }, select: { id: true } });
  if (sessions.length === 0) return [];
  await tx.session.updateMany({ where: { id: { in: sessions.map((s) => s.id) } }, data: { revokedAt: new Date() } });
  return sessions.map((s) => s.id);
}

/**
 * Ends the live subscriptions of revoked sessions (or of a revoked API key, `kind`), on every
 * instance, and journals the revocation: every one passes here once it has committed.
 */
export function publishSessionsEnded(
  ctx: Pick<Context, "pubsub" | "sessionCache" | "revocationJournal">,
  sessionIds: string[],
  reason: string,
  kind: "session" | "apiKey" = "session",
) {
  if (sessionIds.length === 0) return;
  ctx.revocationJournal.record(kind, sessionIds);
  // This instance forgets them before answering; the others when they hear of it.
  ctx.sessionCache.forget(sessionIds);
  ctx.pubsub.publish("sessions:ended", { sessionIds });
  for (const id of sessionIds) ctx.pubsub.publish("session:ended", id, { reason });
}

/** The viewer's sessions still open: not revoked, not past either deadline. */
export function activeSessionsOf(ctx: Context): Prisma.SessionWhereInput {
  if (!ctx.viewer) return { id: { in: [] } };
  const now = new Date(ctx.clock.now());
  return { userId: ctx.viewer.userId, revokedAt: null, expiresAt: { gt: now }, idleExpiresAt: { gt: now } };
}

/**
 * Ends the session the request was made with; null when it had none. The portal's cookie is
 * cleared either way, so a stale one goes too.
 */
export async function logOut(ctx: Context): Promise<string | null> {
  const viewer = ctx.viewer;
  ctx.cookie.clear();
  if (!viewer) return null;
  const ended = await ctx.db.$transaction((tx) => revokeSessions(tx, { id: viewer.sessionId }));
  publishSessionsEnded(ctx, ended, "logged out");
  return viewer.sessionId;
}

export async function revokeSession(ctx: Context, sessionId: string) {
  const viewer = ctx.viewer;
  if (!viewer) throw new UnauthenticatedError();
  if (!isUuid(sessionId)) throw new NotFoundError("Session");
  const session = await ctx.db.session.findFirst({ where: { id: sessionId, userId: viewer.userId } });
  if (!session) throw new NotFoundError("Session");
  const { ended, event } = await ctx.db.$transaction(async (tx) => {
    const ended = await revokeSessions(tx, { id: session.id });
    const event = await recordAudit(tx, ctx, {
      tenantId: session.tenantId,
      action: "session.revoked",
      targetType: "Session",
      targetId: session.id,
    });
    return { ended, event };
  });
  publishAudit(ctx, [event]);
  publishSessionsEnded(ctx, ended, "revoked");
  if (session.id === viewer.sessionId) ctx.cookie.clear();
  return session.id;
}

export async function revokeOtherSessions(ctx: Context) {
  const viewer = ctx.viewer;
  if (!viewer) throw new UnauthenticatedError();
  const ended = await ctx.db.$transaction((tx) =>
    revokeSessions(tx, { userId: viewer.userId, id: { not: viewer.sessionId } }),
  );
  publishSessionsEnded(ctx, ended, "revoked");
  return ended.length;
}
