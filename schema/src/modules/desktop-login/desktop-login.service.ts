// The login screen's side of desktop login. A workstation signs a user in with
// their directory password, or by a DESKTOP_LOGIN challenge approved on the
// user's phone; either way it receives an account instruction ("ensure local
// account U with this password") whose password is sealed to the workstation's
// key-agreement key, with the workstation, the attempt and the expiry bound in.
// Every attempt, refused or not, becomes a login event on the tenant's feed.
import { randomInt } from "node:crypto";
import type { LoginMethod, Tenant, User } from "@latchkey/db";
import { z } from "zod";
import type { Context, WorkstationViewer } from "../../context.ts";
import {
  AccountDisabledError,
  AccountLockedError,
  ConflictError,
  DesktopLoginRefusedError,
  InvalidCredentialsError,
  NotFoundError,
  type DesktopRefusal,
} from "../../errors.ts";
import { sealPassword } from "../../security/account-sealing.ts";
import { hashToken } from "../../security/tokens.ts";
import { isUuid, parseInput } from "../../validation.ts";
import { createChallenge, publishChallenge, readChallenge, sameHash } from "../challenge/challenge.service.ts";
import { emailKey, usernameKey } from "../user/user-names.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { publishLoginEvent, recordFailedLogin, recordLoginEvent } from "../login-event/login-event.service.ts";
import { recordPasswordFailure } from "../session/sign-in.ts";
import { unknownAccount } from "../../security/sign-in-admission.ts";

/** How long an account instruction may be acted on. */
const INSTRUCTION_TTL_MS = 2 * 60_000;

/** A known user by their directory username; an unknown login only by a keyed hash of it (it may be a mistyped password). */
type Attempt = { tenantId: string; username: string | null; loginPseudonym?: string | null; userId: string | null; method: LoginMethod };

function refuse(ctx: Context, workstation: WorkstationViewer, attempt: Attempt, reason: DesktopRefusal): Promise<never> {
  return failed(ctx, workstation, attempt, reason, new DesktopLoginRefusedError(reason));
}

/** Records the failed attempt on the tenant's feed, then throws `error`. */
async function failed(ctx: Context, workstation: WorkstationViewer, attempt: Attempt, reason: string, error: Error): Promise<never> {
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

/** Seals `password` into the instruction for attempt `attemptId` on this workstation. */
async function accountInstruction(workstation: WorkstationViewer, attemptId: string, user: User, password: string) {
  const expiresAt = new Date(Date.now() + INSTRUCTION_TTL_MS);
  const sealed = await sealPassword({
    keyAgreementAlgorithm: workstation.keyAgreementAlgorithm!,
    keyAgreementPublicKey: workstation.keyAgreementPublicKey!,
    workstationId: workstation.id,
    attemptId,
    expiresAt,
    password,
  });
  return {
    action: "ENSURE_LOCAL_ACCOUNT" as const,
    attemptId,
    workstationId: workstation.id,
    username: user.username,
    fullName: `${user.firstName} ${user.lastName}`,
    expiresAt,
    password: sealed,
  };
}

export type AccountInstruction = Awaited<ReturnType<typeof accountInstruction>>;

/** Records the successful attempt and returns its sealed instruction. */
async function succeeded(ctx: Context, workstation: WorkstationViewer, user: User, method: LoginMethod, password: string) {
  const event = await recordLoginEvent(ctx.db, ctx, {
    tenantId: user.tenantId,
    userId: user.id,
    username: user.username,
    workstation: { id: workstation.id, name: workstation.name },
    method,
    outcome: "SUCCEEDED",
  });
  publishLoginEvent(ctx, event);
  return { instruction: await accountInstruction(workstation, event.id, user, password) };
}

const desktopLoginInput = z.object({
  // What Windows accepts as a user name, or the user's email (UPN); nothing
  // invisible or that reorders text, so what is typed cannot disguise itself.
  username: z
    .string()
    .trim()
    .min(1, "Required")
    .max(254, "Too long")
    .refine((value) => !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value), "Control, invisible and direction characters are not allowed"),
  // Length is checked before hashing so a 10 kB "password" costs nothing.
  password: z.string().min(1, "Required").max(1024, "Too long"),
});

