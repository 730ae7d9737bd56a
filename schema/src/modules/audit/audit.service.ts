import type { Prisma } from "@latchkey/db";
import type { Context } from "../../context.ts";

export type AuditEntry = {
  tenantId: string;
  action: string;
  targetType?: string;
  targetId?: string;
  data?: Prisma.InputJsonObject;
};

type Actor = Pick<Context, "viewer" | "request">;

/**
 * Writes one audit event inside the caller's transaction, so the event exists
 * exactly when the change does. Returns the id to publish after commit.
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
    select: { id: true, tenantId: true },
  });
  return event;
}

/** Tells live feeds about events once their transaction has committed. */
export function publishAudit(ctx: Pick<Context, "pubsub">, events: { id: string; tenantId: string }[]) {
  for (const event of events) ctx.pubsub.publish("auditEvent:added", event.tenantId, { id: event.id });
}

/**
 * The shape of every audited change: `write` runs in one transaction together
 * with the audit event it describes, and live feeds hear of the event only
 * after the commit.
 */
export async function auditedChange<T>(
  ctx: Pick<Context, "db" | "viewer" | "request" | "pubsub">,
  write: (tx: Prisma.TransactionClient) => Promise<{ result: T; audit: AuditEntry }>,
): Promise<T> {
  const { result, event } = await ctx.db.$transaction(async (tx) => {
    const { result, audit } = await write(tx);
    return { result, event: await recordAudit(tx, ctx, audit) };
  });
  publishAudit(ctx, [event]);
  return result;
}
