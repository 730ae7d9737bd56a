import { builder } from "../../builder.ts";
import type { TenantKeyAnswer } from "../../security/tenant-keys.ts";
import { isUuid } from "../../validation.ts";
import { visibleTenants } from "../../access.ts";

export const TenantKeyCustody = builder.enumType("TenantKeyCustody", {
  description: "Who holds the tenant's private key and signing key.",
  values: {
    ESCROW: {
      description:
        "The server, wrapped under its key-encryption key (the master key is off): the statement guards against a key swapped in transit or in the database, and pins the epoch, but the server signs it.",
    },
    MASTER_KEY: { description: "Only the customer's holders (admins' phones, recovery kits): the server cannot sign a statement." },
  } as const,
});

export const TenantKeyHolderKind = builder.enumType("TenantKeyHolderKind", {
  description: "What holds a copy of a customer's key while the master key is on.",
  values: {
    PHONE: { description: "An admin's phone (an authenticator), which works with the key when its admin approves." },
    RECOVERY_KIT: { description: "A recovery kit: a code on paper that opens its copy when typed into a new admin phone." },
  } as const,
});

const TenantKeyHolderEntry = builder.simpleObject("TenantKeyHolderEntry", {
  description: "One holder line of a master key statement.",
  fields: (t) => ({
    kind: t.field({ type: TenantKeyHolderKind, description: "A phone or a recovery kit." }),
    id: t.id({ description: "The phone's authenticator id, or the recovery kit's id." }),
    keyAgreementKey: t.string({ description: "The holder's X25519 key-agreement key, raw, base64url." }),
  }),
});

const TenantKeyLink = builder.simpleObject("TenantKeyLink", {
  description: "A superseded epoch's signed statement.",
  fields: (t) => ({
    epoch: t.int({ description: "The superseded epoch." }),
    statement: t.string({ description: "Its statement, as it was signed (the same lines as `TenantKey.statement`)." }),
    signature: t.string({ description: "By the epoch's own signing key." }),
    handover: t.string({ nullable: true, description: "By the previous epoch's signing key; null for epoch 1." }),
  }),
});

export const TenantKey = builder.objectRef<TenantKeyAnswer>("TenantKey").implement({
  description:
    "A customer tenant's public key, as a statement signed by the tenant's signing key. Seal to `publicKey` only after verifying " +
    "`signature` over `statement` (verifyTenantKey in @latchkey/passwords), and pin the signing key and the highest epoch seen: refuse a lower epoch " +
    "or another signing key. The statement is UTF-8 lines joined by newlines: `latchkey-tenant-key-v1`, tenant id, epoch, HPKE suite, public key, signing key, custody, then (MASTER_KEY) one `holder <kind> <id> <key-agreement key>` line per holder.",
  fields: (t) => ({
    tenantId: t.exposeID("tenantId", { description: "The customer tenant whose key it is (the statement names it too)." }),
    epoch: t.exposeInt("epoch", { description: "The key's generation; never goes down." }),
    publicKey: t.exposeString("publicKey", { description: "Raw X25519, base64url without padding: what passwords are sealed to." }),
    signingKey: t.exposeString("signingKey", { description: "The tenant's Ed25519 signing key, raw, base64url without padding." }),
    custody: t.field({
      type: TenantKeyCustody,
      description: "Who holds the private key: the server (ESCROW) or only the customer's holders (MASTER_KEY).",
      resolve: (key) => key.custody,
    }),
    statement: t.exposeString("statement", {
      description: "The signed text. The fields above repeat it for reading only: seal to the public key of the statement you verified, never to a field beside it.",
    }),
    signature: t.exposeString("signature", { description: "Ed25519 over `statement`, base64url without padding." }),
    handover: t.exposeString("handover", {
      nullable: true,
      description: "After epoch 1: the previous epoch's signing key's Ed25519 signature over `statement`, so a client pinned at that epoch can trust this one.",
    }),
    holders: t.field({
      type: [TenantKeyHolderEntry],
      description: "MASTER_KEY: who holds the private key, as the statement lists them (for reading; the statement is what counts).",
      resolve: (key) => key.holders,
    }),
    history: t.field({
      type: [TenantKeyLink],
      description: "The statements of the earlier epochs, oldest first: follow their hand-overs from the epoch you pinned to this one.",
      resolve: (key) => key.history,
    }),
  }),
});

builder.queryField("tenantKey", (t) =>
  t.field({
    type: TenantKey,
    nullable: true,
    description:
      "The key a customer tenant's secrets are sealed to, signed. For anyone who may see the tenant (its users, its MSP's admins, " +
      "delegated technicians), its workstations and its users' phones; null for any other id, existing or not, and for an MSP (whose users' passwords are never sealed).",
    args: { tenantId: t.arg.id({ required: true, description: "The customer tenant's id." }) },
    resolve: async (_root, args, ctx) => {
      const tenantId = String(args.tenantId);
      if (!isUuid(tenantId)) return null;
      const reach = ctx.workstation
        ? { id: ctx.workstation.tenantId }
        : ctx.device
          ? { users: { some: { authenticators: { some: { id: ctx.device.authenticatorId, revokedAt: null } } } } }
          : visibleTenants(ctx.viewer);
      const tenant = await ctx.db.tenant.findFirst({ where: { AND: [{ id: tenantId, kind: "CUSTOMER" }, reach] }, select: { id: true } });
      return tenant ? ctx.tenantKeys.statementFor(ctx.db, tenant.id) : null;
    },
  }),
);
