// Mobile authenticators: a phone proves an email address with an emailed code,
// registers its public key, and is linked to the user whose onboarding QR code
// it then scans. Afterwards it approves sign-ins with signatures, once it is
// approved itself: a second phone, any phone of an MSP user and any link
// through a personal email wait for an existing phone of the user or an admin.
import { randomInt } from "node:crypto";
import type { Prisma } from "@latchkey/db";
import { z } from "zod";
import type { Context, DeviceViewer, Services } from "../../context.ts";
import type { JobServices } from "../../jobs.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError, type AppError } from "../../errors.ts";
import { databaseUnavailable } from "../../database-errors.ts";
import { hashToken, newToken } from "../../security/tokens.ts";
import { email as emailSchema, isUuid, parseInput, personName } from "../../validation.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { signingBytes, parsePublicKey, verifySignature } from "../challenge/challenge-signing.ts";
import { createChallenge, publishChallenge, readChallenge } from "../challenge/challenge.service.ts";
import { parseQrPayload } from "../challenge/qr-payload.ts";
import { qrSecretHash } from "../challenge/challenge-signing.ts";
import { findManagedUser, isFreshPhoneSignIn } from "../user/user.service.ts";
import { emailKey } from "../user/user-names.ts";
import { revokeTechnicianSessions } from "../elevation/elevation.service.ts";

export const CODE_DIGITS = 8;
export const CODE_TTL_MINUTES = 10;
export const CODE_MAX_ATTEMPTS = 5;

/** Users whose company email, or personal email, is this address. */
function usersWithEmail(ctx: Pick<Services, "db">, key: string) {
  return ctx.db.user.findMany({
    where: { status: "ACTIVE", OR: [{ emailKey: key }, { personalEmail: { equals: key, mode: "insensitive" } }] },
    select: { id: true },
  });
}

/** What the request hands the worker: the address as typed, and until when a code would be valid. */
export type EmailVerificationJob = { email: string; ip: string; expiresAt: string };

/**
 * Answers before any work that depends on the address: the same queries, the
 * same answer and the same time for an address with an account and one
 * without, so the form cannot tell who has an account. The worker finds out
 * and sends the code.
 */
export async function requestEmailVerification(ctx: Context, input: { email: string }) {
  const data = parseInput(z.object({ email: emailSchema }), input);
  const key = emailKey(data.email);
  await ctx.limits.consume("emailCodePerIp", ctx.request.ip);
  await ctx.limits.consume("emailCodePerAddress", ctx.config.pseudonymize(key));
  const expiresAt = new Date(Date.now() + CODE_TTL_MINUTES * 60_000);
  await ctx.jobs.enqueue("emailVerification.send", { email: data.email, ip: ctx.request.ip, expiresAt: expiresAt.toISOString() });
  return { sent: true, expiresAt };
}

/**
 * The worker's half: a code for an address that belongs to a user, generated
 * here so that it is never stored anywhere but in the email (and hashed).
 */
export async function sendEmailVerificationCode(services: JobServices, job: EmailVerificationJob) {
  const expiresAt = new Date(job.expiresAt);
  // A retry that comes too late would only send a code that no longer works.
  if (!(expiresAt.getTime() > Date.now())) return;
  const key = emailKey(job.email);
  if ((await usersWithEmail(services, key)).length === 0) return;
  const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, "0");
  await services.db.emailVerification.create({
    data: { emailKey: key, codeHash: services.config.hashEmailCode(key, code), expiresAt, ip: job.ip },
  });
  const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
  await services.mailer.send({
    to: job.email,
    subject: "Your Latchkey verification code",
    text: `Your verification code is ${code}.\n\nIt is valid for ${minutes} minutes. If you did not ask for it, ignore this email.\n`,
  });
}

const verifyEmailInput = z.object({
  email: emailSchema,
  code: z.string().trim().regex(/^\d{6,10}$/, "Enter the code from the email"),
  publicKey: z.string().trim().min(40).max(400),
  deviceName: personName,
  algorithm: z.enum(["P256", "ED25519"]).default("P256"),
});

