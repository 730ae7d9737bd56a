// Elevated access: an ELEVATED_ACCESS challenge started by a workstation's
// agent, approved on the phone of a technician who reaches that customer,
// redeemed by that workstation for an instruction the agent verifies itself,
// and a technician session that the agent starts, ends and reports:
//   REQUESTED -> APPROVED -> STARTED -> ENDED (with a reason).
// At most one open (APPROVED or STARTED) session holds a workstation's
// account; ending one on the server (an admin, the technician, a revocation)
// leaves a durable command for the workstation's agent.
import type { Challenge, Prisma, TechnicianSession, TechnicianSessionEndReason } from "@latchkey/db";
import { z } from "zod";
import { administeredTenants } from "../../access.ts";
import type { Context, DeviceViewer, Services } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../errors.ts";
import { publishHint } from "../../pubsub.ts";
import { hashToken } from "../../security/tokens.ts";
import { isUuid, parseInput } from "../../validation.ts";
import type { AuditAction } from "../audit/audit-actions.ts";
import { publishAudit, recordAudit, type AuditEntry } from "../audit/audit.service.ts";
import { createChallenge, publishChallenge, readChallenge, sameHash } from "../challenge/challenge.service.ts";
import { verifySignature } from "../challenge/challenge-signing.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { accountForWorkstation, isBuiltInAdministrator, technicianAccount } from "./elevation-accounts.ts";
import { ElevationBusyError, ElevationRefusedError } from "./elevation-errors.ts";
import { elevationSettingsOf, SESSION_MINUTES } from "./elevation-settings.service.ts";
import { elevationSigningBytes } from "./elevation-signing.ts";
import { publishWorkstationCommand } from "./workstation-command.service.ts";

type Db = Prisma.TransactionClient;

export const OPEN_STATUSES = ["APPROVED", "STARTED"] as const;

/** Tells the customer's feed and its MSP's feed, after commit, that a session changed. */
export async function publishSessionChange(ctx: Pick<Services, "db" | "pubsub" | "log">, session: { id: string; tenantId: string }) {
  const tenant = await ctx.db.tenant.findUnique({ where: { id: session.tenantId }, select: { parentId: true } });
  const payload = { id: session.id, tenantId: session.tenantId };
  publishHint(ctx.log, "technicianSession:changed", () => {
    ctx.pubsub.publish("technicianSession:changed", session.tenantId, payload);
    if (tenant?.parentId) ctx.pubsub.publish("technicianSession:changed", tenant.parentId, payload);
  });
}

/**
 * May `userId` elevate on workstations of customer `tenantId`? An active admin
 * of the customer's MSP, or an active technician delegated to it. Never a
 * customer's own users or admins, nor anyone of another MSP.
 */
export async function mayElevate(db: Db, userId: string, tenantId: string): Promise<boolean> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, status: true, role: true, tenantId: true, tenant: { select: { kind: true } } } });
  if (!user || user.status !== "ACTIVE" || user.tenant.kind !== "MSP") return false;
  const customer = await db.tenant.findFirst({
    where: {
      id: tenantId,
      kind: "CUSTOMER",
      parentId: user.tenantId,
      ...(user.role === "ADMIN" ? {} : { delegations: { some: { technicianId: user.id } } }),
    },
    select: { id: true },
  });
  return customer !== null && (user.role === "ADMIN" || user.role === "TECHNICIAN");
}

/**
 * Ends on read what time has ended: open sessions past their end, and requests
 * nobody approved while their code could be scanned.
 */
export async function settleSessions(ctx: Pick<Services, "db" | "clock" | "pubsub" | "log" | "config">, where: Prisma.TechnicianSessionWhereInput) {
  const now = new Date(ctx.clock.now());
  const unapprovedBefore = new Date(ctx.clock.now() - (ctx.config.challengeTtlSeconds + 5) * 1000);
  const stale = await ctx.db.technicianSession.findMany({
    where: {
      AND: [
        where,
        {
          OR: [
            { status: { in: [...OPEN_STATUSES] }, endsAt: { lte: now } },
            { status: "REQUESTED", createdAt: { lte: unapprovedBefore } },
          ],
        },
      ],
    },
    select: { id: true, tenantId: true, status: true, endsAt: true },
  });
  for (const session of stale) {
    const expired = session.status !== "REQUESTED";
    const ended = await ctx.db.technicianSession.updateMany({
      where: { id: session.id, status: session.status },
      data: { status: "ENDED", endReason: expired ? "EXPIRED" : "NOT_APPROVED", endedAt: expired ? session.endsAt : now },
    });
    if (ended.count === 1) await publishSessionChange(ctx, session);
  }
}

