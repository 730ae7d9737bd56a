// The one state machine behind every QR approval:
//   PENDING -> SCANNED -> APPROVED | DENIED, EXPIRED from PENDING/SCANNED, then CONSUMED.
// Every transition is a conditional update on the expected state and expiry,
// so two instances (or two phones) racing cannot both win, and each checks, in
// order: not found, already handled, tenant, permission.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Challenge, ChallengeKind, ChallengeStatus, KeyOperationPurpose, Prisma } from "@latchkey/db";
import type { Clock } from "../../clock.ts";
import type { Context, DeviceViewer, Services } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { hashToken } from "../../security/tokens.ts";
import { publishHint } from "../../pubsub.ts";
import { z } from "zod";
import { base64urlText, hasControlCharacters, isUuid, parseInput } from "../../validation.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { recordFailedLogin } from "../login-event/login-event.service.ts";
import { deliverSession, startSession, viewerLabel, type TokenDelivery } from "../session/session.service.ts";
import { rememberDevice } from "../session/sign-in.ts";
import { signingBytes, verifySignature, qrSecretHash, type Decision } from "./challenge-signing.ts";
import { formatQrPayload, newQrSecret, parseQrPayload } from "./qr-payload.ts";
import { approveElevation, elevationNotApproved, mayElevate, scanElevation } from "../elevation/elevation.service.ts";
import { mayRevealBreakGlass } from "../elevation/break-glass.service.ts";
import { mayWorkOnKeyOperation, tenantKeyCustody } from "../tenant-key/master-key.service.ts";
import type { PhoneCopy } from "../password/password.service.ts";
import type { PasswordDeliveryShape } from "./challenge.types.ts";

export const TERMINAL: ChallengeStatus[] = ["APPROVED", "DENIED", "EXPIRED", "CONSUMED"];
const OPEN: ChallengeStatus[] = ["PENDING", "SCANNED"];

type Db = Prisma.TransactionClient;

