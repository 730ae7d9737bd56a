import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { ApiKeyConnection } from "../../connections.ts";
import { cursorIsInside } from "../../pagination.ts";
import { API_KEY_PERMISSIONS } from "./api-key-permissions.ts";
import { apiKeyStatus, apiKeyTenant } from "./api-key.service.ts";

export const ApiKeyPermission = builder.enumType("ApiKeyPermission", {
  description: "What an API key may do. Each operation an integration may call needs exactly one; everything else is refused for keys.",
  values: Object.fromEntries(Object.entries(API_KEY_PERMISSIONS).map(([name, description]) => [name, { description }])) as {
    [K in keyof typeof API_KEY_PERMISSIONS]: { description: string };
  },
});

export const ApiKeyStatus = builder.enumType("ApiKeyStatus", {
  description: "Whether a key is accepted.",
  values: {
    ACTIVE: { description: "Accepted." },
    EXPIRED: { description: "Past its expiry: refused." },
    REVOKED: { description: "Revoked by an admin: refused on every instance at once." },
  },
});

export const ApiKey = builder.prismaObject("ApiKey", {
  interfaces: [NodeInterface],
  description: "A service account's key for an integration (PSA, RMM, SIEM, script). Its secret was shown once, when it was created.",
  authScopes: (key) => ({ tenantAdmin: key.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The key's id (not its secret)." }),
    name: t.exposeString("name", { description: "What the key is for; audit events by the key name it as `API key <name>`." }),
    prefix: t.exposeString("prefix", { description: "The secret's first characters (`lk_` and 8 hex digits), to tell keys apart." }),
    permissions: t.field({
      type: [ApiKeyPermission],
      description: "What the key may do.",
      resolve: (key) => key.permissions as (keyof typeof API_KEY_PERMISSIONS)[],
    }),
    allCustomers: t.exposeBoolean("allCustomers", { description: "An MSP key that acts on every customer of the MSP, present and future." }),
    customerIds: t.field({
      type: ["ID"],
      description: "An MSP key's customers (besides the MSP itself) when it does not act on all of them.",
      resolve: (key) => key.customerIds,
    }),
    allowedSourceRanges: t.field({
      type: ["String"],
      description: "CIDR ranges (IPv4 or IPv6) requests with this key must come from; empty: anywhere.",
      resolve: (key) => key.allowedRanges,
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true, description: "When the key stops working; null: never." }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true, description: "Its last use, to the minute." }),
    lastUsedIp: t.exposeString("lastUsedIp", { nullable: true, description: "The client address of that use." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When it was revoked, if it was." }),
    status: t.field({ type: ApiKeyStatus, description: "Whether it is accepted now.", resolve: (key, _args, ctx) => apiKeyStatus(key, ctx.clock.now()) }),
    tenant: t.relation("tenant", { description: "The tenant the key belongs to." }),
  }),
});

builder.queryField("apiKeys", (t) =>
  t.prismaConnection(
    {
      type: "ApiKey",
      cursor: "id",
      nullable: true,
      description:
        "A tenant's API keys, newest first, revoked ones included. Pages hold 20 by default and at most 100 (more is refused). " +
        "Null when the viewer is not an admin who administers the tenant.",
      args: { tenantId: t.arg.id({ required: true, description: "The tenant whose keys to list." }) },
      // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
      authScopes: async (_root, args, ctx) => (await apiKeyTenant(ctx, String(args.tenantId))) !== null,
      unauthorizedResolver: () => null,
      totalCount: (_parent, args, ctx) => ctx.db.apiKey.count({ where: { tenantId: String(args.tenantId) } }),
      resolve: async (query, _root, args, ctx) => {
        const tenantId = String(args.tenantId);
        const where = { tenantId };
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.apiKey.count({ where: { ...where, id } })) > 0);
        if (!inside) return [];
        return ctx.db.apiKey.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      },
    }, ApiKeyConnection),
);