/** The open session holding this workstation's account, after settling expired ones. */
async function holderOf(ctx: Context, db: Db, workstationId: string, accountKey: string) {
  await settleSessions(ctx, { workstationId });
  return db.technicianSession.findFirst({ where: { workstationId, accountKey, status: { in: [...OPEN_STATUSES] } } });
}

function busy(holder: TechnicianSession): ElevationBusyError {
  return new ElevationBusyError(holder.technicianLabel ?? "Another technician", holder.endsAt, holder.id);
}

/** A version as three numbers, for comparison; null when it is not one. */
function versionParts(version: string | null | undefined) {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

export function olderThan(version: string | null | undefined, minimum: string) {
  const have = versionParts(version);
  const need = versionParts(minimum)!;
  if (!have) return true;
  for (let i = 0; i < 3; i += 1) if (have[i] !== need[i]) return have[i]! < need[i]!;
  return false;
}

/** Text an agent reports about the Windows session (a user name): printable, bounded. */
const reportedText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "Required")
    .max(max, `Use at most ${max} characters`)
    .refine((value) => !/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(value), "Control and direction characters are not allowed");

const elevationRequest = z.object({
  mode: z.enum(["SIGN_IN", "IN_SESSION"]),
  minutes: z.number().int().min(SESSION_MINUTES.min, `At least ${SESSION_MINUTES.min}`).max(SESSION_MINUTES.max, `At most ${SESSION_MINUTES.max}`).nullish(),
  sessionUser: reportedText(104).nullish(),
  sessionRemote: z.boolean().nullish(),
  agentVersion: reportedText(40).nullish(),
});

export type ElevationRequest = z.input<typeof elevationRequest>;

/**
 * The agent asks for elevation: the account, the mode and the minutes are
 * fixed here (a named account is the scanning technician's, fixed at the scan).
 */
export async function startElevation(ctx: Context, input: ElevationRequest | null | undefined) {
  const workstation = requireWorkstation(ctx);
  if (!input) throw ValidationError.field("elevation", "Say how to elevate: mode and minutes");
  const data = parseInput(elevationRequest, input);
  if (data.mode === "IN_SESSION" && (!data.sessionUser || data.sessionRemote == null)) {
    throw ValidationError.field("elevation.sessionUser", "In-session elevation names the Windows user signed in and whether the session is remote");
  }
  if (workstation.status !== "APPROVED") throw new ElevationRefusedError("WORKSTATION_PENDING");
  await ctx.limits.consume("challengeStartPerWorkstation", workstation.id);
  const settings = await elevationSettingsOf(ctx.db, workstation.tenantId);
  if (settings.minimumAgentVersion && olderThan(data.agentVersion, settings.minimumAgentVersion)) {
    throw new ElevationRefusedError("AGENT_OUTDATED", `Elevated access needs agent version ${settings.minimumAgentVersion} or later; this one is ${data.agentVersion ?? "unknown"}`);
  }
  const minutes = data.minutes ?? settings.maxSessionMinutes;
  if (minutes > settings.maxSessionMinutes) {
    throw new ElevationRefusedError("MINUTES_NOT_ALLOWED", `Sessions here last at most ${settings.maxSessionMinutes} minutes`);
  }
  const account = await accountForWorkstation(ctx.db, workstation.tenantId, workstation.id);
  if (!account) throw new ElevationRefusedError("ELEVATION_NOT_CONFIGURED");
  const named = settings.technicianAccountPrefix !== null;
  if (!named) {
    const holder = await holderOf(ctx, ctx.db, workstation.id, account.nameKey);
    if (holder) throw busy(holder);
  }
  const { started, event, session } = await ctx.db.$transaction(async (tx) => {
    const started = await createChallenge(tx, ctx.clock, ctx.config.challengeTtlSeconds, {
      tenantId: workstation.tenantId,
      kind: "ELEVATED_ACCESS",
      workstationId: workstation.id,
      requesterKind: "WORKSTATION",
      requesterName: workstation.name,
      requesterIp: ctx.request.ip,
      requesterUserAgent: ctx.request.userAgent,
    });
    const session = await tx.technicianSession.create({
      data: {
        tenantId: workstation.tenantId,
        challengeId: started.challenge.id,
        workstationId: workstation.id,
        workstationName: workstation.name,
        mode: data.mode,
        accountName: named ? null : account.name,
        accountKey: named ? null : account.nameKey,
        namedAccount: named,
        requestedMinutes: minutes,
        sessionUser: data.mode === "IN_SESSION" ? data.sessionUser! : null,
        sessionRemote: data.mode === "IN_SESSION" ? data.sessionRemote! : null,
        agentVersion: data.agentVersion ?? null,
        // By the clock challenges expire by, so an unapproved request is settled when its code expires.
        createdAt: new Date(ctx.clock.now()),
      },
    });
    const event = await recordAudit(tx, ctx, sessionAudit(session, "elevation.requested", { agentVersion: session.agentVersion }), workstationActor(workstation));
    return { started, event, session };
  });
  publishAudit(ctx, [event]);
  await publishSessionChange(ctx, session);
  return { ...started, elevation: session, technicianAccountPrefix: settings.technicianAccountPrefix };
}