export async function desktopLogin(ctx: Context, input: z.input<typeof desktopLoginInput>) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(desktopLoginInput, input);
  // Every attempt costs the workstation, refused ones too, so none can flood the tenant's feed.
  await ctx.limits.consume("desktopAttemptPerWorkstation", workstation.id);
  const loginKey = data.username.includes("@") ? emailKey(data.username) : usernameKey(data.username);
  const user = await ctx.db.user.findFirst({
    where: { tenantId: workstation.tenantId, OR: [{ usernameKey: loginKey }, { emailKey: loginKey }] },
    include: { tenant: { select: { kind: true } } },
  });
  const account = user ? user.id : unknownAccount(workstation.tenantId, loginKey);
  const attempt: Attempt = user
    ? { tenantId: workstation.tenantId, username: user.username, userId: user.id, method: "PASSWORD" }
    : { tenantId: workstation.tenantId, username: null, loginPseudonym: ctx.config.pseudonymize(account), userId: null, method: "PASSWORD" };
  await checkAllowed(ctx, workstation, attempt);

  // Admitted or not before the password is looked at: this workstation's own
  // failures slow it, never another workstation's.
  const client = { kind: "workstation", id: workstation.id } as const;
  try {
    await ctx.desktopAdmission.admit(account, client);
  } catch (error) {
    return failed(ctx, workstation, attempt, error instanceof AccountLockedError ? "ACCOUNT_LOCKED" : "RATE_LIMITED", error as Error);
  }
  // Unknown users cost a hash too, so timing does not tell them apart.
  const valid = await ctx.passwords.verify(user?.passwordHash ?? null, data.password);
  if (!user || !user.passwordHash || !valid) {
    const { locked } = await ctx.desktopAdmission.failed(account, client);
    // The login event below is the record of the attempt; a lock (counted alike for
    // known and unknown logins) is recorded by a job, as the portal's are.
    if (locked) await recordPasswordFailure(ctx, { user, tenantId: workstation.tenantId, account, action: null, locked });
    const reason = !user ? "UNKNOWN_USER" : !user.passwordHash ? "NO_PASSWORD" : "WRONG_PASSWORD";
    return failed(ctx, workstation, attempt, reason, new InvalidCredentialsError());
  }
  if (user.status !== "ACTIVE") return failed(ctx, workstation, attempt, "ACCOUNT_DISABLED", new AccountDisabledError());

  await ctx.desktopAdmission.succeeded(account, client);
  // A password set before passwords were kept at rest is captured now that it is known good.
  await ctx.vault.captureVerified(
    ctx.db,
    { ...user, passwordHash: user.passwordHash, tenantKind: user.tenant.kind },
    data.password,
  );
  return succeeded(ctx, workstation, user, "PASSWORD", data.password);
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
  const password = await workstationPassword(ctx, user);
  if (password === null) return refuse(ctx, workstation, attempt, "PASSWORD_NOT_AVAILABLE");
  return succeeded(ctx, workstation, user, "QR", password);
}

/**
 * The password a workstation sets on the user's local account: the directory
 * password, kept at rest; for a passwordless user (no directory password) a
 * random one the server generates once and keeps encrypted. Null for a user
 * whose password was set before passwords were kept and not yet captured.
 */
async function workstationPassword(ctx: Context, user: User): Promise<string | null> {
  const kept = await ctx.vault.revealPassword(ctx.db, user.id);
  if (kept !== null) return kept;
  if (user.passwordHash) return null;
  const password = randomLocalPassword();
  const passwordVersion = user.passwordVersion + 1;
  const passwordCiphertext = await ctx.vault.encryptFor(ctx.db, { id: user.id, tenantId: user.tenantId, tenantKind: "CUSTOMER" }, passwordVersion, password);
  // Conditional: if an admin set a password meanwhile, or another login generated one, use that.
  const stored = await ctx.db.user.updateMany({
    where: { id: user.id, passwordHash: null, passwordCiphertext: null, passwordVersion: user.passwordVersion },
    data: { passwordCiphertext, passwordVersion },
  });
  return stored.count === 1 ? password : ctx.vault.revealPassword(ctx.db, user.id);
}

const LOWER = "abcdefghijkmnopqrstuvwxyz";
const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS = "23456789";
const SYMBOLS = "!#%+-=?@^_";

/** 24 characters with every class Windows' complexity rule asks for. */
function randomLocalPassword(): string {
  const all = LOWER + UPPER + DIGITS + SYMBOLS;
  const pick = (set: string) => set[randomInt(set.length)]!;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS), ...Array.from({ length: 20 }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
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
