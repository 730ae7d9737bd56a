import { accountNameProblem } from "@latchkey/account-names";
import { z } from "zod";
import { builder } from "../../builder.ts";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from "../../errors.ts";
import { displayName, email, parseInput, personName } from "../../validation.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { AuthPayload, TokenDelivery } from "../session/session.types.ts";
import { deliverSession, startSession } from "../session/session.service.ts";
import { rememberDevice } from "../session/sign-in.ts";
import { emailKey, usernameKey, usernameSkeletonRows } from "../user/user-names.ts";
import { mspSlug } from "./tenant-names.ts";
import { passwordColumns, takeRegistration } from "../password/password.service.ts";
import { assertMspSlugUnambiguous, createCustomer, deleteCustomer, resumeCustomer, suspendCustomer, uniqueViolation, updateTenantSettings } from "./tenant.service.ts";
import { Tenant, UserSource } from "./tenant.types.ts";

const SignUpMspInput = builder.inputType("SignUpMspInput", {
  fields: (t) => ({
    slug: t.string({ required: true, description: "The MSP's subdomain: lowercase letters, digits, hyphens." }),
    displayName: t.string({ required: true, description: "The MSP's name as people see it." }),
    firstName: t.string({ required: true, description: "The first admin's given name." }),
    lastName: t.string({ required: true, description: "The first admin's family name." }),
    email: t.string({
      required: true,
      description: "The first admin's company email; their username is made from it (they can change it later).",
    }),
    passwordRegistrationId: t.id({
      required: true,
      description: "A finished password registration started signed out (startPasswordRegistration without userId or tenant): the password itself never reaches the server.",
    }),
    tokenDelivery: t.field({ type: TokenDelivery, defaultValue: "BEARER", description: "How the new session's token is handed over." }),
  }),
});

const signUpInput = z.object({
  slug: mspSlug,
  displayName,
  firstName: personName,
  lastName: personName,
  email,
  passwordRegistrationId: z.string(),
});

/**
 * The first admin's local account name, derived from their email (they can
 * change it later); a placeholder when that is no fit name (nul@, administrator@).
 */
function usernameFromEmail(address: string) {
  const local = address.split("@")[0]!.replace(/["/\\[\]:;|=,+*?<>@\s]/g, "").slice(0, 20).replace(/\.+$/, "");
  return local && !accountNameProblem(local) ? local : "admin1";
}

const CreateCustomerInput = builder.inputType("CreateCustomerInput", {
  fields: (t) => ({
    name: t.string({ required: true, description: "Lowercase letters and digits; the subdomain is `<name>-<msp slug>`." }),
    displayName: t.string({ required: true, description: "The customer's name as people see it." }),
  }),
});

const CreateCustomerPayload = builder.simpleObject("CreateCustomerPayload", {
  fields: (t) => ({ customer: t.field({ type: Tenant, description: "The new customer." }) }),
});

const UpdateTenantSettingsInput = builder.inputType("UpdateTenantSettingsInput", {
  description: "Only the fields given change.",
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The tenant: one the viewer administers (NOT_FOUND otherwise)." }),
    userSource: t.field({ type: UserSource, description: "Where the tenant's users come from." }),
    displayName: t.string({ description: "The tenant's name as people see it." }),
    auditRetentionDays: t.int({ description: "Days audit events are kept before they are purged: 30 to 3650." }),
    signInRequiresPhone: t.boolean({ description: "Follow every password sign-in of the tenant's users with an approval on their own phone." }),
    mspMayHoldMasterKey: t.boolean({
      description:
        "A customer's choice (its own admins only; FORBIDDEN for anyone else): whether the phones of its MSP's admins and delegated technicians may hold its master key. " +
        "Withdrawn, their copies are due for rotation.",
    }),
  }),
});

const UpdateTenantSettingsPayload = builder.simpleObject("UpdateTenantSettingsPayload", {
  fields: (t) => ({ tenant: t.field({ type: Tenant, description: "The tenant, as changed." }) }),
});

const SuspendCustomerInput = builder.inputType("SuspendCustomerInput", {
  fields: (t) => ({
    customerId: t.id({ required: true, description: "The customer to suspend." }),
    reason: t.string({ description: "Why, for the audit log (at most 500 characters)." }),
  }),
});

const SuspendCustomerPayload = builder.simpleObject("SuspendCustomerPayload", {
  fields: (t) => ({ customer: t.field({ type: Tenant, description: "The customer, now SUSPENDED." }) }),
});

const ResumeCustomerInput = builder.inputType("ResumeCustomerInput", {
  fields: (t) => ({ customerId: t.id({ required: true, description: "The suspended customer to let in again." }) }),
});

const ResumeCustomerPayload = builder.simpleObject("ResumeCustomerPayload", {
  fields: (t) => ({ customer: t.field({ type: Tenant, description: "The customer, ACTIVE again." }) }),
});

const DeleteCustomerInput = builder.inputType("DeleteCustomerInput", {
  fields: (t) => ({
    customerId: t.id({ required: true, description: "The customer to delete with everything of it." }),
    confirmation: t.string({ required: true, description: "The customer's slug, typed by whoever deletes it." }),
  }),
});