function workstationActor(workstation: { id: string; name: string }) {
  return { id: workstation.id, label: `Workstation ${workstation.name}` };
}

function sessionAudit(session: TechnicianSession, action: AuditAction, extra: Record<string, Prisma.InputJsonValue | null> = {}): AuditEntry {
  return {
    tenantId: session.tenantId,
    action,
    targetType: "TechnicianSession",
    targetId: session.id,
    data: {
      workstationId: session.workstationId,
      workstationName: session.workstationName,
      technicianId: session.technicianId,
      technician: session.technicianLabel,
      account: session.accountName,
      mode: session.mode,
      requestedMinutes: session.requestedMinutes,
      ...extra,
    },
  };
}

/** The elevation a challenge asks for, as the scanning phone is shown it. */
export type ElevationScan = {
  workstationId: string;
  workstationName: string;
  mode: "SIGN_IN" | "IN_SESSION";
  account: string;
  minutes: number;
  sessionUser: string | null;
  sessionRemote: boolean | null;
};

/**
 * At the scan: the scanner must be a technician who reaches the customer;
 * with named accounts the account becomes theirs now, before they sign it.
 */
export async function scanElevation(ctx: Context, challenge: Challenge, device: DeviceViewer): Promise<ElevationScan> {
  const session = await ctx.db.technicianSession.findUnique({ where: { challengeId: challenge.id } });
  if (!session || !device.userId) throw new NotFoundError("Challenge");
  if (session.namedAccount && session.status === "REQUESTED" && session.technicianId !== device.userId) {
    const settings = await elevationSettingsOf(ctx.db, session.tenantId);
    if (!settings.technicianAccountPrefix) throw new ElevationRefusedError("ELEVATION_NOT_CONFIGURED", "Named technician accounts were switched off; start again");
    const account = await ctx.db.$transaction((tx) => technicianAccount(tx, session.tenantId, device.userId!, settings.technicianAccountPrefix!));
    const holder = await holderOf(ctx, ctx.db, session.workstationId, account.nameKey);
    if (holder) throw busy(holder);
    await ctx.db.technicianSession.updateMany({
      where: { id: session.id, status: "REQUESTED" },
      data: { accountName: account.name, accountKey: account.nameKey, technicianId: device.userId },
    });
  }
  const current = await ctx.db.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
  return {
    workstationId: current.workstationId,
    workstationName: current.workstationName,
    mode: current.mode,
    account: current.accountName ?? "",
    minutes: current.requestedMinutes,
    sessionUser: current.sessionUser,
    sessionRemote: current.sessionRemote,
  };
}

async function technicianLabel(db: Db, userId: string) {
  const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, firstName: true, lastName: true, email: true } });
  return user ? `${user.firstName} ${user.lastName} <${user.email}>` : null;
}

/**
 * The phone that scanned approves with a signature over the elevation itself
 * (latchkey-elevation-v1), or denies as for any challenge. Checked in order:
 * not found, already handled, permission, signature, then the account must be free.
 */
