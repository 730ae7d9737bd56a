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

const UserPayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ user: t.field({ type: User }) }) });

const CreateUserInput = builder.inputType("CreateUserInput", {
  fields: (t) => ({
    tenantId: t.id({ required: true }),
    firstName: t.string({ required: true }),
    lastName: t.string({ required: true }),
    username: t.string({ required: true, description: "Windows local account name: at most 20 characters." }),
    email: t.string({ required: true, description: "Company email / UPN." }),
    passwordRegistrationId: t.id({
      description: "Optional (users may sign in with their phone only): a finished password registration started with this tenant as `tenant`.",
    }),
    requirePasswordChange: t.boolean({
      description: "With a password: whether the user must choose their own at their first sign-in (default true, as the admin knows this one).",
    }),
    personalEmail: t.string({ required: false }),
    role: t.field({ type: UserRole, required: true }),
  }),
});

const UpdateUserInput = builder.inputType("UpdateUserInput", {
  description: "Only the fields given change. An empty personalEmail clears it.",
  fields: (t) => ({
    userId: t.id({ required: true }),
    firstName: t.string(),
    lastName: t.string(),
    username: t.string(),
    email: t.string(),
    personalEmail: t.string(),
  }),
});

const CurrentPasswordLoginInput = builder.inputType("CurrentPasswordLoginInput", {
  fields: (t) => ({
    loginId: t.id({ required: true, description: "From startPasswordLogIn with your own tenant and login." }),
    finish: t.string({ required: true, description: "The client's OPAQUE finish message (KE3), base64url without padding." }),
  }),
});

const SetUserPasswordInput = builder.inputType("SetUserPasswordInput", {
  fields: (t) => ({
    userId: t.id({ required: true }),
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
  builder.inputType(name, { fields: (t) => ({ userId: t.id({ required: true }) }) });

const SetUserRoleInput = builder.inputType("SetUserRoleInput", {
  fields: (t) => ({ userId: t.id({ required: true }), role: t.field({ type: UserRole, required: true }) }),
});

const CreateUserPayload = UserPayload("CreateUserPayload");
const UpdateUserPayload = UserPayload("UpdateUserPayload");
const SetUserPasswordPayload = UserPayload("SetUserPasswordPayload");
const DisableUserPayload = UserPayload("DisableUserPayload");
const EnableUserPayload = UserPayload("EnableUserPayload");
const SetUserRolePayload = UserPayload("SetUserRolePayload");
const UnlockUserPayload = UserPayload("UnlockUserPayload");
const DeleteUserPayload = builder.simpleObject("DeleteUserPayload", {
  fields: (t) => ({ deletedUserId: t.id() }),
});

builder.mutationFields((t) => ({
  createUser: t.field({
    type: CreateUserPayload,
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