/** Checks the emailed code and registers the phone's key; returns its bearer token once. */
export async function verifyEmail(ctx: Context, input: z.input<typeof verifyEmailInput>) {
  const data = parseInput(verifyEmailInput, input);
  if (!parsePublicKey(data.publicKey, data.algorithm)) {
    throw ValidationError.field("publicKey", `Expected a ${data.algorithm === "P256" ? "P-256" : "Ed25519"} public key (SPKI DER, base64)`);
  }
  await ctx.limits.consume("emailVerifyPerIp", ctx.request.ip);
  const key = emailKey(data.email);
  const invalid = new UnauthenticatedError("This code is not valid; ask for a new one");
  const pending = await ctx.db.emailVerification.findFirst({
    where: { emailKey: key, usedAt: null, expiresAt: { gt: new Date() }, attempts: { lt: CODE_MAX_ATTEMPTS } },
    orderBy: { createdAt: "desc" },
  });
  if (!pending) throw invalid;
  // The attempt is counted before the comparison, so parallel guesses share the budget.
  const counted = await ctx.db.emailVerification.updateMany({
    where: { id: pending.id, usedAt: null, attempts: { lt: CODE_MAX_ATTEMPTS } },
    data: { attempts: { increment: 1 } },
  });
  if (counted.count !== 1 || pending.codeHash !== ctx.config.hashEmailCode(key, data.code)) throw invalid;

  const token = newToken();
  const authenticator = await ctx.db.$transaction(async (tx) => {
    const used = await tx.emailVerification.updateMany({ where: { id: pending.id, usedAt: null }, data: { usedAt: new Date() } });
    if (used.count !== 1) throw invalid;
    return tx.authenticator.create({
      data: { name: data.deviceName, algorithm: data.algorithm, publicKey: data.publicKey, tokenHash: hashToken(token), verifiedEmail: key },
    });
  });
  // The rest of this request (the returned authenticator) is answered to the new phone.
  ctx.device = { authenticatorId: authenticator.id, userId: null, approved: false, verifiedEmail: key, algorithm: authenticator.algorithm, publicKey: authenticator.publicKey };
  return { deviceToken: token, authenticator };
}

/** Resolves a device bearer token to the authenticator behind it. */
export async function authenticateDevice(services: Pick<Services, "db">, token: string): Promise<DeviceViewer | null> {
  if (!token || token.length > 128) return null;
  const authenticator = await services.db.authenticator.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { user: { select: { status: true } } },
  });
  if (!authenticator || authenticator.revokedAt) return null;
  if (authenticator.user && authenticator.user.status !== "ACTIVE") return null;
  return {
    authenticatorId: authenticator.id,
    userId: authenticator.userId,
    approved: authenticator.approvedAt !== null,
    verifiedEmail: authenticator.verifiedEmail,
    algorithm: authenticator.algorithm,
    publicKey: authenticator.publicKey,
  };
}

/**
 * An admin shows this QR code so that one user's phone can be linked to them;
 * anyone may show their own (the phone must still prove their email). The code
 * remembers who showed it: a phone linked by an admin's code is approved by
 * that admin, who was there.
 */
export async function startDeviceOnboarding(ctx: Context, input: { userId: string }) {
  const user =
    ctx.viewer && input.userId === ctx.viewer.userId
      ? await ctx.db.user.findUniqueOrThrow({ where: { id: ctx.viewer.userId } })
      : await findManagedUser(ctx, input.userId);
  const started = await createChallenge(ctx.db, ctx.clock, ctx.config.challengeTtlSeconds, {
    tenantId: user.tenantId,
    kind: "DEVICE_ONBOARDING",
    requesterKind: "BROWSER",
    requesterName: `Onboarding for ${user.firstName} ${user.lastName}`,
    requesterIp: ctx.request.ip,
    requesterUserAgent: ctx.request.userAgent,
    targetUserId: user.id,
    requestedById: ctx.viewer?.userId ?? null,
  });
  return started;
}

