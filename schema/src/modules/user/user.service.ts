import { randomUUID } from "node:crypto";
import type { Prisma, Tenant, UserRole } from "@latchkey/db";
import { z } from "zod";
import { managedUsers } from "../../access.ts";
import { violatedUniqueConstraint } from "../../database-errors.ts";
import type { Context } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { passwordProblem } from "../../security/passwords.ts";
import { email, isUuid, parseInput, personName } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { publishSessionsEnded, revokeSessions } from "../session/session.service.ts";
import { portalClient, recordPasswordFailure } from "../session/sign-in.ts";
import { findAdministeredTenant, uniqueViolation } from "../tenant/tenant.service.ts";
import { emailKey, username, usernameKey } from "./user-names.ts";

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

/** Password is optional: MSP users and passwordless users sign in with their phone. */
const optionalPassword = z.string().max(1024, "Use at most 128 characters").optional().nullable();

const createUserInput = z.object({
  tenantId: z.string(),
  firstName: personName,
  lastName: personName,
  username,
  email,
  personalEmail: email.optional().nullable(),
  password: optionalPassword,
  role: z.enum(["ADMIN", "TECHNICIAN", "USER"]),
});

export type CreateUserInput = z.input<typeof createUserInput>;

function checkPassword(password: string, context: string[], path = "password") {
  const problem = passwordProblem(password, context);
  if (problem) throw ValidationError.field(path, problem);
}

const conflictOnNames = (error: unknown) => {
  const target = violatedUniqueConstraint(error) ?? "";
  return /email/i.test(target)
    ? new ConflictError("Another user of this tenant has this email", "email")
    : new ConflictError("Another user of this tenant has this username", "username");
};

export async function createUser(ctx: Context, input: CreateUserInput) {
  const data = parseInput(createUserInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  assertRoleFits(tenant.kind, data.role);
  if (data.password) checkPassword(data.password, [data.firstName, data.lastName, data.username, data.email, tenant.slug]);
  const passwordHash = data.password ? await ctx.passwords.hash(data.password) : null;
  // The id is chosen here because the password's ciphertext is bound to it.
  const id = randomUUID();
  const passwordCiphertext = data.password
    ? await ctx.vault.encryptFor(ctx.db, { id, tenantId: tenant.id, tenantKind: tenant.kind }, 1, data.password)
    : null;
  try {
    return await auditedChange(ctx, async (tx) => {
      const user = await tx.user.create({
        data: {
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
          passwordHash,
          passwordCiphertext,
          passwordChangedAt: passwordHash ? new Date() : null,
          passwordVersion: passwordHash ? 1 : 0,
        },
      });
      return {
        result: user,
        audit: { tenantId: tenant.id, action: "user.created", targetType: "User", targetId: user.id, data: { username: user.username, role: user.role } },
      };
    });
  } catch (error) {
    throw uniqueViolation(error, conflictOnNames(error));
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
    return await auditedChange(ctx, async (tx) => ({
      result: await tx.user.update({ where: { id: user.id }, data: changes }),
      audit: {
        tenantId: user.tenantId,
        action: "user.updated",
        targetType: "User",
        targetId: user.id,
        data: { fields: Object.keys(changes).filter((key) => !key.endsWith("Key")) },
      },
    }));
  } catch (error) {
    throw uniqueViolation(error, conflictOnNames(error));
  }
}

const setPasswordInput = z.object({
  userId: z.string(),
  password: z.string().max(1024, "Use at most 128 characters"),
  currentPassword: z.string().max(1024).optional().nullable(),
});

/** A passwordless user sets a first password only this soon after approving a sign-in on their phone. */
export const FRESH_PHONE_APPROVAL_MS = 5 * 60_000;

/**
 * An admin sets a user's password (which also unlocks the account); a user
 * changing their own proves the current one, admitted and counted exactly like
 * a sign-in, since it is one. A passwordless user setting a first password has
 * no current one to prove: they must have just approved a sign-in on their
 * phone. The new password's rules are checked first, so the answer never
 * depends on whether the current password was right. Every other session of
 * the user ends.
 */
export async function setUserPassword(ctx: Context, input: z.input<typeof setPasswordInput>) {
  const data = parseInput(setPasswordInput, input);
  const viewer = ctx.viewer;
  if (!viewer) throw new UnauthenticatedError();
  const self = data.userId === viewer.userId;
  const user = self
    ? await ctx.db.user.findUniqueOrThrow({ where: { id: viewer.userId }, include: { tenant: true } })
    : await findManagedUser(ctx, data.userId);
  checkPassword(data.password, [user.firstName, user.lastName, user.username, user.email, user.tenant.slug]);
  if (self && user.passwordHash) {
    if (!data.currentPassword) throw ValidationError.field("currentPassword", "Enter your current password");
    const client = portalClient(ctx, user.id);
    await ctx.signInAdmission.admit(user.id, client);
    if (!(await ctx.passwords.verify(user.passwordHash, data.currentPassword))) {
      const { locked } = await ctx.signInAdmission.failed(user.id, client);
      await recordPasswordFailure(ctx, user, "user.passwordChangeFailed", locked);
      throw ValidationError.field("currentPassword", "Your current password is not correct");
    }
    await ctx.signInAdmission.succeeded(user.id, client);
  } else if (self) {
    const session = await ctx.db.session.findUniqueOrThrow({ where: { id: viewer.sessionId }, select: { method: true, createdAt: true } });
    if (session.method !== "QR" || ctx.clock.now() - session.createdAt.getTime() > FRESH_PHONE_APPROVAL_MS) {
      throw new ForbiddenError("To set your first password, sign in with your phone again, then set it within five minutes");
    }
  }
  const passwordHash = await ctx.passwords.hash(data.password);
  const passwordVersion = user.passwordVersion + 1;
  const passwordCiphertext = await ctx.vault.encryptFor(
    ctx.db,
    { id: user.id, tenantId: user.tenantId, tenantKind: user.tenant.kind },
    passwordVersion,
    data.password,
  );
  const ended = await auditedChange(ctx, async (tx) => {
    // Conditional on the version read: the ciphertext is bound to the version it
    // writes, so of two changes at once only one may land (the other is told to retry).
    const { count } = await tx.user.updateMany({
      where: { id: user.id, passwordVersion: user.passwordVersion },
      data: {
        passwordHash,
        passwordCiphertext,
        passwordChangedAt: new Date(),
        passwordVersion,
        ...(self ? {} : { lockedAt: null, lockedUntil: null }),
      },
    });
    if (count !== 1) throw new ConflictError("The password was changed at the same time; try again", "password");
    return {
      result: await revokeSessions(tx, { userId: user.id, ...(self ? { id: { not: viewer.sessionId } } : {}) }),
      audit: { tenantId: user.tenantId, action: self ? "user.passwordChanged" : "user.passwordSet", targetType: "User", targetId: user.id },
    };
  });
  if (!self) await unlockSignIns(ctx, user.id);
  publishSessionsEnded(ctx, ended, "password changed");
  return ctx.db.user.findUniqueOrThrow({ where: { id: user.id } });
}

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
  return updated;
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
  return updated;
}
