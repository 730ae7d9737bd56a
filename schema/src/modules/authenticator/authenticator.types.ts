import { builder } from "../../builder.ts";

export const DeviceKeyAlgorithm = builder.enumType("DeviceKeyAlgorithm", { values: ["P256", "ED25519"] as const });

export const Authenticator = builder.prismaObject("Authenticator", {
  description: "A phone that approves sign-ins for its user.",
  // The phone itself, its user, and admins of that user's tenant.
  authScopes: (authenticator, ctx) => {
    if (authenticator.id === ctx.device?.authenticatorId) return true;
    if (!authenticator.userId || !authenticator.tenantId) return false;
    return { $any: { self: authenticator.userId, tenantAdmin: authenticator.tenantId } };
  },
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    algorithm: t.expose("algorithm", { type: DeviceKeyAlgorithm }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    user: t.relation("user", { nullable: true }),
  }),
});
