import type { Tenant as TenantRow } from "@latchkey/db";
import { builder } from "../../builder.ts";
import { Branding, brandingOf, DesktopLoginMethod } from "../desktop-settings/desktop-settings.types.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { Workstation } from "../workstation/workstation.types.ts";
import type { AccountInstruction as InstructionShape } from "./desktop-login.service.ts";

export const SealedSecret = builder.simpleObject("SealedSecret", {
  description:
    "A secret sealed (HPKE, RFC 9180, base mode) to one recipient's key; the field that carries it says to whom, with which info and associated data. " +
    "An account instruction's: to the workstation's key-agreement key, associated data `latchkey-account-v1|<workstationId>|<attemptId>|<expiresAt>`, info `latchkey account instruction v1`.",
  fields: (t) => ({
    suite: t.string({ description: "e.g. DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM" }),
    enc: t.string({ description: "The encapsulated key, base64url." }),
    ciphertext: t.string({ description: "base64url." }),
  }),
});

const AccountAction = builder.enumType("AccountAction", {
  description: "What the agent is told to do with the user's local Windows account.",
  values: { ENSURE_LOCAL_ACCOUNT: { description: "Create the local account, or take over the one of that name, with this password." } },
});

const AccountPasswordSource = builder.enumType("AccountPasswordSource", {
  description: "Where the local account's password comes from.",
  values: {
    SEALED: { description: "In `password`, sealed to this workstation (QR login)." },
    TYPED: { description: "What the user just typed at this workstation (password login): the agent already has it." },
    AGENT: {
      description:
        "The user has no directory password: the agent uses the local password it generated for this user on this workstation, " +
        "generating one at the first QR login. The server never knows it. With the master key on, also for a user whose phone had no copy of their password: " +
        "their directory password is then not synced on this workstation (the login event says so).",
    },
    PHONE: {
      description:
        "In `password`, sealed to this workstation by the user's phone (master key on): open it with the associated data " +
        "`latchkey-phone-delivery-v1|<workstationId>|<delivery.challengeId>|<delivery.passwordVersion>|<delivery.expiresAt>`, info `latchkey phone delivery v1`, " +
        "after checking that `delivery.challengeId` is the login this workstation started.",
    },
  },
});

const PasswordDeliveryBinding = builder.simpleObject("PasswordDeliveryBinding", {
  description: "What a password the user's phone re-sealed to the workstation is bound to.",
  fields: (t) => ({
    challengeId: t.id({ description: "The QR login the workstation started." }),
    passwordVersion: t.int({ description: "The user's password version." }),
    expiresAt: t.string({ description: "ISO 8601, as the phone wrote it: part of the associated data." }),
  }),
});

export const AccountInstruction = builder.objectRef<InstructionShape>("AccountInstruction").implement({
  description: "What the workstation must do to sign the user in. Act on it only before `expiresAt`, and only if it names this workstation.",
  fields: (t) => ({
    action: t.field({ type: AccountAction, description: "What to do with the local account.", resolve: (instruction) => instruction.action }),
    attemptId: t.exposeID("attemptId", { description: "The login event of this attempt; report the account outcome against it." }),
    workstationId: t.exposeID("workstationId", { description: "The workstation it is for: act on it only if that is this one." }),
    username: t.exposeString("username", { description: "The Windows local account name." }),
    fullName: t.exposeString("fullName", { description: "The user's first and last name, for the local account's full name." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "Act on it only before this: two minutes after it was issued." }),
    passwordSource: t.field({
      type: AccountPasswordSource,
      description: "Where the local account's password comes from.",
      resolve: (instruction) => instruction.passwordSource,
    }),
    password: t.field({
      type: SealedSecret,
      nullable: true,
      description: "The password sealed to this workstation when `passwordSource` is SEALED or PHONE; null otherwise.",
      resolve: (instruction) => instruction.password,
    }),
    delivery: t.field({
      type: PasswordDeliveryBinding,
      nullable: true,
      description: "PHONE: what the phone bound the password to.",
      resolve: (instruction) =>
        instruction.delivery ? { ...instruction.delivery, expiresAt: instruction.delivery.expiresAt.toISOString() } : null,
    }),
  }),
});

export const DesktopLoginPayload = builder.simpleObject("DesktopLoginPayload", {
  description: "What `finishDesktopPasswordLogin` and `redeemDesktopLogin` return when they succeed: the user is signed in.",
  fields: (t) => ({ instruction: t.field({ type: AccountInstruction, description: "What the workstation must do to sign the user in." }) }),
});

const DesktopTenant = builder.simpleObject("DesktopTenant", {
  description: "The organisation a workstation belongs to, as its login screen names it.",
  fields: (t) => ({
    id: t.id({ description: "The tenant's id." }),
    slug: t.string({ description: "Its slug, also its portal's subdomain." }),
    displayName: t.string({ description: "Its display name." }),
  }),
});

type DesktopConfigShape = { workstationId: string; tenant: TenantRow };

const DesktopConfig = builder.objectRef<DesktopConfigShape>("DesktopConfig").implement({
  description: "What a workstation's login screen needs: whether and how users sign in, and its branding.",
  fields: (t) => ({
    workstation: t.prismaField({
      type: Workstation,
      description: "The calling agent's own workstation.",
      resolve: (query, config, _args, ctx) => ctx.db.workstation.findUniqueOrThrow({ ...query, where: { id: config.workstationId } }),
    }),
    tenant: t.field({
      type: DesktopTenant,
      description: "The customer tenant the workstation belongs to.",
      resolve: ({ tenant }) => ({ id: tenant.id, slug: tenant.slug, displayName: tenant.displayName }),
    }),
    desktopLoginEnabled: t.boolean({
      description: "Whether the agent signs users in on this workstation (the customer's setting).",
      resolve: ({ tenant }) => tenant.desktopLoginEnabled,
    }),
    method: t.field({
      type: DesktopLoginMethod,
      description: "How users sign in: with their directory password, or passwordless with the login screen's QR code.",
      resolve: ({ tenant }) => tenant.desktopLoginMethod,
    }),
    passwordFallback: t.boolean({
      description: "With PASSWORDLESS: whether the password may still be typed.",
      resolve: ({ tenant }) => tenant.desktopPasswordFallback,
    }),
    branding: t.field({ type: Branding, description: "What the login screen shows.", resolve: ({ tenant }) => brandingOf(tenant) }),
  }),
});

builder.queryField("desktopConfig", (t) =>
  t.field({
    type: DesktopConfig,
    description: "For a desktop agent, with its workstation credential: its login screen's configuration and branding.",
    resolve: async (_root, _args, ctx) => {
      const workstation = requireWorkstation(ctx);
      const tenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: workstation.tenantId } });
      return { workstationId: workstation.id, tenant };
    },
  }),
);