export async function approveElevation(ctx: Context, challenge: Challenge, device: DeviceViewer & { userId: string }, signature: string) {
  const session = await ctx.db.technicianSession.findUnique({ where: { challengeId: challenge.id } });
  if (!session || !session.accountName || !session.accountKey) throw new NotFoundError("Challenge");
  if (session.status !== "REQUESTED") throw new ConflictError(`This elevation is already ${session.status.toLowerCase()}`);
  if (!(await mayElevate(ctx.db, device.userId, challenge.tenantId))) throw new NotFoundError("Challenge");
  const bytes = elevationSigningBytes({
    tenantId: challenge.tenantId,
    workstationId: session.workstationId,
    challengeId: challenge.id,
    secretHash: challenge.secretHash,
    mode: session.mode,
    account: session.accountName,
    minutes: session.requestedMinutes,
    technicianId: device.userId,
    deviceId: device.authenticatorId,
  });
  if (!verifySignature(device, bytes, signature)) throw ValidationError.field("signature", "The signature does not match this phone's key and this elevation");
  const label = await technicianLabel(ctx.db, device.userId);
  const now = ctx.clock.now();
  const result = await ctx.db.$transaction(async (tx) => {
    // One approval at a time per workstation: the holder check and the approval cannot interleave with another's.
    await tx.$queryRaw`SELECT 1 FROM "Workstation" WHERE "id" = ${session.workstationId}::uuid FOR UPDATE`;
    const holder = await tx.technicianSession.findFirst({
      where: { workstationId: session.workstationId, accountKey: session.accountKey, status: { in: [...OPEN_STATUSES] }, endsAt: { gt: new Date(now) } },
    });
    if (holder) return { holder };
    const decided = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "SCANNED", scannedById: device.authenticatorId, expiresAt: { gt: new Date(now) } },
      data: { status: "APPROVED", decidedAt: new Date(now), approvedUserId: device.userId },
    });
    if (decided.count !== 1) return { conflict: true as const };
    await tx.technicianSession.update({
      where: { id: session.id },
      data: {
        status: "APPROVED",
        technicianId: device.userId,
        technicianLabel: label,
        authenticatorId: device.authenticatorId,
        signature,
        devicePublicKey: device.publicKey,
        deviceAlgorithm: device.algorithm,
        approvedAt: new Date(now),
        endsAt: new Date(now + session.requestedMinutes * 60_000),
      },
    });
    const approved = await tx.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
    const event = await recordAudit(tx, ctx, sessionAudit(approved, "elevation.approved", { authenticatorId: device.authenticatorId }), label ? { id: device.userId, label } : null);
    return { approved, event };
  });
  if ("holder" in result && result.holder) throw busy(result.holder);
  if ("conflict" in result) throw new ConflictError("This code is no longer waiting for a decision");
  publishAudit(ctx, [result.event!]);
  publishChallenge(ctx, challenge.id);
  await publishSessionChange(ctx, result.approved!);
  await ctx.db.authenticator.update({ where: { id: device.authenticatorId }, data: { lastUsedAt: new Date() } });
  return ctx.db.challenge.findUniqueOrThrow({ where: { id: challenge.id } });
}

/** A denied (or withdrawn) request ends without ever opening. */
export async function elevationNotApproved(ctx: Context, challengeId: string) {
  const session = await ctx.db.technicianSession.findUnique({ where: { challengeId } });
  if (!session || session.status !== "REQUESTED") return;
  const ended = await ctx.db.technicianSession.updateMany({
    where: { id: session.id, status: "REQUESTED" },
    data: { status: "ENDED", endReason: "NOT_APPROVED", endedAt: new Date(ctx.clock.now()) },
  });
  if (ended.count === 1) await publishSessionChange(ctx, session);
}

const redeemInput = z.object({ challengeId: z.string(), redeemSecret: z.string().min(1).max(200) });

export type ElevationInstructionShape = {
  sessionId: string;
  challengeId: string;
  tenantId: string;
  workstationId: string;
  mode: "SIGN_IN" | "IN_SESSION";
  accountName: string;
  accountKind: "SHARED" | "WORKSTATION" | "TECHNICIAN";
  builtInAdministrator: boolean;
  minutes: number;
  technicianId: string;
  technicianName: string;
  deviceId: string;
  deviceAlgorithm: "P256" | "ED25519";
  devicePublicKey: string;
  signature: string;
  secretHash: string;
  passwordLength: number;
  passwordCharacters: "ALPHANUMERIC" | "ALPHANUMERIC_SYMBOLS";
  restartGraceMinutes: number | null;
  endsAt: Date;
};