export function sameHash(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function publishChallenge(ctx: Pick<Services, "pubsub" | "log">, id: string) {
  publishHint(ctx.log, "challenge:updated", () => ctx.pubsub.publish("challenge:updated", id, { id }));
}

/** What asked for a challenge (stored as text): the enum ChallengeRequesterKind. */
export type ChallengeRequesterKind = "BROWSER" | "WORKSTATION";

export type NewChallenge = {
  tenantId: string;
  kind: ChallengeKind;
  requesterKind: ChallengeRequesterKind;
  requesterName: string;
  requesterIp: string | null;
  requesterUserAgent: string | null;
  targetUserId?: string | null;
  /** DEVICE_ONBOARDING: the signed-in user who showed the code. */
  requestedById?: string | null;
  workstationId?: string | null;
  accountName?: string | null;
  keyOperationPurpose?: KeyOperationPurpose | null;
  browserKeyHash?: string | null;
  browserKey?: string | null;
};

/** Creates a challenge; its three secrets are returned once and stored only hashed. */
export async function createChallenge(db: Db, clock: Clock, ttlSeconds: number, input: NewChallenge) {
  const qrSecret = newQrSecret();
  const watchToken = randomBytes(32).toString("base64url");
  const redeemSecret = randomBytes(32).toString("base64url");
  const challenge = await db.challenge.create({
    data: {
      ...input,
      requesterUserAgent: input.requesterUserAgent?.slice(0, 512) ?? null,
      targetUserId: input.targetUserId ?? null,
      requestedById: input.requestedById ?? null,
      workstationId: input.workstationId ?? null,
      secretHash: qrSecretHash(qrSecret),
      watchTokenHash: hashToken(watchToken),
      redeemSecretHash: hashToken(redeemSecret),
      expiresAt: new Date(clock.now() + ttlSeconds * 1000),
    },
  });
  return { challenge, qrPayload: formatQrPayload(challenge.id, qrSecret, challenge.browserKeyHash), watchToken, redeemSecret };
}

/**
 * Reads a challenge with expiry applied: a PENDING or SCANNED challenge past
 * its time becomes EXPIRED here, on read, not only when a timer fires.
 */
export async function readChallenge(ctx: Pick<Services, "db" | "pubsub" | "log" | "clock">, id: string): Promise<Challenge | null> {
  if (!isUuid(id)) return null;
  const challenge = await ctx.db.challenge.findUnique({ where: { id } });
  if (!challenge) return null;
  const now = ctx.clock.now();
  if (OPEN.includes(challenge.status) && challenge.expiresAt.getTime() <= now) {
    const expired = await ctx.db.challenge.updateMany({
      where: { id, status: { in: OPEN }, expiresAt: { lte: new Date(now) } },
      data: { status: "EXPIRED" },
    });
    if (expired.count === 1) publishChallenge(ctx, id);
    return ctx.db.challenge.findUnique({ where: { id } });
  }
  return challenge;
}

/** The challenge, if `watchToken` is the one handed to its requester. */
export async function watchableChallenge(ctx: Context, id: string, watchToken: string) {
  const challenge = await readChallenge(ctx, id);
  if (!challenge || !sameHash(challenge.watchTokenHash, hashToken(watchToken))) return null;
  return challenge;
}

export async function startPortalLogin(ctx: Context, input: { tenant?: string | null; kind: ChallengeKind }) {
  if (input.kind !== "PORTAL_LOGIN") {
    // The other kinds are started where what they grant is asked for: by a workstation's agent, startKeyOperation, ...
    throw new ForbiddenError("Only a portal sign-in (PORTAL_LOGIN) is started here; other kinds start with the operation that asks for them");
  }
  const slug = input.tenant?.trim().toLowerCase();
  if (!slug) throw ValidationError.field("tenant", "Name the tenant to sign in to");
  await ctx.limits.consume("challengeStartPerIp", ctx.request.ip);
  // No slug holds a control character (and PostgreSQL refuses to compare one holding U+0000): answered as any unknown slug.
  const tenant = hasControlCharacters(slug) ? null : await ctx.db.tenant.findUnique({ where: { slug }, select: { id: true } });
  if (!tenant) throw new NotFoundError("Tenant");
  // No budget per tenant: one that strangers could spend would let them stop
  // everyone of that tenant from showing a code. Each address has its own.
  return createChallenge(ctx.db, ctx.clock, ctx.config.challengeTtlSeconds, {
    tenantId: tenant.id,
    kind: "PORTAL_LOGIN",
    requesterKind: "BROWSER",
    requesterName: describeBrowser(ctx.request.userAgent),
    requesterIp: ctx.request.ip,
    requesterUserAgent: ctx.request.userAgent,
  });
}

/** A short, human name for the browser asking, as the phone shows it. */
export function describeBrowser(userAgent: string | null) {
  if (!userAgent) return "Web browser";
  const browser = /Edg\//.test(userAgent) ? "Edge" : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Safari\//.test(userAgent) ? "Safari" : "Web browser";
  const os = /Windows/.test(userAgent) ? "Windows" : /Mac OS X/.test(userAgent) ? "macOS" : /Android/.test(userAgent) ? "Android" : /iPhone|iPad/.test(userAgent) ? "iOS" : /Linux/.test(userAgent) ? "Linux" : null;
  return os ? `${browser} on ${os}` : browser;
}

function requireDevice(ctx: Context) {
  if (!ctx.device) throw new UnauthenticatedError("Enroll this authenticator first");
  return ctx.device;
}

const PHONE_WAITING_FOR_APPROVAL = "This phone is waiting for approval by your admin or your other phone";

/**
 * A linked phone waiting for approval scans and decides no challenge (only its
 * own onboarding code, which an admin may show to approve it): refused before
 * any check that writes, so nothing changes.
 */
function refuseWaitingPhone(device: DeviceViewer) {
  if (device.userId && !device.approved) throw new ForbiddenError(PHONE_WAITING_FOR_APPROVAL);
}

/**
 * May `userId` approve a sign-in to `tenantId`? Its own tenant's active users,
 * and for a customer's portal, its MSP's admins and the technicians delegated
 * to it. A desktop login signs the approver in to a workstation as themselves,
 * so only the workstation's own tenant's users may approve one.
 */
export async function mayApprove(db: Db, userId: string, tenantId: string, kind: ChallengeKind = "PORTAL_LOGIN"): Promise<boolean> {
  const user = await db.user.findUnique({ where: { id: userId }, include: { tenant: true } });
  if (!user || user.status !== "ACTIVE") return false;
  if (user.tenantId === tenantId) return true;
  if (kind === "DESKTOP_LOGIN") return false;
  if (user.tenant.kind !== "MSP") return false;
  const customer = await db.tenant.findFirst({
    where: {
      id: tenantId,
      kind: "CUSTOMER",
      parentId: user.tenantId,
      ...(user.role === "ADMIN" ? {} : { delegations: { some: { technicianId: user.id } } }),
    },
    select: { id: true },
  });
  return customer !== null;
}

/**
 * May the phone of `userId` scan and decide this (non-onboarding) challenge?
 * The one answer for scanning and deciding, so the two never disagree.
 */
async function mayDecide(db: Db, userId: string, challenge: Challenge): Promise<boolean> {
  switch (challenge.kind) {
    case "BREAK_GLASS_REVEAL":
      // Only the admin who asked, on their own linked phone.
      return mayRevealBreakGlass(db, userId, challenge);
    case "ELEVATED_ACCESS":
      // Only MSP admins and delegated technicians: never the customer's own users.
      return mayElevate(db, userId, challenge.tenantId);
    case "KEY_OPERATION":
      // Only a phone that may hold the tenant's key works with it.
      return mayWorkOnKeyOperation(db, userId, challenge.tenantId);
    case "DEVICE_ONBOARDING":
      return false;
    default:
      // The phone step after a password: only that user's own phone completes it.
      if (challenge.targetUserId && challenge.targetUserId !== userId) return false;
      return mayApprove(db, userId, challenge.tenantId, challenge.kind);
  }
}

/** Whether this phone proved an address of the user an onboarding code is for, and is not someone else's. */
export async function mayOnboard(db: Db, device: { userId: string | null; verifiedEmail: string }, targetUserId: string | null) {
  if (!targetUserId || (device.userId && device.userId !== targetUserId)) return false;
  const user = await db.user.findUnique({ where: { id: targetUserId }, select: { emailKey: true, personalEmail: true, status: true } });
  if (!user || user.status !== "ACTIVE") return false;
  return device.verifiedEmail === user.emailKey || device.verifiedEmail === user.personalEmail?.toLowerCase();
}

/** Loads the challenge a QR payload names and proves the scanner saw its secret. */
async function challengeFromQr(ctx: Context, qrPayload: string) {
  const parsed = parseQrPayload(qrPayload);
  if (!parsed) throw ValidationError.field("qrPayload", "This is not a Latchkey QR code");
  const challenge = await readChallenge(ctx, parsed.challengeId);
  if (!challenge || !sameHash(challenge.secretHash, qrSecretHash(parsed.secret))) throw new NotFoundError("Challenge");
  return challenge;
}

export async function scanChallenge(ctx: Context, qrPayload: string) {
  const device = requireDevice(ctx);
  const challenge = await challengeFromQr(ctx, qrPayload);
  if (challenge.kind !== "DEVICE_ONBOARDING") refuseWaitingPhone(device);
  const allowed =
    challenge.kind === "DEVICE_ONBOARDING"
      ? // Only a phone that proved one of the user's own addresses may claim the
        // code; any other phone (of any tenant) would only spoil it for them.
        await mayOnboard(ctx.db, device, challenge.targetUserId)
      : device.userId !== null && (await mayDecide(ctx.db, device.userId, challenge));
  // Indistinguishable from a code that does not exist.
  if (!allowed) throw new NotFoundError("Challenge");
  if (TERMINAL.includes(challenge.status)) throw new ConflictError(`This code was already ${challenge.status.toLowerCase()}`);
  if (challenge.status === "SCANNED" && challenge.scannedById !== device.authenticatorId) {
    throw new ConflictError("Another phone already scanned this code");
  }
  if (challenge.status === "PENDING") {
    const claimed = await ctx.db.challenge.updateMany({
      where: { id: challenge.id, status: "PENDING", expiresAt: { gt: new Date(ctx.clock.now()) } },
      data: { status: "SCANNED", scannedById: device.authenticatorId, scannedAt: new Date(), scannerIp: ctx.request.ip },
    });
    if (claimed.count !== 1) throw new ConflictError("Another phone already scanned this code");
    publishChallenge(ctx, challenge.id);
  }
  const current = await ctx.db.challenge.findUniqueOrThrow({ where: { id: challenge.id }, include: { tenant: true } });
  const workstation = current.workstationId
    ? await ctx.db.workstation.findUnique({ where: { id: current.workstationId }, select: { createdAt: true } })
    : null;
  return {
    challenge: current,
    tenant: { id: current.tenant.id, slug: current.tenant.slug, displayName: current.tenant.displayName },
    requesterKind: current.requesterKind as ChallengeRequesterKind,
    requesterName: current.requesterName,
    requesterIp: current.requesterIp,
    // The strongest hint of a relayed QR code: the screen and the phone are not on one network.
    ipMatches: current.requesterIp !== null && current.requesterIp === ctx.request.ip,
    userAgent: current.requesterUserAgent,
    // How long the asking workstation has been enrolled: a fresh one deserves a second look.
    requesterEnrolledAt: workstation?.createdAt ?? null,
    elevation: current.kind === "ELEVATED_ACCESS" ? await scanElevation(ctx, current, device) : null,
    passwordDelivery: current.kind === "DESKTOP_LOGIN" && device.userId ? await passwordDelivery(ctx.db, current, device.userId, device.authenticatorId) : null,
    createdAt: current.createdAt,
    expiresAt: current.expiresAt,
  };
}

/**
 * With the master key on, the server cannot hand a user's password to a
 * workstation: the approving phone does, from its own copy. What it needs, when
 * it has a copy of the user's current password.
 */
async function passwordDelivery(db: Db, challenge: Challenge, userId: string, authenticatorId: string): Promise<PasswordDeliveryShape | null> {
  if (!challenge.workstationId || (await tenantKeyCustody(db, challenge.tenantId)) !== "MASTER_KEY") return null;
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user || user.tenantId !== challenge.tenantId || !user.opaqueRecord) return null;
  const copy = ((user.phonePasswordCopies as PhoneCopy[] | null) ?? []).find((entry) => entry.authenticatorId === authenticatorId);
  const workstation = await db.workstation.findUnique({ where: { id: challenge.workstationId } });
  if (!copy || !workstation?.keyAgreementPublicKey || !workstation.keyAgreementAlgorithm) return null;
  return {
    workstationId: workstation.id,
    algorithm: workstation.keyAgreementAlgorithm,
    keyAgreementKey: workstation.keyAgreementPublicKey,
    passwordVersion: user.passwordVersion,
    record: user.opaqueRecord,
    copy: copy.sealed,
  };
}

