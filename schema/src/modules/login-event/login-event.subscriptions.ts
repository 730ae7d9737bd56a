import { builder } from "../../builder.ts";
import { NotFoundError } from "../../errors.ts";
import { isUuid } from "../../validation.ts";

builder.subscriptionField("loginEvents", (t) =>
  t.prismaField({
    type: "LoginEvent",
    description:
      "Live desktop logins of a customer tenant: each attempt as it is recorded, and again when its workstation reports the account outcome. " +
      "For the tenant's admins, its MSP's admins and delegated technicians; NOT_FOUND for anyone else.",
    args: { tenantId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const tenantId = String(args.tenantId);
      if (!isUuid(tenantId) || !(await ctx.access.canAdministerTenant(tenantId))) throw new NotFoundError("Tenant");
      return ctx.pubsub.subscribe("loginEvent:changed", tenantId);
    },
    resolve: (query, payload, _args, ctx) =>
      ctx.db.loginEvent.findUniqueOrThrow({ ...query, where: { id: (payload as { id: string }).id } }),
  }),
);
