import type { AuditEvent, Prisma, PrismaClient } from "@latchkey/db";
import { reachableCustomers } from "../../access.ts";
import type { Context, Services } from "../../context.ts";
import { rowGoneMeanwhile } from "../../database-errors.ts";
import { NotFoundError } from "../../errors.ts";
import { hasNul, isUuid } from "../../validation.ts";
import type { AuditAction } from "./audit-actions.ts";
import { enqueueWebhookEvent } from "../webhook/webhook-events.ts";

export type AuditEntry = {
  tenantId: string;
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  data?: Prisma.InputJsonObject;
};

type Actor = Pick<Context, "viewer" | "request" | "jobs" | "clock">;

/**
 * Writes one audit event inside the caller's transaction, so the event exists
 * exactly when the change does, with its webhook deliveries. Returns the id to
 * publish after commit.
 */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  ctx: Actor,
  entry: AuditEntry,
  /** Defaults to the viewer; null records an anonymous attempt. */
  actor?: { id: string; label: string } | null,
) {
  const who = actor === undefined ? (ctx.viewer ? { id: ctx.viewer.userId, label: ctx.viewer.label } : null) : actor;
  const event = await tx.auditEvent.create({
    data: {
      tenantId: entry.tenantId,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      data: entry.data ?? {},
      actorId: who?.id ?? null,
      actorLabel: who?.label ?? null,
      ip: ctx.request.ip,
    },
  });
  await enqueueWebhookEvent(tx, ctx, {
    tenantId: event.tenantId,
    type: "AUDIT_EVENT",
    data: {
      id: event.id,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      actorId: event.actorId,
      actorLabel: event.actorLabel,
      ip: event.ip,
      data: event.data as Prisma.InputJsonValue,
      createdAt: event.createdAt.toISOString(),
    },
  });
  return { id: event.id, tenantId: event.tenantId };
}

/** Tells live feeds about events once their transaction has committed. */
export function publishAudit(ctx: Pick<Context, "pubsub">, events: { id: string; tenantId: string }[]) {
  for (const event of events) ctx.pubsub.publish("auditEvent:added", event.tenantId, { id: event.id });
}

/**
 * The shape of every audited change: `write` runs in one transaction together
 * with the audit event it describes, and live feeds hear of the event only
 * after the commit. A row the caller found but a concurrent request deleted
 * before the write is NOT_FOUND, as it would have been a moment later.
 */
export async function auditedChange<T>(
  ctx: Pick<Context, "db" | "viewer" | "request" | "pubsub" | "jobs" | "clock">,
  write: (tx: Prisma.TransactionClient) => Promise<{ result: T; audit: AuditEntry }>,
): Promise<T> {
  const { result, event } = await ctx.db.$transaction(async (tx) => {
    const { result, audit } = await write(tx).catch((error: unknown) => {
      const gone = rowGoneMeanwhile(error);
      throw gone ? new NotFoundError(gone) : error;
    });
    return { result, event: await recordAudit(tx, ctx, audit) };
  });
  publishAudit(ctx, [event]);
  return result;
}

/** What an audit log reader may narrow it to. */
export type AuditFilter = {
  actorId?: string | null;
  /** An action as the enum AuditEventKind gave it. */
  kind?: AuditAction | null;
  /** An action as typed: any text, matched exactly. */
  action?: string | null;
  targetId?: string | null;
  since?: Date | null;
  until?: Date | null;
};

/**
 * The tenants whose audit log this reading covers: `tenantId` itself, and with
 * `includeCustomers` every customer of it the viewer reaches (an MSP-wide log).
 * NOT_FOUND for a tenant the viewer does not administer; an MSP technician
 * administers no MSP, so their MSP-wide log holds their customers only.
 */
