import { builder } from "../../builder.ts";
import {
  AccountLockedError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from "../../errors.ts";
import { User, UserRole } from "./user.types.ts";
import { createUser, deleteUser, requirePasswordChanges, setUserPassword, setUserRole, setUserStatus, unlockUser, updateUser } from "./user.service.ts";
import { Tenant } from "../tenant/tenant.types.ts";

const RequirePasswordChangesInput = builder.inputType("RequirePasswordChangesInput", {
  description: "The tenant whose users are asked for new passwords.",
  fields: (t) => ({ tenantId: t.id({ required: true, description: "A tenant the viewer administers." }) }),
});

const RequirePasswordChangesPayload = builder.simpleObject("RequirePasswordChangesPayload", {
  description: "Who was asked.",
  fields: (t) => ({
    tenant: t.field({ type: Tenant, description: "The tenant." }),
    usersAsked: t.int({ description: "How many users with a password must now choose a new one at their next sign-in (those already asked not counted again)." }),
  }),
});

const errors = [UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError, ConflictError];

const UserPayload = (name: string, userDescription: string) =>
  builder.simpleObject(name, { fields: (t) => ({ user: t.field({ type: User, description: userDescription }) }) });

const CreateUserInput = builder.inputType("CreateUserInput", {
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The tenant to create the user in: one the viewer administers (NOT_FOUND otherwise)." }),
    firstName: t.string({ required: true, description: "Given name (at most 100 characters)." }),
    lastName: t.string({ required: true, description: "Family name (at most 100 characters)." }),
    username: t.string({ required: true, description: "Windows local account name: at most 20 characters." }),
    email: t.string({ required: true, description: "Company email / UPN." }),
    passwordRegistrationId: t.id({
      description: "Optional (users may sign in with their phone only): a finished password registration started with this tenant as `tenant`.",
    }),
    requirePasswordChange: t.boolean({
      description: "With a password: whether the user must choose their own at their first sign-in (default true, as the admin knows this one).",
    }),
    personalEmail: t.string({
      required: false,
      description: "Optional: a private address of the user's, which a phone may also verify to link to them (that phone then waits for approval).",
    }),
    role: t.field({
      type: UserRole,
      required: true,
      description: "ADMIN or TECHNICIAN in an MSP, ADMIN or USER in a customer; another is refused with VALIDATION.",
    }),
  }),
});

const UpdateUserInput = builder.inputType("UpdateUserInput", {
  description: "Only the fields given change. An empty personalEmail clears it.",
  fields: (t) => ({
    userId: t.id({ required: true, description: "The user: one the viewer manages (any other id is NOT_FOUND)." }),
    firstName: t.string({ description: "New given name." }),
    lastName: t.string({ description: "New family name." }),
    username: t.string({
      description: "New Windows local account name (at most 20 characters); CONFLICT when another user of the tenant has it or one that looks like it.",
    }),
    email: t.string({ description: "New company email / UPN; CONFLICT when another user of the tenant has it." }),
    personalEmail: t.string({ description: "New personal email; an empty string clears it." }),
  }),
});

const CurrentPasswordLoginInput = builder.inputType("CurrentPasswordLoginInput", {
  description: "Proof of your current password when you change it: an OPAQUE log in, started with startPasswordLogIn and finished here.",
  fields: (t) => ({
    loginId: t.id({ required: true, description: "From startPasswordLogIn with your own tenant and login." }),
    finish: t.string({ required: true, description: "The client's OPAQUE finish message (KE3), base64url without padding." }),
  }),
});

const SetUserPasswordInput = builder.inputType("SetUserPasswordInput", {
  fields: (t) => ({
    userId: t.id({ required: true, description: "Yourself, or a user you manage (any other id is NOT_FOUND)." }),
    passwordRegistrationId: t.id({
      required: true,
      description: "A finished password registration for this user (startPasswordRegistration with `userId`): the password itself never reaches the server.",
    }),
    requireChange: t.boolean({
      description: "Setting someone else's password: whether they must choose their own at their next sign-in (default true). Ignored for your own.",
    }),
    currentPasswordLogin: t.field({
      type: CurrentPasswordLoginInput,
      description: "Changing your own password: the proof of the current one (startPasswordLogIn, then the client's finish message).",
    }),
  }),
});

const UserIdInput = (name: string) =>
  builder.inputType(name, {
    fields: (t) => ({ userId: t.id({ required: true, description: "The user: one the viewer manages (any other id is NOT_FOUND)." }) }),
  });

const SetUserRoleInput = builder.inputType("SetUserRoleInput", {
  fields: (t) => ({
    userId: t.id({ required: true, description: "The user: one the viewer manages (NOT_FOUND otherwise), not themselves (FORBIDDEN)." }),
    role: t.field({
      type: UserRole,
      required: true,
      description: "The new role: ADMIN or TECHNICIAN in an MSP, ADMIN or USER in a customer; another is refused with VALIDATION.",
    }),
  }),
});

