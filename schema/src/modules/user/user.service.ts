import { randomUUID } from "node:crypto";
import { Prisma, type Tenant, type UserRole } from "@latchkey/db";
import { z } from "zod";
import { managedUsers } from "../../access.ts";
import { violatedUniqueConstraint } from "../../database-errors.ts";
import type { Context, Services } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { email, isUuid, parseInput, personName } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { publishSessionsEnded, revokeSessions } from "../session/session.service.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";
import { finishLogin, passwordColumns, recordWrongPassword, takeRegistration } from "../password/password.service.ts";
import { emailKey, sameOrLookalikeUsername, username, usernameKey, usernameSkeletonRows } from "./user-names.ts";
import { refuseElevationAccountName } from "../elevation/elevation-accounts.ts";
import { revokeTechnicianSessions } from "../elevation/elevation.service.ts";

/** Roles are per tenant kind. */
export const ROLES_BY_KIND = {
  MSP: ["ADMIN", "TECHNICIAN"],
  CUSTOMER: ["ADMIN", "USER"],
} as const satisfies Record<Tenant["kind"], readonly UserRole[]>;

function assertRoleFits(kind: Tenant["kind"], role: UserRole) {
  const allowed: readonly UserRole[] = ROLES_BY_KIND[kind];
  if (!allowed.includes(role)) {
    throw ValidationError.field("role", `A ${kind === "MSP" ? "MSP" : "customer"} user's role is one of ${allowed.join(", ")}`);
  }
}

const createUserInput = z.object({
  tenantId: z.string(),
  firstName: personName,
  lastName: personName,
  username,
  email,
  personalEmail: email.optional().nullable(),
  // Optional: MSP users and passwordless users sign in with their phone.
  passwordRegistrationId: z.string().nullish(),
  requirePasswordChange: z.boolean().nullish(),
  role: z.enum(["ADMIN", "TECHNICIAN", "USER"]),
});

export type CreateUserInput = z.input<typeof createUserInput>;

/**
 * The conflict a unique violation stands for, or the error itself. A username
 * that only looks like another (the skeleton key) names the one it imitates.
 */
async function conflictOnNames(ctx: Context, error: unknown, user: { id: string; tenantId: string; username?: string | null | undefined }) {
  const target = violatedUniqueConstraint(error);
  if (target === null) return error;
  if (/email/i.test(target)) return new ConflictError("Another user of this tenant has this email", "email");
  if (/skeleton/i.test(target) && user.username) {
    const other = await ctx.db.user.findFirst({
      where: { AND: [sameOrLookalikeUsername(user.tenantId, user.username), { id: { not: user.id } }] },
      select: { username: true },
    });
    return new ConflictError(
      other ? `This username looks like "${other.username}", which another user of this tenant has` : "Another user of this tenant has a username that looks like this one",
      "username",
    );
  }
  return new ConflictError("Another user of this tenant has this username", "username");
}

