import { builder } from "../../builder.ts";

builder.subscriptionField("loginEvents", (t) =>
  t.prismaField({
    type: "LoginEvent",
    description:
      "Live desktop logins of a customer tenant: each attempt as it is recorded, and again when its workstation reports the account outcome. " +
      "For the tenant's admins, its MSP's admins and delegated technicians; NOT_FOUND for anyone else.",
    args: { tenantId: t.arg.id({ required: true, description: "The tenant whose desktop logins to follow." }) },
    subscribe: async (_root, args, ctx) =>
      ctx.pubsub.subscribe("loginEvent:changed", await ctx.access.administeredTenantId(String(args.tenantId))),
    resolve: (query, payload, _args, ctx) =>
      ctx.db.loginEvent.findUniqueOrThrow({ ...query, where: { id: (payload as { id: string }).id } }),
  }),
);