const CreateUserPayload = UserPayload("CreateUserPayload", "The new user.");
const UpdateUserPayload = UserPayload("UpdateUserPayload", "The user, as changed.");
const SetUserPasswordPayload = UserPayload("SetUserPasswordPayload", "The user, with the new password.");
const DisableUserPayload = UserPayload("DisableUserPayload", "The user, now DISABLED.");
const EnableUserPayload = UserPayload("EnableUserPayload", "The user, ACTIVE again.");
const SetUserRolePayload = UserPayload("SetUserRolePayload", "The user, with the new role.");
const UnlockUserPayload = UserPayload("UnlockUserPayload", "The user, no longer locked.");
const DeleteUserPayload = builder.simpleObject("DeleteUserPayload", {
  fields: (t) => ({ deletedUserId: t.id({ description: "The id the user had." }) }),
});

builder.mutationFields((t) => ({
  createUser: t.field({
    type: CreateUserPayload,
    description:
      "Creates a user in a tenant the viewer administers (NOT_FOUND otherwise), with or without a password. " +
      "CONFLICT when another user of the tenant has the email, or the username or one that looks like it. Audited.",
    errors: { types: errors, union: { name: "CreateUserResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      user: await createUser(ctx, {
        ...input,
        tenantId: String(input.tenantId),
        passwordRegistrationId: input.passwordRegistrationId == null ? null : String(input.passwordRegistrationId),
      }),
    }),
  }),
  updateUser: t.field({
    type: UpdateUserPayload,
    description: "Changes a user's names and email addresses. NOT_FOUND for a user the viewer does not manage. Audited.",
    errors: { types: errors, union: { name: "UpdateUserResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UpdateUserInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await updateUser(ctx, { ...input, userId: String(input.userId) }) }),
  }),
  setUserPassword: t.field({
    type: SetUserPasswordPayload,
    description: "Sets a user's password and ends their other sessions. Your own needs `currentPasswordLogin`; an admin's also unlocks the account.",
    errors: { types: [...errors, RateLimitedError, AccountLockedError], union: { name: "SetUserPasswordResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: SetUserPasswordInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      user: await setUserPassword(ctx, {
        userId: String(input.userId),
        passwordRegistrationId: String(input.passwordRegistrationId),
        requireChange: input.requireChange ?? null,
        currentPasswordLogin: input.currentPasswordLogin ? { loginId: String(input.currentPasswordLogin.loginId), finish: input.currentPasswordLogin.finish } : null,
      }),
    }),
  }),
  disableUser: t.field({
    type: DisableUserPayload,
    description: "Blocks sign-in and ends the user's sessions.",
    errors: { types: errors, union: { name: "DisableUserResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UserIdInput("DisableUserInput"), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await setUserStatus(ctx, String(input.userId), "DISABLED") }),
  }),
  enableUser: t.field({
    type: EnableUserPayload,
    description: "Lets a disabled user sign in again. NOT_FOUND for a user the viewer does not manage. Audited.",
    errors: { types: errors, union: { name: "EnableUserResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UserIdInput("EnableUserInput"), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await setUserStatus(ctx, String(input.userId), "ACTIVE") }),
  }),
  unlockUser: t.field({
    type: UnlockUserPayload,
    description:
      "Lifts the lock that too many wrong passwords from unrecognised devices put on an account, in the portal and at workstations. " +
      "Setting the user's password unlocks it too.",
    errors: { types: errors, union: { name: "UnlockUserResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UserIdInput("UnlockUserInput"), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await unlockUser(ctx, String(input.userId)) }),
  }),
  requirePasswordChanges: t.field({
    type: RequirePasswordChangesPayload,
    description:
      "Asks every user of the tenant who has a password (disabled ones too), except the admin asking, to choose a new one at their next sign-in (`mustChangePassword`): " +
      "after the master key is turned on, or after a phone that held it was lost. Audited. NOT_FOUND for a tenant the viewer does not administer; " +
      "FORBIDDEN for a technician.",
    errors: { types: errors, union: { name: "RequirePasswordChangesResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RequirePasswordChangesInput, required: true }) },
    resolve: async (_root, { input }, ctx) => requirePasswordChanges(ctx, String(input.tenantId)),
  }),
  deleteUser: t.field({
    type: DeleteUserPayload,
    description:
      "Deletes a user for good, with their phones' links; their sessions end. NOT_FOUND for a user the viewer does not manage; " +
      "FORBIDDEN for yourself; CONFLICT for an admin when the tenant would be left without another active admin. Audited.",
    errors: { types: errors, union: { name: "DeleteUserResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UserIdInput("DeleteUserInput"), required: true }) },
    resolve: async (_root, { input }, ctx) => ({ deletedUserId: await deleteUser(ctx, String(input.userId)) }),
  }),
  setUserRole: t.field({
    type: SetUserRolePayload,
    description: "Make admin (or back). The user's sessions end so no session keeps old powers.",
    errors: { types: errors, union: { name: "SetUserRoleResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: SetUserRoleInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ user: await setUserRole(ctx, { ...input, userId: String(input.userId) }) }),
  }),
}));
