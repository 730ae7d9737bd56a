// The parts of a password sign-in shared by the portal's log in and a password
// change: which client is asking (a browser it knows by its device cookie, or
// an address), and what a failure leaves behind.
import type { Context, Services } from "../../context.ts";
import type { SignInClient } from "../../security/sign-in-admission.ts";
import type { AuditAction } from "../audit/audit-actions.ts";
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

/** A wrong password's trace, recorded by a worker so that known and unknown accounts answer through one path. */
export type PasswordFailureJob = {
  /** The directory user, or null for a login that matched nobody. */
  userId: string | null;
  tenantId: string | null;
  /** The audit action (`session.logInFailed`, `user.passwordChangeFailed`), or null where a login event is the record. */
  action: AuditAction | null;
  /** When this failure locked the account for unknown clients (ISO times). */
  locked: { since: string; until: string } | null;
  /** A keyed hash of the account, for the log line of an unknown one. */
  accountPseudonym: string;
  ip: string;
};

/**
 * After a wrong password: one job, the same for an account that exists and one
 * that does not, so the answer neither waits on nor differs by what the job
 * will find. Enqueued on its own, never inside another transaction.
 */
export async function recordPasswordFailure(
  ctx: Context,
  failure: { user: { id: string; tenantId: string } | null; tenantId?: string | null; account: string; action: AuditAction | null; locked: Lock | null },
) {
  await ctx.jobs.enqueue("signIn.failed", {
    userId: failure.user?.id ?? null,
    tenantId: failure.user?.tenantId ?? failure.tenantId ?? null,
    action: failure.action,
    locked: failure.locked ? { since: failure.locked.since.toISOString(), until: failure.locked.until.toISOString() } : null,
    accountPseudonym: ctx.config.pseudonymize(failure.account),
    ip: ctx.request.ip,
  });
}

/** The worker's side: the audit event, and the lock for admins to see and lift. */
export async function tracePasswordFailure(services: Services, job: PasswordFailureJob) {
  if (!job.userId || !job.tenantId) {
    // What was typed is never logged: it may be a password typed in the wrong box.
    services.log.warn("wrong password for an unknown account", { account: job.accountPseudonym, ip: job.ip });
    return;
  }
  const user = { id: job.userId, tenantId: job.tenantId };
  const anonymous = { viewer: null, request: { ip: job.ip, userAgent: null }, jobs: services.jobs, clock: services.clock };
  const events = await services.db.$transaction(async (tx) => {
    const failed = job.action
      ? [await recordAudit(tx, anonymous, { tenantId: user.tenantId, action: job.action, targetType: "User", targetId: user.id }, null)]
      : [];
    if (!job.locked) return failed;
    await tx.user.updateMany({ where: { id: user.id }, data: { lockedAt: new Date(job.locked.since), lockedUntil: new Date(job.locked.until) } });
    const locked = await recordAudit(
      tx,
      anonymous,
      { tenantId: user.tenantId, action: "user.locked", targetType: "User", targetId: user.id, data: { until: job.locked.until } },
      null,
    );
    return [...failed, locked];
  });
  publishAudit(services, events);
}