/**
 * The workstation that started an approved elevation exchanges it, once, for
 * the instruction: ensure local admin account A, technician session S of N
 * minutes for technician T, with the phone's signature and key to verify.
 */
export async function redeemElevation(ctx: Context, input: z.input<typeof redeemInput>): Promise<ElevationInstructionShape> {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(redeemInput, input);
  const challenge = isUuid(data.challengeId) ? await readChallenge(ctx, data.challengeId) : null;
  if (
    !challenge ||
    challenge.kind !== "ELEVATED_ACCESS" ||
    challenge.workstationId !== workstation.id ||
    !sameHash(challenge.redeemSecretHash, hashToken(data.redeemSecret))
  ) {
    throw new NotFoundError("Challenge");
  }
  if (challenge.status !== "APPROVED") {
    throw new ConflictError(challenge.status === "CONSUMED" ? "This approval was already used" : `This elevation is ${challenge.status.toLowerCase()}`);
  }
  const session = await ctx.db.technicianSession.findUnique({ where: { challengeId: challenge.id } });
  if (!session || session.status !== "APPROVED" || !session.technicianId) throw new ConflictError("This elevation was ended before it started");
  // Re-checked at redemption: access withdrawn since the approval counts.
  if (!(await mayElevate(ctx.db, session.technicianId, session.tenantId))) {
    await endSessions(ctx, { id: session.id }, "REVOKED", null, "access withdrawn before the session started");
    throw new ForbiddenError("This technician may no longer elevate here");
  }
  const settings = await elevationSettingsOf(ctx.db, session.tenantId);
  const account = await ctx.db.elevationAccount.findUnique({ where: { tenantId_nameKey: { tenantId: session.tenantId, nameKey: session.accountKey! } } });
  const now = ctx.clock.now();
  const endsAt = new Date(now + session.requestedMinutes * 60_000);
  const redeemed = await ctx.db.$transaction(async (tx) => {
    const consumed = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "APPROVED", workstationId: workstation.id, expiresAt: { gt: new Date(now) } },
      data: { status: "CONSUMED", consumedAt: new Date(now) },
    });
    if (consumed.count !== 1) return null;
    await tx.technicianSession.update({ where: { id: session.id }, data: { endsAt } });
    return recordAudit(tx, ctx, sessionAudit(session, "elevation.redeemed"), workstationActor(workstation));
  });
  if (!redeemed) throw new ConflictError("This approval was already used or has expired");
  publishAudit(ctx, [redeemed]);
  publishChallenge(ctx, challenge.id);
  return {
    sessionId: session.id,
    challengeId: challenge.id,
    tenantId: session.tenantId,
    workstationId: workstation.id,
    mode: session.mode,
    accountName: session.accountName!,
    accountKind: account?.kind ?? "SHARED",
    builtInAdministrator: settings.manageBuiltInAdministrator && isBuiltInAdministrator(session.accountName!),
    minutes: session.requestedMinutes,
    technicianId: session.technicianId,
    technicianName: session.technicianLabel ?? "",
    deviceId: session.authenticatorId!,
    deviceAlgorithm: session.deviceAlgorithm!,
    devicePublicKey: session.devicePublicKey!,
    signature: session.signature!,
    secretHash: challenge.secretHash,
    passwordLength: settings.passwordLength,
    passwordCharacters: settings.passwordCharacters,
    restartGraceMinutes: settings.restartGraceMinutes,
    endsAt,
  };
}

const END_REASONS = ["EXPIRED", "ENDED_BY_TECHNICIAN", "ENDED_BY_ADMIN", "REVOKED", "ENDED_ON_WORKSTATION"] as const;

const reportInput = z.object({
  sessionId: z.string(),
  event: z.enum(["STARTED", "ENDED"]),
  at: z.date(),
  reason: z
    .enum([...END_REASONS, "NOT_APPROVED"])
    .refine((reason) => reason !== "NOT_APPROVED", "A started session ends for another reason")
    .nullish(),
  note: z
    .string()
    .trim()
    .max(500, "Use at most 500 characters")
    .transform((value) => value.replace(/[\u0000-\u001f\u007f]/g, " "))
    .nullish(),
});

/**
 * The agent reports what it did: STARTED once the account is signed in, ENDED
 * once the session is terminated and its password rotated. `at` is the
 * workstation's time, kept as its own account of events.
 */