export async function onboardDevice(ctx: Context, input: { qrPayload: string; signature: string }) {
  const device = ctx.device;
  if (!device) throw new UnauthenticatedError("Verify your email on this phone first");
  const parsed = parseQrPayload(input.qrPayload);
  if (!parsed) throw ValidationError.field("qrPayload", "This is not a Latchkey QR code");
  const challenge = await readChallenge(ctx, parsed.challengeId);
  if (!challenge || challenge.kind !== "DEVICE_ONBOARDING" || challenge.secretHash !== qrSecretHash(parsed.secret)) {
    throw new NotFoundError("Challenge");
  }
  if (challenge.status !== "PENDING" && !(challenge.status === "SCANNED" && challenge.scannedById === device.authenticatorId)) {
    throw new ConflictError(`This code was already ${challenge.status.toLowerCase()}`);
  }
  const user = await ctx.db.user.findUnique({ where: { id: challenge.targetUserId! }, include: { tenant: true } });
  if (!user || user.status !== "ACTIVE") throw new NotFoundError("Challenge");
  const addresses = [user.emailKey, user.personalEmail?.toLowerCase()].filter(Boolean);
  if (!addresses.includes(device.verifiedEmail)) {
    throw new ForbiddenError("This phone verified a different email address than this user's");
  }
  if (device.userId && device.userId !== user.id) throw new ConflictError("This phone is already linked to another user");
  const bytes = signingBytes({ tenantId: challenge.tenantId, challengeId: challenge.id, secretHash: challenge.secretHash, decision: "ONBOARD", deviceId: device.authenticatorId });
  if (!verifySignature(device, bytes, input.signature)) throw ValidationError.field("signature", "The signature does not match this phone's key");

  const result = await ctx.db.$transaction(async (tx) => {
    const consumed = await tx.challenge.updateMany({
      where: { id: challenge.id, status: { in: ["PENDING", "SCANNED"] }, expiresAt: { gt: new Date(ctx.clock.now()) } },
      data: { status: "CONSUMED", scannedById: device.authenticatorId, decidedAt: new Date(), consumedAt: new Date(), approvedUserId: user.id },
    });
    if (consumed.count !== 1) return null;
    return linkDevice(tx, ctx, device.authenticatorId, user, new Date(), { via: "onboarding", requestedById: challenge.requestedById });
  });
  if (!result) throw new ConflictError("This code has expired or was already used");
  ctx.device = { ...device, userId: user.id, approved: result.authenticator.approvedAt !== null };
  publishAudit(ctx, [result.event]);
  publishChallenge(ctx, challenge.id);
  return result.authenticator;
}

/** How a phone came to be linked: the onboarding QR code (and who showed it), or an invitation. */
export type LinkRoute = { via: "onboarding"; requestedById: string | null } | { via: "invitation" };

type LinkedUser = { id: string; tenantId: string; email: string; emailKey: string; firstName: string; lastName: string; role: string };

/**
 * Links a phone to its user, inside the caller's transaction: the link, its
 * approval or the wait for one, its audit event (made by the user), and the
 * email to the user and their tenant's admins.
 */
export async function linkDevice(
  tx: Prisma.TransactionClient,
  ctx: Pick<Context, "jobs" | "viewer" | "request" | "clock">,
  authenticatorId: string,
  user: LinkedUser,
  at: Date,
  route: LinkRoute,
) {
  const phone = await tx.authenticator.findUniqueOrThrow({ where: { id: authenticatorId } });
  // A phone already approved for this user (linked again) stays approved.
  const alreadyApproved = phone.approvedAt !== null && phone.userId === user.id;
  const approver = alreadyApproved ? null : await approverOfLink(tx, phone, user, route);
  const authenticator = await tx.authenticator.update({
    where: { id: authenticatorId },
    data: {
      userId: user.id,
      tenantId: user.tenantId,
      lastUsedAt: at,
      ...(alreadyApproved ? {} : { approvedAt: approver ? at : null, approvedById: approver }),
    },
  });
  const waits = authenticator.approvedAt === null;
  const event = await recordAudit(
    tx,
    ctx,
    {
      tenantId: user.tenantId,
      action: "authenticator.enrolled",
      targetType: "Authenticator",
      targetId: authenticator.id,
      data: {
        userId: user.id,
        name: authenticator.name,
        ...(route.via === "invitation" ? { via: "invitation" } : {}),
        waitsForApproval: waits,
        ...(approver && approver !== user.id ? { approvedById: approver } : {}),
      },
    },
    { id: user.id, label: `${user.firstName} ${user.lastName} <${user.email}>` },
  );
  await notifyEnrollment(tx, ctx, user, authenticator, waits ? await approvers(tx, user, authenticator.id) : null);
  return { authenticator, event };
}

/** Approved, unrevoked phones of `userId` other than `exceptId`. */
function otherApprovedPhones(db: Pick<Prisma.TransactionClient, "authenticator">, userId: string, exceptId: string) {
  return db.authenticator.count({ where: { userId, id: { not: exceptId }, approvedAt: { not: null }, revokedAt: null } });
}

/**
 * Who approves a phone as it is linked, or null when it must wait. It waits
 * when the user already has an approved phone (a second phone is the classic
 * way into an account), when the user belongs to an MSP (they reach every
 * customer), or when the phone proved the user's personal email rather than the
 * company's. An admin who showed the user's onboarding code was there: they
 * approve it, whatever the case.
 */