/** A desktop login's password as the approving phone re-sealed it to the workstation. */
export type Delivery = { sealed: { suite: string; enc: string; ciphertext: string }; passwordVersion: number; expiresAt: string };

/** How far ahead a phone may date a delivery's expiry. */
const DELIVERY_MAX_MS = 10 * 60_000;

/** Only the phone that scanned may decide, with a signature over the canonical bytes. */
export async function decideChallenge(ctx: Context, id: string, signature: string, decision: "APPROVE" | "DENY", delivery: Delivery | null = null) {
  const device = requireDevice(ctx);
  if (!device.userId) throw new ForbiddenError("Link this authenticator to your account first");
  refuseWaitingPhone(device);
  await ctx.limits.consume("decisionPerDevice", device.authenticatorId);
  await ctx.limits.consume("decisionPerUser", device.userId);
  const challenge = await readChallenge(ctx, id);
  if (!challenge || challenge.kind === "DEVICE_ONBOARDING" || challenge.scannedById !== device.authenticatorId) {
    throw new NotFoundError("Challenge");
  }
  if (challenge.status !== "SCANNED") throw new ConflictError(`This code was already ${challenge.status.toLowerCase()}`);
  if (challenge.kind === "KEY_OPERATION" && decision === "APPROVE") {
    throw new ForbiddenError("A key operation is completed by the phone's result (enableMasterKey), not by an approval");
  }
  if (challenge.kind === "ELEVATED_ACCESS" && decision === "APPROVE") {
    return approveElevation(ctx, challenge, { ...device, userId: device.userId }, signature);
  }
  if (!(await mayDecide(ctx.db, device.userId, challenge))) throw new NotFoundError("Challenge");
  const bytes = signingBytes({ tenantId: challenge.tenantId, challengeId: challenge.id, secretHash: challenge.secretHash, decision, deviceId: device.authenticatorId });
  if (!verifySignature(device, bytes, signature)) throw ValidationError.field("signature", "The signature does not match this phone's key");

  const status: ChallengeStatus = decision === "APPROVE" ? "APPROVED" : "DENIED";
  const delivered = decision === "APPROVE" && challenge.kind === "DESKTOP_LOGIN" && delivery ? checkDelivery(ctx, delivery) : null;
  // Read before the transaction: on embedded PGlite a query outside it would wait for it.
  const actor = await deviceActor(ctx, device.userId);
  const { decided, event } = await ctx.db.$transaction(async (tx) => {
    const decided = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "SCANNED", scannedById: device.authenticatorId, expiresAt: { gt: new Date(ctx.clock.now()) } },
      data: {
        status,
        decidedAt: new Date(),
        approvedUserId: decision === "APPROVE" ? device.userId : null,
        ...(delivered ? { deliveredPassword: delivered.sealed, deliveredPasswordVersion: delivered.passwordVersion, deliveryExpiresAt: delivered.expiresAt } : {}),
      },
    });
    if (decided.count !== 1) return { decided: false, event: null };
    const event = await recordAudit(tx, ctx, {
      tenantId: challenge.tenantId,
      action: decision === "APPROVE" ? "challenge.approved" : "challenge.denied",
      targetType: "Challenge",
      targetId: challenge.id,
      data: { kind: challenge.kind, authenticatorId: device.authenticatorId },
    }, actor);
    return { decided: true, event };
  });
  if (!decided) throw new ConflictError("This code is no longer waiting for a decision");
  if (event) publishAudit(ctx, [event]);
  if (challenge.kind === "DESKTOP_LOGIN" && decision === "DENY") {
    // A denied login screen is a failed attempt on the tenant's feed, like a wrong password.
    await recordFailedLogin(ctx, {
      tenantId: challenge.tenantId,
      userId: device.userId,
      username: actor?.username ?? "",
      workstation: challenge.workstationId ? { id: challenge.workstationId, name: challenge.requesterName } : null,
      method: "QR",
      reason: "DENIED",
    });
  }
  if (challenge.kind === "ELEVATED_ACCESS") await elevationNotApproved(ctx, challenge.id);
  publishChallenge(ctx, challenge.id);
  await ctx.db.authenticator.update({ where: { id: device.authenticatorId }, data: { lastUsedAt: new Date() } });
  return ctx.db.challenge.findUniqueOrThrow({ where: { id: challenge.id } });
}

