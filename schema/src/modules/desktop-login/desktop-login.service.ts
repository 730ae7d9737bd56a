// The login screen's side of desktop login. A workstation signs a user in with
// their directory password, or by a DESKTOP_LOGIN challenge approved on the
// user's phone; either way it receives an account instruction ("ensure local
// account U with this password") whose password is sealed to the workstation's
// key-agreement key, with the workstation, the attempt and the expiry bound in.
// Every attempt, refused or not, becomes a login event on the tenant's feed.
import type { Challenge, LoginMethod, Tenant, User } from "@latchkey/db";
import { z } from "zod";
import type { Context, WorkstationViewer } from "../../context.ts";
import {
  AccountDisabledError,
  AccountLockedError,
  ConflictError,
  DesktopLoginRefusedError,
  InvalidCredentialsError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  type DesktopRefusal,
} from "../../errors.ts";
import type { SealedSecret } from "@latchkey/passwords";
import { sealPassword } from "../../security/account-sealing.ts";
import { finishLogin, startLogin } from "../password/password.service.ts";
import { hashToken } from "../../security/tokens.ts";
import { isUuid, parseInput } from "../../validation.ts";
import { createChallenge, publishChallenge, readChallenge, sameHash } from "../challenge/challenge.service.ts";
import { emailKey, usernameKey } from "../user/user-names.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { publishLoginEvent, recordFailedLogin, recordLoginEvent } from "../login-event/login-event.service.ts";
import type { LoginFailureReason } from "../login-event/login-failure-reasons.ts";
import { recordPasswordFailure } from "../session/sign-in.ts";
import { unknownAccount } from "../../security/sign-in-admission.ts";
import { tenantKeyCustody } from "../tenant-key/master-key.service.ts";
import { MasterKeyOnError } from "../../security/tenant-keys.ts";

/** How long an account instruction may be acted on. */
const INSTRUCTION_TTL_MS = 2 * 60_000;

/** A known user by their directory username; an unknown login only by a keyed hash of it (it may be a mistyped password). */
type Attempt = { tenantId: string; username: string | null; loginPseudonym?: string | null; userId: string | null; method: LoginMethod };

function refuse(ctx: Context, workstation: WorkstationViewer, attempt: Attempt, reason: DesktopRefusal): Promise<never> {
  return failed(ctx, workstation, attempt, reason, new DesktopLoginRefusedError(reason));
}

/** Records the failed attempt on the tenant's feed, then throws `error`. */
async function failed(ctx: Context, workstation: WorkstationViewer, attempt: Attempt, reason: LoginFailureReason, error: Error): Promise<never> {
  await recordFailedLogin(ctx, { ...attempt, workstation: { id: workstation.id, name: workstation.name }, reason });
  throw error;
}

/** The tenant's settings must allow this kind of login on this workstation. */
async function checkAllowed(ctx: Context, workstation: WorkstationViewer, attempt: Attempt): Promise<Tenant> {
  const tenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: workstation.tenantId } });
  if (tenant.status === "SUSPENDED") return refuse(ctx, workstation, attempt, "TENANT_SUSPENDED");
  if (workstation.status !== "APPROVED") return refuse(ctx, workstation, attempt, "WORKSTATION_PENDING");
  if (!tenant.desktopLoginEnabled) return refuse(ctx, workstation, attempt, "DESKTOP_LOGIN_DISABLED");
  if (attempt.method === "PASSWORD" && tenant.desktopLoginMethod === "PASSWORDLESS" && !tenant.desktopPasswordFallback) {
    return refuse(ctx, workstation, attempt, "PASSWORD_LOGIN_NOT_ALLOWED");
  }
  if (attempt.method === "QR" && tenant.desktopLoginMethod !== "PASSWORDLESS") {
    return refuse(ctx, workstation, attempt, "PASSWORDLESS_LOGIN_NOT_ALLOWED");
  }
  if (!workstation.keyAgreementPublicKey) return refuse(ctx, workstation, attempt, "NO_KEY_AGREEMENT_KEY");
  return tenant;
}

/**
 * Where the local account's password comes from: sealed in the instruction
 * (QR login), what the user just typed (password login: the agent has it), or
 * the agent's own for a user without a directory password.
 */
