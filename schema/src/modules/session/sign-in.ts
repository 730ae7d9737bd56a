// The parts of a password sign-in shared by the portal's log in and a password
// change: which client is asking (a browser it knows by its device cookie, or
// an address), and what a failure leaves behind.
import type { Prisma } from "@latchkey/db";
import type { Context } from "../../context.ts";
import type { SignInClient } from "../../security/sign-in-admission.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";

/** The client as the admission sees it: a browser known to this user, or only an address. */
export function portalClient(ctx: Context, userId: string | null): SignInClient {
  const device = userId ? ctx.deviceCookies.trustedDevice(ctx.deviceCookie.value, userId) : null;
  return device ? { kind: "device", id: device } : { kind: "address", ip: ctx.request.ip };
}

/** After a sign-in that proved the user (password or phone): this browser is known to them from now on. */
export function rememberDevice(ctx: Context, userId: string) {
  ctx.deviceCookie.set(ctx.deviceCookies.issue(ctx.deviceCookie.value, userId));
}

type Lock = { since: Date; until: Date };

/** The audit trail of a wrong password: one event, and the lock if it was this one that locked the account. */
export async function recordPasswordFailure(ctx: Context, user: { id: string; tenantId: string } | null, action: string, locked: Lock | null) {
  if (!user) return;
  const events = await ctx.db.$transaction(async (tx) => {
    const failed = await recordAudit(tx, ctx, { tenantId: user.tenantId, action, targetType: "User", targetId: user.id }, null);
    return locked ? [failed, await lockAccount(tx, ctx, user, locked)] : [failed];
  });
  publishAudit(ctx, events);
}

/** The account is now locked for unknown clients: admins see since when and until when, and can lift it. */
export async function recordLock(ctx: Context, user: { id: string; tenantId: string }, locked: Lock) {
  const event = await ctx.db.$transaction((tx) => lockAccount(tx, ctx, user, locked));
  publishAudit(ctx, [event]);
}

async function lockAccount(tx: Prisma.TransactionClient, ctx: Context, user: { id: string; tenantId: string }, locked: Lock) {
  await tx.user.update({ where: { id: user.id }, data: { lockedAt: locked.since, lockedUntil: locked.until } });
  return recordAudit(
    tx,
    ctx,
    { tenantId: user.tenantId, action: "user.locked", targetType: "User", targetId: user.id, data: { until: locked.until.toISOString() } },
    null,
  );
}