export async function auditTenants(ctx: Pick<Context, "db" | "access" | "viewer">, tenantId: string, includeCustomers: boolean): Promise<string[]> {
  const own = isUuid(tenantId) && (await ctx.access.canAdministerTenant(tenantId));
  if (!includeCustomers) {
    if (!own) throw new NotFoundError("Tenant");
    return [tenantId];
  }
  if (!isUuid(tenantId)) throw new NotFoundError("Tenant");
  const customers = await ctx.db.tenant.findMany({
    where: { AND: [{ parentId: tenantId }, reachableCustomers(ctx.viewer)] },
    select: { id: true },
  });
  if (!own && customers.length === 0) {
    // A technician reaching none of this MSP's customers, or anyone else: like a missing id.
    const isTheirMsp = ctx.viewer?.tenantKind === "MSP" && ctx.viewer.tenantId === tenantId;
    if (!isTheirMsp) throw new NotFoundError("Tenant");
  }
  return [...(own ? [tenantId] : []), ...customers.map((customer) => customer.id)];
}

export function auditWhere(tenantIds: string[], filter: AuditFilter = {}): Prisma.AuditEventWhereInput {
  // PostgreSQL refuses to compare text holding U+0000, and no action or id holds one: such a filter matches nothing.
  if ([filter.action, filter.targetId].some((text) => text && hasNul(text))) return { tenantId: { in: [] } };
  // Both given: an event matches only if they name the same action.
  const actions = [filter.kind, filter.action].filter((action): action is string => Boolean(action));
  return {
    tenantId: tenantIds.length === 1 ? tenantIds[0]! : { in: tenantIds },
    ...(filter.actorId ? { actorId: isUuid(filter.actorId) ? filter.actorId : "00000000-0000-0000-0000-000000000000" } : {}),
    ...(actions.length > 0 ? { AND: actions.map((action) => ({ action })) } : {}),
    ...(filter.targetId ? { targetId: filter.targetId } : {}),
    ...(filter.since || filter.until
      ? { createdAt: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } }
      : {}),
  };
}

/** The most an export reads at once. */
export const AUDIT_EXPORT_PAGE = 1000;

/**
 * Every event matching `where`, newest first, read in keyset pages of at most
 * `pageSize` rows: each page starts after the last row of the one before, so
 * an export of any length holds one page in memory and never re-reads a row.
 */
export async function* auditEventPages(db: PrismaClient, where: Prisma.AuditEventWhereInput, pageSize = AUDIT_EXPORT_PAGE) {
  let after: { createdAt: Date; id: string } | null = null;
  while (true) {
    const page: AuditEvent[] = await db.auditEvent.findMany({
      where: after
        ? { AND: [where, { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }] }
        : where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: Math.min(pageSize, AUDIT_EXPORT_PAGE),
    });
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    const last = page.at(-1)!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/**
 * Removes a tenant's events older than `before` through the database's purge
 * function, the only delete its append-only trigger admits; the function
 * records how many it removed, up to when and why, as a new event.
 */
export async function purgeAuditEvents(
  db: Prisma.TransactionClient | PrismaClient,
  tenantId: string,
  /** Null: every event of the tenant (a deleted customer). */
  before: Date | null,
  reason: string,
  /** Where the checkpoint event goes when not in the purged tenant's own log (its MSP's, for a deletion). */
  checkpointTenantId: string | null = null,
): Promise<number> {
  const [row] = await db.$queryRaw<{ purged: number }[]>`
    SELECT "audit_event_purge"(${tenantId}::uuid, ${before}::timestamptz, ${reason}, ${checkpointTenantId}::uuid) AS purged`;
  return Number(row?.purged ?? 0);
}

/** Each tenant keeps its events for its retention period: a job, run hourly by one instance. */
export async function applyAuditRetention(services: Pick<Services, "db" | "log">) {
  const tenants = await services.db.tenant.findMany({ select: { id: true, auditRetentionDays: true } });
  let purged = 0;
  for (const tenant of tenants) {
    const before = new Date(Date.now() - tenant.auditRetentionDays * 24 * 3600_000);
    purged += await purgeAuditEvents(services.db, tenant.id, before, "retention");
  }
  if (purged > 0) services.log.info("audit events past their retention purged", { purged, tenants: tenants.length });
}