async function approverOfLink(
  tx: Prisma.TransactionClient,
  phone: { id: string; verifiedEmail: string },
  user: LinkedUser,
  route: LinkRoute,
): Promise<string | null> {
  if (route.via === "onboarding" && route.requestedById && route.requestedById !== user.id) {
    const admin = await tx.user.findUnique({ where: { id: route.requestedById }, select: { id: true, status: true } });
    if (admin?.status === "ACTIVE") return admin.id;
  }
  const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: user.tenantId }, select: { kind: true } });
  if (tenant.kind === "MSP") return null;
  if (phone.verifiedEmail !== user.emailKey) return null;
  if ((await otherApprovedPhones(tx, user.id, phone.id)) > 0) return null;
  return user.id;
}

/** Who can approve a waiting phone, as its announcement says it. */
async function approvers(tx: Prisma.TransactionClient, user: LinkedUser, authenticatorId: string) {
  const hasOther = (await otherApprovedPhones(tx, user.id, authenticatorId)) > 0;
  const admins = `an admin who manages ${user.firstName} can approve it in the portal`;
  if (hasOther) {
    return `${user.firstName} can approve it under "Your account" in the portal within five minutes of signing in there with their other phone, or ${admins}`;
  }
  if (user.role === "ADMIN") return `${user.firstName}, as an admin, can approve it under "Your account" in the portal, or ${admins}`;
  return `${admins.charAt(0).toUpperCase()}${admins.slice(1)}`;
}

/**
 * The user and their tenant's admins hear of every new authenticator: a stolen
 * enrollment does not go unnoticed. Enqueued with the enrollment, so the notice
 * goes out exactly when the enrollment is made, whatever the mail server does.
 * `waitingFor` says who can approve a phone that waits for approval.
 */
async function notifyEnrollment(
  tx: Prisma.TransactionClient,
  ctx: Pick<Context, "jobs">,
  user: LinkedUser,
  authenticator: { name: string },
  waitingFor: string | null,
) {
  const admins = await tx.user.findMany({
    where: { tenantId: user.tenantId, role: "ADMIN", status: "ACTIVE", id: { not: user.id } },
    select: { email: true },
  });
  const linked = `A new authenticator, "${authenticator.name}", was linked to ${user.firstName} ${user.lastName} (${user.email}) at ${new Date().toISOString()}.`;
  const approval = waitingFor ? `\n\nIt waits for approval and approves no sign-in until then. ${waitingFor}.` : "";
  const text = `${linked}${approval}\n\nIf this was not expected, revoke it in the portal.\n`;
  const subject = waitingFor ? "New authenticator enrolled, waiting for approval" : "New authenticator enrolled";
  for (const to of [user.email, ...admins.map((admin) => admin.email)]) {
    await ctx.jobs.enqueue("mail.send", { to, subject, text }, { tx });
  }
}

/** The viewer's authenticators: a phone sees its user's (or only itself before onboarding), a signed-in user theirs. */
export function viewerAuthenticatorsWhere(ctx: Context): Prisma.AuthenticatorWhereInput {
  if (ctx.device) return ctx.device.userId ? { userId: ctx.device.userId, revokedAt: null } : { id: ctx.device.authenticatorId };
  if (ctx.viewer) return { userId: ctx.viewer.userId, revokedAt: null };
  throw new UnauthenticatedError();
}

/** Users revoke their own authenticators; admins those of users they manage. */
export async function revokeAuthenticator(ctx: Context, id: string) {
  if (!ctx.device && !ctx.viewer) throw new UnauthenticatedError();
  if (!isUuid(id)) throw new NotFoundError("Authenticator");
  const authenticator = await ctx.db.authenticator.findFirst({ where: { id, revokedAt: null } });
  if (!authenticator) throw new NotFoundError("Authenticator");
  const ownerId = ctx.device?.userId ?? ctx.viewer?.userId ?? null;
  const own = authenticator.id === ctx.device?.authenticatorId || (ownerId !== null && authenticator.userId === ownerId);
  if (!own) {
    if (!ctx.viewer || !authenticator.userId) throw new NotFoundError("Authenticator");
    await findManagedUser(ctx, authenticator.userId).catch((error: unknown) => {
      // A database out of reach is no answer about who manages the user.
      throw databaseUnavailable(error) ? error : new NotFoundError("Authenticator");
    });
  }
  const user = authenticator.userId ? await ctx.db.user.findUnique({ where: { id: authenticator.userId } }) : null;
  const event = await ctx.db.$transaction(async (tx) => {
    await tx.authenticator.update({ where: { id: authenticator.id }, data: { revokedAt: new Date() } });
    return user
      ? recordAudit(tx, ctx, { tenantId: user.tenantId, action: "authenticator.revoked", targetType: "Authenticator", targetId: authenticator.id })
      : null;
  });
  if (event) publishAudit(ctx, [event]);
  ctx.revocationJournal.record("authenticator", [authenticator.id]);
  // Elevations this phone approved end now, on their workstations too.
  await revokeTechnicianSessions(ctx, { authenticatorId: authenticator.id }, "phone revoked");
  return authenticator.id;
}