export async function reportTechnicianSession(ctx: Context, input: z.input<typeof reportInput>) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(reportInput, input);
  if (!isUuid(data.sessionId)) throw new NotFoundError("Technician session");
  const session = await ctx.db.technicianSession.findFirst({ where: { id: data.sessionId, workstationId: workstation.id } });
  if (!session) throw new NotFoundError("Technician session");
  const now = ctx.clock.now();
  if (data.event === "STARTED") {
    if (session.status === "ENDED") return session;
    if (session.status !== "APPROVED") throw new ConflictError(`This session is ${session.status.toLowerCase()}`);
    const started = await ctx.db.$transaction(async (tx) => {
      const changed = await tx.technicianSession.updateMany({
        where: { id: session.id, status: "APPROVED" },
        data: { status: "STARTED", startedAt: data.at, endsAt: new Date(now + session.requestedMinutes * 60_000) },
      });
      if (changed.count !== 1) return null;
      const row = await tx.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
      return { row, event: await recordAudit(tx, ctx, sessionAudit(row, "technicianSession.started"), workstationActor(workstation)) };
    });
    if (started) {
      publishAudit(ctx, [started.event]);
      await publishSessionChange(ctx, started.row);
    }
    return ctx.db.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
  }
  if (!data.reason) throw ValidationError.field("reason", "Say why the session ended");
  if (session.terminatedAt) return session;
  const ended = await ctx.db.$transaction(async (tx) => {
    const open = session.status !== "ENDED";
    await tx.technicianSession.update({
      where: { id: session.id },
      data: {
        terminatedAt: data.at,
        ...(open ? { status: "ENDED", endReason: data.reason!, endedAt: new Date(now), endNote: data.note ?? null } : {}),
      },
    });
    const row = await tx.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
    const event = await recordAudit(
      tx,
      ctx,
      sessionAudit(row, "technicianSession.terminated", { reason: row.endReason, reported: data.reason!, actualSeconds: actualSeconds(row) }),
      workstationActor(workstation),
    );
    return { row, event };
  });
  publishAudit(ctx, [ended.event]);
  await publishSessionChange(ctx, ended.row);
  return ended.row;
}

/** How long the session really lasted, by the workstation's clock where it reported, else the server's. */
export function actualSeconds(session: Pick<TechnicianSession, "startedAt" | "approvedAt" | "terminatedAt" | "endedAt">) {
  const start = session.startedAt ?? session.approvedAt;
  const end = session.terminatedAt ?? session.endedAt;
  return start && end ? Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)) : null;
}

const endInput = z.object({ id: z.string(), reason: z.string().trim().max(500, "Use at most 500 characters").nullish() });

/**
 * Ends a session now: the technician ending their own, or anyone who
 * administers its customer. The workstation is told by a durable command.
 */
export async function endTechnicianSession(ctx: Context, input: z.input<typeof endInput>) {
  const data = parseInput(endInput, input);
  const viewer = ctx.viewer;
  if (!viewer || !isUuid(data.id)) throw new NotFoundError("Technician session");
  const session = await ctx.db.technicianSession.findFirst({
    where: { AND: [{ id: data.id }, { OR: [{ tenantId: { in: await administeredTenantIds(ctx) } }, { technicianId: viewer.userId }] }] },
  });
  if (!session) throw new NotFoundError("Technician session");
  await settleSessions(ctx, { id: session.id });
  const current = await ctx.db.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
  if (current.status === "ENDED" || current.status === "REQUESTED") throw new ConflictError(`This session is ${current.status === "ENDED" ? "already ended" : "not open"}`);
  const reason: TechnicianSessionEndReason = current.technicianId === viewer.userId ? "ENDED_BY_TECHNICIAN" : "ENDED_BY_ADMIN";
  await endSessions(ctx, { id: current.id }, reason, { id: viewer.userId, label: viewer.label }, data.reason ?? null);
  return ctx.db.technicianSession.findUniqueOrThrow({ where: { id: current.id } });
}

async function administeredTenantIds(ctx: Pick<Context, "db" | "viewer">) {
  const tenants = await ctx.db.tenant.findMany({ where: { AND: [{ kind: "CUSTOMER" }, administeredTenants(ctx.viewer)] }, select: { id: true } });
  return tenants.map((tenant) => tenant.id);
}

/**
 * Ends every open session matching `where` on the server at once and leaves
 * each workstation a command to terminate it; the agent then reports ENDED.
 */