/** A delivery's box is only carried, never opened: its shape and its expiry are all the server checks. */
const deliveryInput = z.object({
  sealed: z.object({ suite: z.string().max(100), enc: base64urlText(2048), ciphertext: base64urlText(2048) }),
  passwordVersion: z.number().int().min(1, "A password version is a positive integer"),
  // The expiry is part of the box's associated data and travels back as toISOString() writes it: only that form round-trips.
  expiresAt: z
    .string()
    .refine((text) => Number.isFinite(Date.parse(text)) && new Date(text).toISOString() === text, "Write the expiry as ISO 8601 in UTC with milliseconds (2026-12-01T10:00:00.000Z)"),
});

function checkDelivery(ctx: Context, delivery: Delivery) {
  const data = parseInput(z.object({ delivery: deliveryInput }), { delivery }).delivery;
  const expiresAt = new Date(data.expiresAt);
  const now = ctx.clock.now();
  if (expiresAt.getTime() <= now || expiresAt.getTime() > now + DELIVERY_MAX_MS) {
    throw ValidationError.field("delivery.expiresAt", "Date the delivery to expire within the next ten minutes");
  }
  return { sealed: data.sealed, passwordVersion: data.passwordVersion, expiresAt };
}

async function deviceActor(ctx: Context, userId: string) {
  const user = await ctx.db.user.findUnique({ where: { id: userId }, select: { id: true, firstName: true, lastName: true, email: true, username: true } });
  return user ? { id: user.id, label: viewerLabel(user), username: user.username } : null;
}