export type AuthenticatorStatus = "ACTIVE" | "PENDING_APPROVAL" | "REVOKED";

export function authenticatorStatus(authenticator: { userId: string | null; approvedAt: Date | null; revokedAt: Date | null }): AuthenticatorStatus {
  if (authenticator.revokedAt) return "REVOKED";
  return authenticator.userId && !authenticator.approvedAt ? "PENDING_APPROVAL" : "ACTIVE";
}

type ApprovalTarget = { id: string; userId: string | null; approvedAt: Date | null; revokedAt: Date | null };

/**
 * Why the viewer may not approve this phone, or null when they may; checked
 * in order: not found, already handled, permission. An admin approves the
 * phones of users they manage. Their own phone, a user approves within five
 * minutes of a sign-in approved on their phone (proof of another approved one:
 * a waiting phone approves nothing); an admin with no other approved phone
 * approves their own, or the sole admin of an MSP could never start.
 */
async function approvalRefusal(ctx: Context, authenticator: ApprovalTarget | null): Promise<AppError | null> {
  const viewer = ctx.viewer;
  if (!viewer) return new UnauthenticatedError();
  if (!authenticator?.userId) return new NotFoundError("Authenticator");
  const own = authenticator.userId === viewer.userId && !viewer.apiKey;
  if (!own && !(await managesUser(ctx, authenticator.userId))) return new NotFoundError("Authenticator");
  if (authenticator.revokedAt) return new ConflictError("This phone was revoked; it cannot be approved");
  if (authenticator.approvedAt) return new ConflictError("This phone is already approved");
  if (own && !(await isFreshPhoneSignIn(ctx))) {
    const sole = viewer.role === "ADMIN" && (await otherApprovedPhones(ctx.db, viewer.userId, authenticator.id)) === 0;
    if (!sole) {
      return new ForbiddenError("To approve this phone, sign in with your other phone and approve it within five minutes, or ask your admin");
    }
  }
  return null;
}

function managesUser(ctx: Context, userId: string) {
  return findManagedUser(ctx, userId).then(
    () => true,
    (error: unknown) => {
      if (error instanceof NotFoundError) return false;
      throw error;
    },
  );
}

/** Whether the viewer may approve this phone now: what the portal offers. */
export async function viewerCanApprove(ctx: Context, authenticator: ApprovalTarget) {
  // Only a waiting phone can be approved: a list of phones that do not wait costs no query.
  if (authenticatorStatus(authenticator) !== "PENDING_APPROVAL") return false;
  return (await approvalRefusal(ctx, authenticator)) === null;
}

/** Approves a phone that waits for approval: from now on it scans and decides challenges. */
export async function approveAuthenticator(ctx: Context, id: string) {
  const authenticator = isUuid(id) ? await ctx.db.authenticator.findUnique({ where: { id } }) : null;
  const refusal = await approvalRefusal(ctx, authenticator);
  if (refusal) throw refusal;
  const viewer = ctx.viewer!;
  const phone = authenticator!;
  const user = await ctx.db.user.findUniqueOrThrow({ where: { id: phone.userId! } });
  const now = new Date(ctx.clock.now());
  const { approved, event } = await ctx.db.$transaction(async (tx) => {
    const updated = await tx.authenticator.updateMany({
      where: { id: phone.id, userId: user.id, approvedAt: null, revokedAt: null },
      data: { approvedAt: now, approvedById: viewer.userId },
    });
    if (updated.count !== 1) return { approved: null, event: null };
    const event = await recordAudit(tx, ctx, {
      tenantId: user.tenantId,
      action: "authenticator.approved",
      targetType: "Authenticator",
      targetId: phone.id,
      data: { userId: user.id, name: phone.name },
    });
    const by = viewer.userId === user.id ? "you" : viewer.label;
    await ctx.jobs.enqueue(
      "mail.send",
      {
        to: user.email,
        subject: "Your new authenticator was approved",
        text:
          `Your authenticator "${phone.name}" was approved by ${by} at ${now.toISOString()}: it now approves your sign-ins.\n\n` +
          `If this was not expected, revoke it in the portal and tell your admin.\n`,
      },
      { tx },
    );
    return { approved: await tx.authenticator.findUniqueOrThrow({ where: { id: phone.id } }), event };
  });
  if (!approved) throw new ConflictError("This phone was approved or revoked meanwhile");
  publishAudit(ctx, [event!]);
  return approved;
}