export type AccountPassword =
  | { source: "SEALED"; password: string }
  | { source: "TYPED" }
  | { source: "AGENT"; unsynced?: boolean }
  /** Re-sealed to the workstation by the approving phone; the server only carries it. */
  | { source: "PHONE"; sealed: SealedSecret; delivery: { challengeId: string; passwordVersion: number; expiresAt: Date } };

/** The instruction for attempt `attemptId` on this workstation, its password (if any) sealed to the workstation. */
async function accountInstruction(workstation: WorkstationViewer, attemptId: string, user: User, password: AccountPassword) {
  const expiresAt = new Date(Date.now() + INSTRUCTION_TTL_MS);
  const sealed =
    password.source === "PHONE"
      ? password.sealed
      : password.source === "SEALED"
      ? await sealPassword({
          keyAgreementAlgorithm: workstation.keyAgreementAlgorithm!,
          keyAgreementPublicKey: workstation.keyAgreementPublicKey!,
          workstationId: workstation.id,
          attemptId,
          expiresAt,
          password: password.password,
        })
      : null;
  return {
    action: "ENSURE_LOCAL_ACCOUNT" as const,
    attemptId,
    workstationId: workstation.id,
    username: user.username,
    fullName: `${user.firstName} ${user.lastName}`,
    expiresAt,
    passwordSource: password.source,
    password: sealed,
    delivery: password.source === "PHONE" ? password.delivery : null,
  };
}

export type AccountInstruction = Awaited<ReturnType<typeof accountInstruction>>;

/** Records the successful attempt and returns its sealed instruction. */
async function succeeded(ctx: Context, workstation: WorkstationViewer, user: User, method: LoginMethod, password: AccountPassword) {
  const event = await recordLoginEvent(ctx.db, ctx, {
    tenantId: user.tenantId,
    userId: user.id,
    username: user.username,
    workstation: { id: workstation.id, name: workstation.name },
    method,
    outcome: "SUCCEEDED",
    passwordSynced: password.source === "AGENT" && password.unsynced ? false : null,
  });
  publishLoginEvent(ctx, event);
  return { instruction: await accountInstruction(workstation, event.id, user, password) };
}

const startPasswordInput = z.object({
  // What Windows accepts as a user name, or the user's email (UPN); nothing
  // invisible or that reorders text, so what is typed cannot disguise itself.
  username: z
    .string()
    .trim()
    .min(1, "Required")
    .max(254, "Too long")
    .refine((value) => !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value), "Control, invisible and direction characters are not allowed"),
  request: z.string().max(1024),
});

/** The attempt as the feed records it: a known user by name, an unknown login by a keyed hash only. */
function passwordAttempt(ctx: Context, workstation: WorkstationViewer, user: { id: string; username: string } | null, account: string): Attempt {
  return user
    ? { tenantId: workstation.tenantId, username: user.username, userId: user.id, method: "PASSWORD" }
    : { tenantId: workstation.tenantId, username: null, loginPseudonym: ctx.config.pseudonymize(account), userId: null, method: "PASSWORD" };
}

/**
 * A workstation's password login with OPAQUE, first step: the agent runs the
 * client side with the typed password, which never reaches the server. Counts
 * as this workstation's failed attempt for the account until the finish
 * proves the password. Unknown logins take the same path.
 */
export async function startDesktopPasswordLogin(ctx: Context, input: z.input<typeof startPasswordInput>) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(startPasswordInput, input);
  await ctx.limits.consume("desktopAttemptPerWorkstation", workstation.id);
  const loginKey = data.username.includes("@") ? emailKey(data.username) : usernameKey(data.username);
  const user = await ctx.db.user.findFirst({
    where: { tenantId: workstation.tenantId, OR: [{ usernameKey: loginKey }, { emailKey: loginKey }] },
    select: { id: true, username: true, opaqueRecord: true, passwordKsf: true },
  });
  const credentialIdentifier = user ? user.id : unknownAccount(workstation.tenantId, loginKey);
  const attempt = passwordAttempt(ctx, workstation, user, credentialIdentifier);
  await checkAllowed(ctx, workstation, attempt);
  try {
    return await startLogin(ctx, {
      purpose: "DESKTOP",
      tenant: workstation.tenantId,
      tenantId: workstation.tenantId,
      credentialIdentifier,
      user,
      request: data.request,
      admission: ctx.desktopAdmission,
      client: { kind: "workstation", id: workstation.id },
      onLocked: (locked) =>
        recordPasswordFailure(ctx, { user: user ? { id: user.id, tenantId: workstation.tenantId } : null, tenantId: workstation.tenantId, account: credentialIdentifier, action: null, locked }),
    });
  } catch (error) {
    if (error instanceof AccountLockedError || error instanceof RateLimitedError) {
      return failed(ctx, workstation, attempt, error instanceof AccountLockedError ? "ACCOUNT_LOCKED" : "RATE_LIMITED", error);
    }
    throw error;
  }
}