const DeleteCustomerPayload = builder.simpleObject("DeleteCustomerPayload", {
  fields: (t) => ({ deletedCustomerId: t.id({ description: "The id the customer had." }) }),
});

builder.mutationFields((t) => ({
  suspendCustomer: t.field({
    type: SuspendCustomerPayload,
    description:
      "Suspends a customer: its users are signed out everywhere and cannot sign in, its workstations refuse logins; its data is kept. The owning MSP's admins only.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError],
      union: { name: "SuspendCustomerResult" },
    },
    args: { input: t.arg({ type: SuspendCustomerInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ customer: await suspendCustomer(ctx, { customerId: String(input.customerId), reason: input.reason }) }),
  }),
  resumeCustomer: t.field({
    type: ResumeCustomerPayload,
    description: "Lifts a customer's suspension. The owning MSP's admins only.",
    authScopes: { authenticated: true },
    errors: { types: [UnauthenticatedError, ForbiddenError, NotFoundError], union: { name: "ResumeCustomerResult" } },
    args: { input: t.arg({ type: ResumeCustomerInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ customer: await resumeCustomer(ctx, { customerId: String(input.customerId) }) }),
  }),
  deleteCustomer: t.field({
    type: DeleteCustomerPayload,
    description:
      "Deletes a customer and everything of it (users, phones' links, workstations, logs); its audit log is purged with a checkpoint in the MSP's log. Cannot be undone. The owning MSP's admins only.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError],
      union: { name: "DeleteCustomerResult" },
    },
    args: { input: t.arg({ type: DeleteCustomerInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      deletedCustomerId: await deleteCustomer(ctx, { customerId: String(input.customerId), confirmation: input.confirmation }),
    }),
  }),
  signUpMsp: t.field({
    type: AuthPayload,
    description: "Creates an MSP tenant and its first admin, and signs that admin in.",
    errors: {
      types: [ValidationError, ConflictError, ForbiddenError, RateLimitedError],
      union: { name: "SignUpMspResult" },
    },
    args: { input: t.arg({ type: SignUpMspInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (!ctx.config.signUpEnabled) throw new ForbiddenError("Sign-up is switched off on this server");
      await ctx.limits.consume("signUp", ctx.request.ip);
      const data = parseInput(signUpInput, { ...input, passwordRegistrationId: String(input.passwordRegistrationId) });
      await assertMspSlugUnambiguous(ctx.db, data.slug);
      const username = usernameFromEmail(data.email);
      try {
        const { started, event } = await ctx.db.$transaction(async (tx) => {
          // Re-checked inside the transaction: two sign-ups may race for related slugs.
          await assertMspSlugUnambiguous(tx, data.slug);
          const tenant = await tx.tenant.create({
            // A password alone must not open every customer: MSP staff confirm sign-ins on their phone.
            data: { kind: "MSP", slug: data.slug, name: data.slug, displayName: data.displayName, signInRequiresPhone: true },
          });
          const registration = await takeRegistration(ctx, tx, data.passwordRegistrationId, { tenantId: null });
          const user = await tx.user.create({
            data: {
              id: registration.userId,
              ...passwordColumns(registration, new Date()),
              tenantId: tenant.id,
              firstName: data.firstName,
              lastName: data.lastName,
              username,
              usernameKey: usernameKey(username),
              email: data.email,
              emailKey: emailKey(data.email),
              role: "ADMIN",
            },
          });
          await tx.usernameSkeleton.createMany({ data: usernameSkeletonRows(tenant.id, user.id, username) });
          const started = await startSession(ctx, tx, user, { homeKind: "MSP", workingTenantId: tenant.id }, "PASSWORD", input.tokenDelivery ?? "BEARER");
          const event = await recordAudit(
            tx,
            { ...ctx, viewer: started.viewer },
            { tenantId: tenant.id, action: "tenant.signedUp", targetType: "Tenant", targetId: tenant.id },
          );
          return { started, event };
        });
        publishAudit(ctx, [event]);
        rememberDevice(ctx, started.viewer.userId);
        const token = deliverSession(ctx, started, input.tokenDelivery ?? "BEARER");
        return { token, userId: started.viewer.userId, tenantId: started.viewer.tenantId };
      } catch (error) {
        throw uniqueViolation(error, new ConflictError("This name is already taken", "slug"));
      }
    },
  }),
  createCustomer: t.field({
    type: CreateCustomerPayload,
    description: "Creates customer tenant `<name>-<msp slug>`. MSP admins only.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, ValidationError, ConflictError],
      union: { name: "CreateCustomerResult" },
    },
    args: { input: t.arg({ type: CreateCustomerInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ customer: await createCustomer(ctx, input) }),
  }),
  updateTenantSettings: t.field({
    type: UpdateTenantSettingsPayload,
    description:
      "Changes a tenant's settings. For a tenant the viewer administers (NOT_FOUND otherwise); switching `signInRequiresPhone` off is for admins only (FORBIDDEN for a technician). Audited.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError],
      union: { name: "UpdateTenantSettingsResult" },
    },
    args: { input: t.arg({ type: UpdateTenantSettingsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      tenant: await updateTenantSettings(ctx, { ...input, tenantId: String(input.tenantId) }),
    }),
  }),
}));