export async function createUser(ctx: Context, input: CreateUserInput) {
  const data = parseInput(createUserInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  assertRoleFits(tenant.kind, data.role);
  // A registered password brings the id its registration allocated (its record and
  // sealed password are bound to it); a user without one gets a new id.
  const registrationId = data.passwordRegistrationId ?? null;
  const registered = registrationId ? await ctx.db.passwordRegistration.findUnique({ where: { id: registrationId }, select: { userId: true } }).catch(() => null) : null;
  const id = registered?.userId ?? randomUUID();
  try {
    return await auditedChange(ctx, async (tx) => {
      await refuseElevationAccountName(tx, tenant.id, data.username);
      const registration = registrationId ? await takeRegistration(ctx, tx, registrationId, { userId: id, tenantId: tenant.id }) : null;
      const user = await tx.user.create({
        data: {
          ...(registration ? passwordColumns(registration, new Date()) : {}),
          // A password an admin chose is theirs to know: the user replaces it at the first sign-in, unless told otherwise.
          passwordChangeRequired: registration !== null && data.requirePasswordChange !== false,
          id,
          tenantId: tenant.id,
          firstName: data.firstName,
          lastName: data.lastName,
          username: data.username,
          usernameKey: usernameKey(data.username),
          email: data.email,
          emailKey: emailKey(data.email),
          personalEmail: data.personalEmail ?? null,
          role: data.role,
        },
      });
      await tx.usernameSkeleton.createMany({ data: usernameSkeletonRows(tenant.id, user.id, data.username) });
      return {
        result: user,
        audit: {
          tenantId: tenant.id,
          action: "user.created",
          targetType: "User",
          targetId: user.id,
          data: { username: user.username, role: user.role, mustChangePassword: user.passwordChangeRequired },
        },
      };
    });
  } catch (error) {
    throw await conflictOnNames(ctx, error, { id, tenantId: tenant.id, username: data.username });
  }
}

/** Loads a user the viewer manages; any other id is NOT_FOUND. */
export async function findManagedUser(ctx: Context, userId: string) {
  if (!isUuid(userId)) throw new NotFoundError("User");
  const user = await ctx.db.user.findFirst({
    where: { AND: [{ id: userId }, managedUsers(ctx.viewer)] },
    include: { tenant: true },
  });
  if (!user) throw new NotFoundError("User");
  return user;
}

const updateUserInput = z.object({
  userId: z.string(),
  firstName: personName.optional().nullable(),
  lastName: personName.optional().nullable(),
  username: username.optional().nullable(),
  email: email.optional().nullable(),
  personalEmail: email.or(z.literal("")).optional().nullable(),
});

export async function updateUser(ctx: Context, input: z.input<typeof updateUserInput>) {
  const data = parseInput(updateUserInput, input);
  const user = await findManagedUser(ctx, data.userId);
  const changes: Prisma.UserUpdateInput = {};
  if (data.firstName) changes.firstName = data.firstName;
  if (data.lastName) changes.lastName = data.lastName;
  if (data.username) Object.assign(changes, { username: data.username, usernameKey: usernameKey(data.username) });
  if (data.email) Object.assign(changes, { email: data.email, emailKey: emailKey(data.email) });
  // An empty string clears the personal email; null/absent leaves it.
  if (data.personalEmail !== undefined && data.personalEmail !== null) changes.personalEmail = data.personalEmail || null;
  try {
    return await auditedChange(ctx, async (tx) => {
      if (data.username) await refuseElevationAccountName(tx, user.tenantId, data.username);
      const updated = await tx.user.update({ where: { id: user.id }, data: changes });
      if (data.username) await replaceUsernameSkeletons(tx, user, data.username);
      return {
        result: updated,
        audit: {
          tenantId: user.tenantId,
          action: "user.updated",
          targetType: "User",
          targetId: user.id,
          data: { fields: Object.keys(changes).filter((key) => !key.endsWith("Key")) },
        },
      };
    });
  } catch (error) {
    throw await conflictOnNames(ctx, error, { id: user.id, tenantId: user.tenantId, username: data.username });
  }
}

/** A renamed user's look: the old skeletons go, the new ones must be free in the tenant. */
async function replaceUsernameSkeletons(tx: Prisma.TransactionClient, user: { id: string; tenantId: string }, name: string) {
  await tx.usernameSkeleton.deleteMany({ where: { userId: user.id } });
  await tx.usernameSkeleton.createMany({ data: usernameSkeletonRows(user.tenantId, user.id, name) });
}

const setPasswordInput = z.object({
  userId: z.string(),
  passwordRegistrationId: z.string(),
  currentPasswordLogin: z.object({ loginId: z.string(), finish: z.string().max(1024) }).nullish(),
  requireChange: z.boolean().nullish(),
});

/** A passwordless user sets a first password, or approves their own new phone, only this soon after approving a sign-in on their phone. */
export const FRESH_PHONE_APPROVAL_MS = 5 * 60_000;

/**
 * Sets a user's password from a finished registration: an admin's browser ran
 * it for the user (which also unlocks the account), or the user's own client.
 * Changing your own proves the current one by an OPAQUE log in (started with
 * startPasswordLogIn, its finish message given here), admitted and counted as a
 * sign-in, since it is one; its proof is checked only after the registration
 * is known good, so the answer never depends on it otherwise. A passwordless
 * user setting a first password has no current one to prove: they must have
 * just approved a sign-in on their phone. Rules for the new password are the
 * client's to enforce. Every other session of the user ends. A password an
 * admin sets must be changed at the user's next sign-in unless `requireChange`
 * is false; the user's own change clears that.
 */
export async function setUserPassword(ctx: Context, input: z.input<typeof setPasswordInput>) {
  const data = parseInput(setPasswordInput, input);
  const viewer = ctx.viewer;
  if (!viewer) throw new UnauthenticatedError();
  const self = data.userId === viewer.userId;
  const user = self
    ? await ctx.db.user.findUniqueOrThrow({ where: { id: viewer.userId }, include: { tenant: true } })
    : await findManagedUser(ctx, data.userId);
  const registrationId = data.passwordRegistrationId;
  const currentPasswordLogin = data.currentPasswordLogin ?? null;
  const registration = await ctx.db.passwordRegistration.findUnique({ where: { id: isUuid(registrationId) ? registrationId : NO_ID } });
  if (!registration || registration.userId !== user.id || registration.record === null) {
    throw ValidationError.field("passwordRegistrationId", "Register the password first (startPasswordRegistration, finishPasswordRegistration); registrations last ten minutes");
  }
  if (self && user.opaqueRecord !== null) {
    if (!currentPasswordLogin) throw ValidationError.field("currentPasswordLogin", "Prove your current password");
    const { proved, state } = await finishLogin(ctx, {
      loginId: currentPasswordLogin.loginId,
      finish: currentPasswordLogin.finish,
      purposes: ["PORTAL"],
      admission: ctx.signInAdmission,
    }).catch((error: unknown) => {
      if (error instanceof UnauthenticatedError) throw ValidationError.field("currentPasswordLogin", error.message);
      throw error;
    });
    if (!proved || state.userId !== user.id) {
      await recordWrongPassword(ctx, state, state.userId === user.id ? "user.passwordChangeFailed" : null);
      throw ValidationError.field("currentPasswordLogin", "Your current password is not correct");
    }
  } else if (self) {
    await assertFreshPhoneSignIn(ctx);
  }
  const mustChange = !self && data.requireChange !== false;
  const ended = await auditedChange(ctx, async (tx) => {
    const finished = await takeRegistration(ctx, tx, registrationId, { userId: user.id, tenantId: user.tenantId });
    // Conditional on the version the registration was made for: the sealed password is
    // bound to it, so of two changes at once only one may land (the other is told to retry).
    const { count } = await tx.user.updateMany({
      where: { id: user.id, passwordVersion: finished.passwordVersion - 1 },
      data: {
        ...passwordColumns(finished, new Date()),
        passwordChangeRequired: mustChange,
        ...(self ? {} : { lockedAt: null, lockedUntil: null }),
      },
    });
    if (count !== 1) throw new ConflictError("The password was changed at the same time; try again", "passwordRegistrationId");
    return {
      result: await revokeSessions(tx, { userId: user.id, ...(self ? { id: { not: viewer.sessionId } } : {}) }),
      audit: {
        tenantId: user.tenantId,
        action: self ? "user.passwordChanged" : "user.passwordSet",
        targetType: "User",
        targetId: user.id,
        // Who chose to let a user keep a password they did not choose is on the record.
        ...(self ? {} : { data: { mustChangePassword: mustChange } }),
      },
    };
  });
  if (!self) await unlockSignIns(ctx, user.id);
  publishSessionsEnded(ctx, ended, "password changed");
  return ctx.db.user.findUniqueOrThrow({ where: { id: user.id } });
}

/**
 * Whether the viewer's session was opened by approving a QR sign-in on their
 * phone (alone or after a password), within FRESH_PHONE_APPROVAL_MS: proof that one of their approved
 * phones is at hand, since a phone waiting for approval approves nothing.
 */
export async function isFreshPhoneSignIn(ctx: Pick<Context, "db" | "viewer" | "clock">) {
  if (!ctx.viewer || ctx.viewer.apiKey) return false;
  const session = await ctx.db.session.findUnique({ where: { id: ctx.viewer.sessionId }, select: { method: true, createdAt: true } });
  if (!session || (session.method !== "QR" && session.method !== "PASSWORD_AND_PHONE")) return false;
  return ctx.clock.now() - session.createdAt.getTime() <= FRESH_PHONE_APPROVAL_MS;
}

/** A passwordless user sets a first password only soon after a phone sign-in. */
async function assertFreshPhoneSignIn(ctx: Context) {
  if (!(await isFreshPhoneSignIn(ctx))) {
    throw new ForbiddenError("To set your first password, sign in with your phone again, then set it within five minutes");
  }
}

const NO_ID = "00000000-0000-0000-0000-000000000000";

/** Unknown clients may try the account's password again, in the portal and at workstations. */
async function unlockSignIns(ctx: Context, userId: string) {
  await Promise.all([ctx.signInAdmission.unlock(userId), ctx.desktopAdmission.unlock(userId)]);
}

/** An admin lifts a lock that wrong passwords from unrecognised devices put on an account. */
export async function unlockUser(ctx: Context, userId: string) {
  const user = await findManagedUser(ctx, userId);
  const unlocked = await auditedChange(ctx, async (tx) => ({
    result: await tx.user.update({ where: { id: user.id }, data: { lockedAt: null, lockedUntil: null } }),
    audit: { tenantId: user.tenantId, action: "user.unlocked", targetType: "User", targetId: user.id },
  }));
  await unlockSignIns(ctx, user.id);
  return unlocked;
}

/**
 * A tenant always keeps an active admin: otherwise nobody (short of the MSP)
 * could manage it again.
 */
async function assertNotLastAdmin(tx: Prisma.TransactionClient, user: { id: string; tenantId: string; role: UserRole }) {
  if (user.role !== "ADMIN") return;
  const others = await tx.user.count({
    where: { tenantId: user.tenantId, role: "ADMIN", status: "ACTIVE", id: { not: user.id } },
  });
  if (others === 0) throw new ConflictError("A tenant needs at least one active admin");
}

function assertNotSelf(ctx: Context, userId: string, what: string) {
  if (ctx.viewer?.userId === userId) throw new ForbiddenError(`You cannot ${what} yourself`);
}

export async function setUserStatus(ctx: Context, userId: string, status: "ACTIVE" | "DISABLED") {
  const user = await findManagedUser(ctx, userId);
  if (status === "DISABLED") assertNotSelf(ctx, user.id, "disable");
  const { updated, ended } = await auditedChange(ctx, async (tx) => {
    if (status === "DISABLED") await assertNotLastAdmin(tx, user);
    const updated = await tx.user.update({ where: { id: user.id }, data: { status } });
    const ended = status === "DISABLED" ? await revokeSessions(tx, { userId: user.id }) : [];
    return {
      result: { updated, ended },
      audit: { tenantId: user.tenantId, action: status === "DISABLED" ? "user.disabled" : "user.enabled", targetType: "User", targetId: user.id },
    };
  });
  publishSessionsEnded(ctx, ended, "user disabled");
  if (status === "DISABLED") await revokeTechnicianSessions(ctx, { userId: user.id }, "user disabled");
  return updated;
}

/**
 * Asks every user of a tenant who has a password to choose a new one at
 * their next sign-in: after the master key is turned on (older backups and the
 * key-encryption key still open the passwords set before) or after a holder is
 * lost (it could read every password). Only the tenant's admins, or its MSP's.
 */
export async function requirePasswordChanges(ctx: Context, tenantId: string) {
  const tenant = await findAdministeredTenant(ctx, tenantId);
  if (ctx.viewer?.role !== "ADMIN") throw new ForbiddenError("Only an admin asks every user for a new password");
  return auditedChange(ctx, async (tx) => {
    // The admin asking keeps theirs: they are choosing for everyone else, and are signed in now.
    const { count } = await tx.user.updateMany({
      // Disabled users too: one enabled again would otherwise keep a password an old backup opens.
      where: { tenantId: tenant.id, opaqueRecord: { not: null }, passwordChangeRequired: false, id: { not: ctx.viewer!.userId } },
      data: { passwordChangeRequired: true },
    });
    return {
      result: { tenant, usersAsked: count },
      audit: { tenantId: tenant.id, action: "user.passwordChangesRequired", targetType: "Tenant", targetId: tenant.id, data: { usersAsked: count } },
    };
  });
}

export async function deleteUser(ctx: Context, userId: string) {
  const user = await findManagedUser(ctx, userId);
  assertNotSelf(ctx, user.id, "delete");
  const ended = await auditedChange(ctx, async (tx) => {
    await assertNotLastAdmin(tx, user);
    const ended = await revokeSessions(tx, { userId: user.id });
    await tx.user.delete({ where: { id: user.id } });
    return {
      result: ended,
      audit: { tenantId: user.tenantId, action: "user.deleted", targetType: "User", targetId: user.id, data: { username: user.username, email: user.email } },
    };
  });
  publishSessionsEnded(ctx, ended, "user deleted");
  ctx.pubsub.publish("user:accessChanged", user.id, { reason: "user deleted" });
  await revokeTechnicianSessions(ctx, { userId: user.id }, "user deleted");
  return user.id;
}

const setRoleInput = z.object({ userId: z.string(), role: z.enum(["ADMIN", "TECHNICIAN", "USER"]) });

/** "Make admin" and back. The user's sessions end so no session keeps powers it no longer has. */
export async function setUserRole(ctx: Context, input: z.input<typeof setRoleInput>) {
  const data = parseInput(setRoleInput, input);
  const user = await findManagedUser(ctx, data.userId);
  assertNotSelf(ctx, user.id, "change the role of");
  assertRoleFits(user.tenant.kind, data.role);
  if (user.role === data.role) return user;
  const { updated, ended } = await auditedChange(ctx, async (tx) => {
    await assertNotLastAdmin(tx, user);
    const updated = await tx.user.update({ where: { id: user.id }, data: { role: data.role } });
    // A technician made admin reaches every customer; delegations would be noise.
    if (data.role === "ADMIN") await tx.delegation.deleteMany({ where: { technicianId: user.id } });
    const ended = await revokeSessions(tx, { userId: user.id });
    return {
      result: { updated, ended },
      audit: { tenantId: user.tenantId, action: "user.roleChanged", targetType: "User", targetId: user.id, data: { from: user.role, to: data.role } },
    };
  });
  publishSessionsEnded(ctx, ended, "role changed");
  ctx.pubsub.publish("user:accessChanged", user.id, { reason: "role changed" });
  await revokeTechnicianSessions(ctx, { userId: user.id }, "role changed");
  return updated;
}

/**
 * Users made before the current name rules have a lower-cased usernameKey and
 * no skeleton rows; SQL has neither Windows' case table nor Unicode's
 * confusables, so the API recomputes both when it starts. Idempotent, and
 * safe with several instances starting at once. A user whose name collides
 * with another's under the new rules keeps what does not collide, and the
 * clash is logged for an admin to rename one of them.
 */
export async function refreshUsernameKeys(services: Pick<Services, "db" | "log">): Promise<number> {
  const { db, log } = services;
  const earlier = await db.user.findMany({
    where: { usernameSkeletons: { none: {} } },
    select: { id: true, tenantId: true, username: true, usernameKey: true },
    orderBy: { createdAt: "asc" },
  });
  for (const user of earlier) {
    const key = usernameKey(user.username);
    if (key !== user.usernameKey) {
      await db.user.update({ where: { id: user.id }, data: { usernameKey: key } }).catch((error: unknown) => {
        if (!violatedUniqueConstraint(error)) throw error;
        log.warn("a username is another's of its tenant as Windows compares names; rename one", { userId: user.id, tenantId: user.tenantId });
      });
    }
    const rows = usernameSkeletonRows(user.tenantId, user.id, user.username);
    await db.usernameSkeleton.createMany({ data: rows, skipDuplicates: true });
    const others = await db.usernameSkeleton.findMany({
      where: { tenantId: user.tenantId, skeleton: { in: rows.map((row) => row.skeleton) }, userId: { not: user.id } },
      select: { userId: true },
    });
    if (others.length > 0) {
      log.warn("a username looks like another's of its tenant; rename one", { userId: user.id, tenantId: user.tenantId, lookalikeOf: others[0]!.userId });
    }
  }
  return earlier.length;
}
