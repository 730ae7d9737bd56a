// Workstations join a customer tenant with an install token that ships inside
// mass rollouts, so a new workstation waits as PENDING until an admin approves
// it (unless its token auto-approves). Afterwards the agent proves itself on
// every request with a credential it signs with its own key: the server keeps
// no secret of the workstation, and a removed workstation has no row to verify
// against, so its credential stops working at once.
import { randomBytes } from "node:crypto";
import type { Prisma, Workstation } from "@latchkey/db";
import { z } from "zod";
import { administeredTenants } from "../../access.ts";
import type { Context, Services, WorkstationViewer } from "../../context.ts";
import { InstallTokenError, NotFoundError, UnauthenticatedError, ValidationError, type InstallTokenProblem } from "../../errors.ts";
import { publishHint } from "../../pubsub.ts";
import { enqueueWebhookEventAfterCommit } from "../webhook/webhook-events.ts";
import { hashToken } from "../../security/tokens.ts";
import {
  CREDENTIAL_CLOCK_TOLERANCE_SECONDS,
  parseKeyAgreementKey,
  parseSigningKey,
  verifyWorkstationCredential,
} from "../../security/workstation-credential.ts";
import { isUuid, parseInput, personName, withoutControlCharacters } from "../../validation.ts";
import { auditedChange, publishAudit, recordAudit } from "../audit/audit.service.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";

/** `lastSeenAt` is written at most this often, so a chatty agent costs one write a minute. */
const SEEN_EVERY_MS = 60_000;
const INSTALL_TOKEN_PREFIX = "lkit_";

/**
 * Resolves a workstation credential to its workstation, or null for anything
 * else, including a credential presented before (each one is single-use).
 */
export async function authenticateWorkstation(
  services: Pick<Services, "db" | "replayGuard" | "log">,
  token: string,
  ip: string,
): Promise<WorkstationViewer | null> {
  // The row the signature is checked against is the one this request then acts as.
  const loaded: { row: Workstation | null } = { row: null };
  const nowSeconds = Math.floor(Date.now() / 1000);
  const verified = await verifyWorkstationCredential(
    token,
    async (workstationId) => {
      loaded.row = await services.db.workstation.findUnique({ where: { id: workstationId } });
      return loaded.row;
    },
    nowSeconds,
  );
  const workstation = loaded.row;
  if (!verified || !workstation) return null;
  const rememberFor = verified.exp + CREDENTIAL_CLOCK_TOLERANCE_SECONDS - nowSeconds;
  if (!(await services.replayGuard.firstUse(`${verified.workstationId}:${verified.jti}`, rememberFor))) {
    services.log.warn("workstation credential replayed", { workstationId: verified.workstationId, ip });
    return null;
  }
  await noteSeen(services, workstation, ip);
  return asWorkstationViewer(workstation);
}

/**
 * The workstation behind a WebSocket whose credential was checked when it
 * connected: re-read on every operation, so a removed workstation stops at once.
 */
export async function reloadWorkstation(services: Pick<Services, "db">, id: string, ip: string): Promise<WorkstationViewer | null> {
  const workstation = await services.db.workstation.findUnique({ where: { id } });
  if (!workstation) return null;
  await noteSeen(services, workstation, ip);
  return asWorkstationViewer(workstation);
}

async function noteSeen(services: Pick<Services, "db">, workstation: Workstation, ip: string) {
  if (!workstation.lastSeenAt || Date.now() - workstation.lastSeenAt.getTime() > SEEN_EVERY_MS) {
    await services.db.workstation.updateMany({ where: { id: workstation.id }, data: { lastSeenAt: new Date(), lastSeenIp: ip } });
  }
}

function asWorkstationViewer(workstation: Workstation): WorkstationViewer {
  return {
    id: workstation.id,
    tenantId: workstation.tenantId,
    name: workstation.name,
    status: workstation.status,
    keyAgreementAlgorithm: workstation.keyAgreementAlgorithm,
    keyAgreementPublicKey: workstation.keyAgreementPublicKey,
    createdAt: workstation.createdAt,
  };
}

/** The calling agent's workstation, approved or not. */
export function requireWorkstation(ctx: Context): WorkstationViewer {
  if (!ctx.workstation) throw new UnauthenticatedError("This operation needs a workstation credential");
  return ctx.workstation;
}

export function workstationWhere(ctx: Context): Prisma.WorkstationWhereInput {
  return { tenant: administeredTenants(ctx.viewer) };
}

/** Loads a workstation the viewer administers; any other id is NOT_FOUND. */
export async function findAdministeredWorkstation(ctx: Context, id: string) {
  if (!isUuid(id)) throw new NotFoundError("Workstation");
  const workstation = await ctx.db.workstation.findFirst({ where: { AND: [{ id }, workstationWhere(ctx)] } });
  if (!workstation) throw new NotFoundError("Workstation");
  return workstation;
}

const installTokenInput = z.object({
  tenantId: z.string(),
  autoApprove: z.boolean().nullish(),
  maxUses: z.number().int().min(1, "At least 1").max(100_000, "At most 100000").nullish(),
  expiresInHours: z.number().int().min(1, "At least 1 hour").max(24 * 90, "At most 90 days").nullish(),
});