const finishPasswordInput = z.object({ loginId: z.string(), finish: z.string().max(1024) });

/**
 * The second step: proved, the workstation gets the account instruction (the
 * agent sets the local password to what was typed); otherwise the attempt is
 * recorded as failed, the same for a wrong password and an unknown login.
 */
export async function finishDesktopPasswordLogin(ctx: Context, input: z.input<typeof finishPasswordInput>) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(finishPasswordInput, input);
  const { proved, state } = await finishLogin(ctx, {
    loginId: data.loginId,
    finish: data.finish,
    purposes: ["DESKTOP"],
    admission: ctx.desktopAdmission,
  });
  // Another workstation's login, even with its id, looks like no login at all.
  if (state.client.kind !== "workstation" || state.client.id !== workstation.id) {
    throw new UnauthenticatedError("This log in has expired or was already finished; start again");
  }
  const user = state.userId ? await ctx.db.user.findUnique({ where: { id: state.userId } }) : null;
  const attempt = passwordAttempt(ctx, workstation, user, state.account);
  if (!proved || !user) {
    const reason = !user ? "UNKNOWN_USER" : !user.opaqueRecord ? "NO_PASSWORD" : "WRONG_PASSWORD";
    return failed(ctx, workstation, attempt, reason, new InvalidCredentialsError());
  }
  await checkAllowed(ctx, workstation, attempt);
  if (user.status !== "ACTIVE") return failed(ctx, workstation, attempt, "ACCOUNT_DISABLED", new AccountDisabledError());
  return succeeded(ctx, workstation, user, "PASSWORD", { source: "TYPED" });
}

/** The QR login screen: a DESKTOP_LOGIN challenge that only this workstation may redeem. */
export async function startDesktopLogin(ctx: Context) {
  const workstation = requireWorkstation(ctx);
  await checkAllowed(ctx, workstation, { tenantId: workstation.tenantId, username: null, userId: null, method: "QR" });
  await ctx.limits.consume("challengeStartPerWorkstation", workstation.id);
  return createChallenge(ctx.db, ctx.clock, ctx.config.challengeTtlSeconds, {
    tenantId: workstation.tenantId,
    kind: "DESKTOP_LOGIN",
    workstationId: workstation.id,
    requesterKind: "WORKSTATION",
    requesterName: workstation.name,
    requesterIp: ctx.request.ip,
    requesterUserAgent: ctx.request.userAgent,
  });
}

const redeemInput = z.object({ challengeId: z.string(), redeemSecret: z.string().min(1).max(200) });

/**
 * Turns an approved DESKTOP_LOGIN into the approving user's account
 * instruction, once, and only for the workstation that started it.
 */
export async function redeemDesktopLogin(ctx: Context, input: z.input<typeof redeemInput>) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(redeemInput, input);
  const challenge = isUuid(data.challengeId) ? await readChallenge(ctx, data.challengeId) : null;
  if (
    !challenge ||
    challenge.kind !== "DESKTOP_LOGIN" ||
    // Another workstation's login, even with its secret, looks like no login at all.
    challenge.workstationId !== workstation.id ||
    !sameHash(challenge.redeemSecretHash, hashToken(data.redeemSecret))
  ) {
    throw new NotFoundError("Challenge");
  }
  if (challenge.status !== "APPROVED") {
    throw new ConflictError(challenge.status === "CONSUMED" ? "This approval was already used" : `This login is ${challenge.status.toLowerCase()}`);
  }
  const consumed = await ctx.db.challenge.updateMany({
    where: { id: challenge.id, status: "APPROVED", workstationId: workstation.id, expiresAt: { gt: new Date(ctx.clock.now()) } },
    data: { status: "CONSUMED", consumedAt: new Date() },
  });
  if (consumed.count !== 1) throw new ConflictError("This approval was already used or has expired");
  publishChallenge(ctx, challenge.id);

  const user = challenge.approvedUserId ? await ctx.db.user.findUnique({ where: { id: challenge.approvedUserId } }) : null;
  // Deleted since approving: nobody to sign in.
  if (!user) throw new NotFoundError("User");
  const attempt: Attempt = { tenantId: workstation.tenantId, username: user.username, userId: user.id, method: "QR" };
  // Re-checked at redemption: settings, approval and the user may have changed since the scan.
  await checkAllowed(ctx, workstation, attempt);
  if (user.tenantId !== workstation.tenantId) throw new NotFoundError("Challenge");
  // A lock against password guessing never stops the phone: it is a second factor.
  if (user.status !== "ACTIVE") return failed(ctx, workstation, attempt, "ACCOUNT_DISABLED", new AccountDisabledError());
  const password = await workstationPassword(ctx, user, challenge);
  if (password === null) return refuse(ctx, workstation, attempt, "PASSWORD_NOT_AVAILABLE");
  return succeeded(ctx, workstation, user, "QR", password);
}