export async function endSessions(
  ctx: Pick<Context, "db" | "pubsub" | "log" | "request" | "viewer" | "clock">,
  where: Prisma.TechnicianSessionWhereInput,
  reason: TechnicianSessionEndReason,
  actor: { id: string; label: string } | null,
  note: string | null,
) {
  // One transaction for all of them: a revocation that ends many sessions reaches every workstation at once.
  const ended = await ctx.db.$transaction(async (tx) => {
    const rows = await tx.technicianSession.updateManyAndReturn({
      where: { AND: [where, { status: { in: [...OPEN_STATUSES] } }] },
      data: { status: "ENDED", endReason: reason, endedAt: new Date(ctx.clock.now()), endedById: actor?.id ?? null, endedByLabel: actor?.label ?? null, endNote: note },
    });
    if (rows.length === 0) return { rows, commands: [], events: [] };
    const commands = await tx.workstationCommand.createManyAndReturn({
      data: rows.map((row) => ({ tenantId: row.tenantId, workstationId: row.workstationId, kind: "END_TECHNICIAN_SESSION" as const, sessionId: row.id, reason })),
    });
    // The same events recordAudit writes, in one statement.
    const events = await tx.auditEvent.createManyAndReturn({
      data: rows.map((row) => {
        const entry = sessionAudit(row, "technicianSession.ended", { reason, note, by: actor?.label ?? null });
        return { tenantId: entry.tenantId, action: entry.action, targetType: entry.targetType ?? null, targetId: entry.targetId ?? null, data: entry.data ?? {}, actorId: actor?.id ?? null, actorLabel: actor?.label ?? null, ip: ctx.request.ip };
      }),
      select: { id: true, tenantId: true },
    });
    return { rows, commands, events };
  });
  for (const command of ended.commands) publishWorkstationCommand(ctx, command);
  publishAudit(ctx, ended.events);
  await Promise.all(ended.rows.map((row) => publishSessionChange(ctx, row)));
  return ended.rows.map((session) => ({ session, commandId: ended.commands.find((command) => command.sessionId === session.id)!.id }));
}

/**
 * What the technician may no longer reach ends now: called after a delegation
 * is revoked, a role lowered, a user disabled or deleted, or a phone revoked.
 */
export async function revokeTechnicianSessions(ctx: Context, change: { userId?: string; customerId?: string; authenticatorId?: string }, why: string) {
  const where: Prisma.TechnicianSessionWhereInput = change.authenticatorId
    ? { authenticatorId: change.authenticatorId }
    : { technicianId: change.userId!, ...(change.customerId ? { tenantId: change.customerId } : {}) };
  const open = await ctx.db.technicianSession.findMany({ where: { AND: [where, { status: { in: [...OPEN_STATUSES] } }] }, select: { id: true, technicianId: true, tenantId: true } });
  const lost: string[] = [];
  const reach = new Map<string, Promise<boolean>>();
  for (const session of open) {
    // A phone revoked ends its sessions whatever; otherwise only what the technician can no longer reach.
    const key = `${session.technicianId}:${session.tenantId}`;
    if (!reach.has(key) && session.technicianId) reach.set(key, mayElevate(ctx.db, session.technicianId, session.tenantId));
    if (change.authenticatorId || !session.technicianId || !(await reach.get(key))) lost.push(session.id);
  }
  if (lost.length === 0) return [];
  return endSessions(ctx, { id: { in: lost } }, "REVOKED", ctx.viewer ? { id: ctx.viewer.userId, label: ctx.viewer.label } : null, why);
}

/** Backstop for a revocation whose push was lost: every open session of this workstation is checked again. */
export async function recheckWorkstationSessions(ctx: Context, workstationId: string) {
  await settleSessions(ctx, { workstationId });
  const open = await ctx.db.technicianSession.findMany({ where: { workstationId, status: { in: [...OPEN_STATUSES] } }, select: { id: true, technicianId: true, tenantId: true, authenticatorId: true } });
  const lost: string[] = [];
  for (const session of open) {
    const phone = session.authenticatorId ? await ctx.db.authenticator.findUnique({ where: { id: session.authenticatorId }, select: { revokedAt: true } }) : null;
    if (!session.technicianId || !phone || phone.revokedAt || !(await mayElevate(ctx.db, session.technicianId, session.tenantId))) lost.push(session.id);
  }
  if (lost.length > 0) await endSessions(ctx, { id: { in: lost } }, "REVOKED", null, "access withdrawn");
}