export async function createInstallToken(ctx: Context, input: z.input<typeof installTokenInput>) {
  const data = parseInput(installTokenInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  if (tenant.kind !== "CUSTOMER") throw ValidationError.field("tenantId", "Workstations enroll into customer tenants");
  const secret = INSTALL_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const token = await auditedChange(ctx, async (tx) => {
    const token = await tx.installToken.create({
      data: {
        tenantId: tenant.id,
        tokenHash: hashToken(secret),
        prefix: secret.slice(0, INSTALL_TOKEN_PREFIX.length + 6),
        autoApprove: data.autoApprove ?? false,
        maxUses: data.maxUses ?? 1,
        expiresAt: new Date(Date.now() + (data.expiresInHours ?? 24) * 3600_000),
        createdById: ctx.viewer?.userId ?? null,
      },
    });
    return {
      result: token,
      audit: {
        tenantId: tenant.id,
        action: "installToken.created",
        targetType: "InstallToken",
        targetId: token.id,
        data: { autoApprove: token.autoApprove, maxUses: token.maxUses, expiresAt: token.expiresAt.toISOString() },
      },
    };
  });
  return { installToken: secret, token };
}

export async function revokeInstallToken(ctx: Context, id: string) {
  if (!isUuid(id)) throw new NotFoundError("Install token");
  const token = await ctx.db.installToken.findFirst({ where: { id, tenant: administeredTenants(ctx.viewer) } });
  if (!token) throw new NotFoundError("Install token");
  if (token.revokedAt) return token;
  return auditedChange(ctx, async (tx) => ({
    result: await tx.installToken.update({ where: { id }, data: { revokedAt: new Date() } }),
    audit: { tenantId: token.tenantId, action: "installToken.revoked", targetType: "InstallToken", targetId: id },
  }));
}

export function installTokenStatus(token: { revokedAt: Date | null; expiresAt: Date; uses: number; maxUses: number }) {
  if (token.revokedAt) return "REVOKED" as const;
  if (token.expiresAt.getTime() <= Date.now()) return "EXPIRED" as const;
  if (token.uses >= token.maxUses) return "USED_UP" as const;
  return "ACTIVE" as const;
}

const PROBLEM_BY_STATUS: Record<Exclude<ReturnType<typeof installTokenStatus>, "ACTIVE">, InstallTokenProblem> = {
  REVOKED: "INSTALL_TOKEN_REVOKED",
  EXPIRED: "INSTALL_TOKEN_EXPIRED",
  USED_UP: "INSTALL_TOKEN_USED_UP",
};

/** Host and OS names as agents report them: printable, bounded. */
const reportedName = (max: number) =>
  withoutControlCharacters(z.string().trim().min(1, "Required").max(max, `Use at most ${max} characters`));

const enrollInput = z.object({
  installToken: z.string().trim().min(1, "Required").max(200),
  hostname: reportedName(255),
  os: reportedName(200),
  publicKey: z.string().trim().min(1, "Required").max(2000),
  keyAgreementKey: z.string().trim().max(2000).nullish(),
  // The organisation the installer was packaged for: a token of any other is refused.
  tenant: z.string().trim().toLowerCase().max(63).nullish(),
});

export async function enrollWorkstation(ctx: Context, input: z.input<typeof enrollInput>) {
  await ctx.limits.consume("enrollPerIp", ctx.request.ip);
  const data = parseInput(enrollInput, input);
  const signing = parseSigningKey(data.publicKey);
  if (!signing) throw ValidationError.field("publicKey", "Give an Ed25519 or P-256 public key (SPKI, base64)");
  const keyAgreement = data.keyAgreementKey ? parseKeyAgreementKey(data.keyAgreementKey) : null;
  if (data.keyAgreementKey && !keyAgreement) {
    throw ValidationError.field("keyAgreementKey", "Give an X25519 or P-256 public key (SPKI, base64)");
  }

  const token = await ctx.db.installToken.findUnique({ where: { tokenHash: hashToken(data.installToken) } });
  if (!token) throw new InstallTokenError("INSTALL_TOKEN_INVALID");
  const refuse = async (problem: InstallTokenProblem): Promise<never> => {
    // The tenant's admins see refused enrollments in their audit log.
    const event = await ctx.db.$transaction((tx) =>
      recordAudit(
        tx,
        ctx,
        {
          tenantId: token.tenantId,
          action: "workstation.enrollmentRefused",
          targetType: "InstallToken",
          targetId: token.id,
          data: { reason: problem, hostname: data.hostname },
        },
        { id: token.id, label: `Install token ${token.prefix}…` },
      ),
    );
    publishAudit(ctx, [event]);
    throw new InstallTokenError(problem);
  };
  const status = installTokenStatus(token);
  if (status !== "ACTIVE") return refuse(PROBLEM_BY_STATUS[status]);
  if (data.tenant) {
    const tenant = await ctx.db.tenant.findUnique({ where: { id: token.tenantId }, select: { slug: true } });
    if (tenant?.slug !== data.tenant) return refuse("INSTALL_TOKEN_WRONG_TENANT");
  }

  const enrolled = await ctx.db.$transaction(async (tx) => {
    // Conditional on the token still being usable: of two agents racing for its
    // last use, one wins.
    const used = await tx.installToken.updateMany({
      where: { id: token.id, revokedAt: null, expiresAt: { gt: new Date() }, uses: { lt: token.maxUses } },
      data: { uses: { increment: 1 } },
    });
    if (used.count !== 1) return null;
    const workstation = await tx.workstation.create({
      data: {
        tenantId: token.tenantId,
        name: data.hostname,
        hostname: data.hostname,
        os: data.os,
        status: token.autoApprove ? "APPROVED" : "PENDING",
        approvedAt: token.autoApprove ? new Date() : null,
        signingAlgorithm: signing,
        signingPublicKey: data.publicKey,
        keyAgreementAlgorithm: keyAgreement,
        keyAgreementPublicKey: keyAgreement ? data.keyAgreementKey! : null,
        installTokenId: token.id,
        lastSeenAt: new Date(),
        lastSeenIp: ctx.request.ip,
      },
    });
    const event = await recordAudit(
      tx,
      ctx,
      {
        tenantId: token.tenantId,
        action: "workstation.enrolled",
        targetType: "Workstation",
        targetId: workstation.id,
        data: { hostname: workstation.hostname, os: workstation.os, status: workstation.status },
      },
      { id: token.id, label: `Install token ${token.prefix}…` },
    );
    return { workstation, event };
  });
  if (!enrolled) return refuse("INSTALL_TOKEN_USED_UP");
  publishAudit(ctx, [enrolled.event]);
  publishWorkstationChange(ctx, enrolled.workstation, "ENROLLED");
  // The rest of this request (e.g. the payload's fields) is answered as the new workstation.
  ctx.workstation = asWorkstationViewer(enrolled.workstation);
  return enrolled.workstation;
}

export async function approveWorkstation(ctx: Context, id: string) {
  const workstation = await findAdministeredWorkstation(ctx, id);
  if (workstation.status === "APPROVED") return workstation;
  const approved = await auditedChange(ctx, async (tx) => ({
    result: await tx.workstation.update({
      where: { id: workstation.id },
      data: { status: "APPROVED", approvedAt: new Date(), approvedById: ctx.viewer?.userId ?? null },
    }),
    audit: { tenantId: workstation.tenantId, action: "workstation.approved", targetType: "Workstation", targetId: workstation.id },
  }));
  publishWorkstationChange(ctx, approved, "APPROVED");
  return approved;
}

const renameInput = z.object({ id: z.string(), name: personName });

export async function renameWorkstation(ctx: Context, input: z.input<typeof renameInput>) {
  const data = parseInput(renameInput, input);
  const workstation = await findAdministeredWorkstation(ctx, data.id);
  const renamed = await auditedChange(ctx, async (tx) => ({
    result: await tx.workstation.update({ where: { id: workstation.id }, data: { name: data.name } }),
    audit: {
      tenantId: workstation.tenantId,
      action: "workstation.renamed",
      targetType: "Workstation",
      targetId: workstation.id,
      data: { from: workstation.name, to: data.name },
    },
  }));
  publishWorkstationChange(ctx, renamed, "RENAMED");
  return renamed;
}

export async function removeWorkstation(ctx: Context, id: string) {
  const workstation = await findAdministeredWorkstation(ctx, id);
  await auditedChange(ctx, async (tx) => {
    await tx.workstation.delete({ where: { id: workstation.id } });
    return {
      result: null,
      audit: {
        tenantId: workstation.tenantId,
        action: "workstation.removed",
        targetType: "Workstation",
        targetId: workstation.id,
        data: { name: workstation.name, hostname: workstation.hostname },
      },
    };
  });
  ctx.revocationJournal.record("workstation", [workstation.id]);
  // Its open subscriptions (a QR login screen waiting) end on every instance.
  ctx.pubsub.publish("workstation:removed", workstation.id, { reason: "workstation removed" });
  publishWorkstationChange(ctx, workstation, "REMOVED");
  return workstation.id;
}

export type WorkstationChangeKind = "ENROLLED" | "APPROVED" | "RENAMED" | "REMOVED";

/** Tells the tenant's admin screens, after commit, that its workstations changed. */
function publishWorkstationChange(ctx: Pick<Context, "pubsub" | "log" | "db" | "jobs" | "clock">, workstation: { id: string; tenantId: string; name?: string }, change: WorkstationChangeKind) {
  publishHint(ctx.log, "workstation:changed", () =>
    ctx.pubsub.publish("workstation:changed", workstation.tenantId, { id: workstation.id, change }),
  );
  enqueueWebhookEventAfterCommit(ctx, {
    tenantId: workstation.tenantId,
    type: "WORKSTATION_CHANGED",
    data: { workstationId: workstation.id, name: workstation.name ?? null, change },
  });
}