/**
 * The password a workstation sets on the user's local account at a QR login:
 * the directory password as its registrant sealed it to the tenant's key,
 * re-sealed to the workstation; for a user without a directory password the
 * agent's own, which the server never knows. With the master key on the server
 * cannot open it: the approving phone re-sealed its own copy to the
 * workstation, or, a phone without a copy (linked after the password was set),
 * the agent sets a password of its own and the login event tells the admins
 * the password is not synced there. Null for a password nothing here can hand
 * over (an MSP user's, which is never sealed).
 */
async function workstationPassword(ctx: Context, user: User, challenge: Challenge): Promise<AccountPassword | null> {
  if (user.opaqueRecord && user.sealedPassword && (await tenantKeyCustody(ctx.db, user.tenantId)) === "MASTER_KEY") {
    const fromPhone =
      challenge.deliveredPassword && challenge.deliveredPasswordVersion === user.passwordVersion && challenge.deliveryExpiresAt && challenge.deliveryExpiresAt.getTime() > ctx.clock.now();
    if (!fromPhone) return { source: "AGENT", unsynced: true };
    return {
      source: "PHONE",
      sealed: challenge.deliveredPassword as SealedSecret,
      delivery: { challengeId: challenge.id, passwordVersion: user.passwordVersion, expiresAt: challenge.deliveryExpiresAt! },
    };
  }
  if (user.opaqueRecord && user.sealedPassword) {
    try {
      const password = await ctx.tenantKeys.openPassword(ctx.db, { ...user, opaqueRecord: user.opaqueRecord, sealedPassword: user.sealedPassword as SealedSecret });
      return { source: "SEALED", password };
    } catch (error) {
      // The master key was turned on since the custody was read: as if it had been on.
      if (error instanceof MasterKeyOnError) return { source: "AGENT", unsynced: true };
      throw error;
    }
  }
  return user.opaqueRecord ? null : { source: "AGENT" };
}

const reportInput = z.object({
  attemptId: z.string(),
  outcome: z.enum(["CREATED", "TAKEN_OVER", "REFUSED", "PASSWORD_REJECTED"]),
  detail: z
    .string()
    .trim()
    .max(500, "Use at most 500 characters")
    .transform((value) => value.replace(/[\u0000-\u001f\u007f]/g, " "))
    .nullish(),
});

/** The agent tells what it did with an instruction: once, for its own successful attempts. */
export async function reportAccountResult(ctx: Context, input: z.input<typeof reportInput>) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(reportInput, input);
  if (!isUuid(data.attemptId)) throw new NotFoundError("Login attempt");
  const reported = await ctx.db.loginEvent.updateMany({
    where: { id: data.attemptId, workstationId: workstation.id, outcome: "SUCCEEDED", accountOutcome: null },
    data: { accountOutcome: data.outcome, accountDetail: data.detail ?? null },
  });
  const event = await ctx.db.loginEvent.findFirst({ where: { id: data.attemptId, workstationId: workstation.id, outcome: "SUCCEEDED" } });
  if (!event) throw new NotFoundError("Login attempt");
  if (reported.count !== 1) throw new ConflictError("This attempt's outcome was already reported");
  publishLoginEvent(ctx, event);
  return event;
}