/**
 * Turns an APPROVED challenge into what its kind grants, exactly once: the
 * APPROVED -> CONSUMED update is conditional, so of several instances racing
 * with the same secret only one gets a row back.
 */
export async function redeemChallenge(ctx: Context, id: string, redeemSecret: string, delivery: TokenDelivery) {
  const challenge = await readChallenge(ctx, id);
  if (!challenge || !sameHash(challenge.redeemSecretHash, hashToken(redeemSecret))) throw new NotFoundError("Challenge");
  if (challenge.kind !== "PORTAL_LOGIN") throw new ForbiddenError("Only a portal sign-in (PORTAL_LOGIN) is redeemed for a session; this challenge's requester receives what it grants");
  if (challenge.status !== "APPROVED") {
    throw new ConflictError(challenge.status === "CONSUMED" ? "This approval was already used" : `This challenge is ${challenge.status.toLowerCase()}`);
  }
  const result = await ctx.db.$transaction(async (tx) => {
    const consumed = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "APPROVED", expiresAt: { gt: new Date(ctx.clock.now()) } },
      data: { status: "CONSUMED", consumedAt: new Date() },
    });
    if (consumed.count !== 1) return null;
    const user = await tx.user.findUniqueOrThrow({ where: { id: challenge.approvedUserId! }, include: { tenant: true } });
    // Re-checked at redemption: access withdrawn since the approval counts.
    if (!(await mayApprove(tx, user.id, challenge.tenantId))) throw new ForbiddenError("This account may no longer sign in here");
    // A code handed out after a password names its user: both factors, not the phone alone.
    const method = challenge.targetUserId ? "PASSWORD_AND_PHONE" : "QR";
    const started = await startSession(ctx, tx, user, { homeKind: user.tenant.kind, workingTenantId: challenge.tenantId }, method, delivery);
    const event = await recordAudit(
      tx,
      { ...ctx, viewer: started.viewer },
      { tenantId: challenge.tenantId, action: "session.loggedIn", targetType: "Session", targetId: started.session.id, data: { method, challengeId: challenge.id } },
    );
    return { started, event, userId: user.id };
  });
  if (!result) throw new ConflictError("This approval was already used or has expired");
  publishAudit(ctx, [result.event]);
  publishChallenge(ctx, challenge.id);
  // Approved on the phone: this browser is known to the user from now on.
  rememberDevice(ctx, result.userId);
  const token = deliverSession(ctx, result.started, delivery);
  return { token, userId: result.userId, tenantId: challenge.tenantId };
}

/**
 * The requester gives up on a code it showed (the login screen switched to a
 * password, the browser went elsewhere): it expires now, so a phone scanning
 * it later is told so, and a relayed copy is worthless at once.
 */
export async function cancelChallenge(ctx: Context, id: string, redeemSecret: string) {
  const challenge = await readChallenge(ctx, id);
  if (!challenge || !sameHash(challenge.redeemSecretHash, hashToken(redeemSecret))) throw new NotFoundError("Challenge");
  if (!OPEN.includes(challenge.status)) throw new ConflictError(`This code was already ${challenge.status.toLowerCase()}`);
  const cancelled = await ctx.db.challenge.updateMany({
    where: { id: challenge.id, status: { in: OPEN } },
    data: { status: "EXPIRED", expiresAt: new Date(ctx.clock.now()) },
  });
  if (cancelled.count !== 1) throw new ConflictError("This code was decided meanwhile");
  publishChallenge(ctx, challenge.id);
  return ctx.db.challenge.findUniqueOrThrow({ where: { id: challenge.id } });
}

export function isTerminal(status: ChallengeStatus) {
  return TERMINAL.includes(status);
}

export type { Decision };
