import { builder } from "../../builder.ts";
import { deprecatedFor } from "../../deprecations.ts";

const DESCRIPTION =
  "Live desktop logins of a customer tenant: each attempt as it is recorded, and again when its workstation reports the account outcome. " +
  "For the tenant's admins, its MSP's admins and delegated technicians; NOT_FOUND for anyone else.";

// `loginEvents` was named after the query; it pushes the same as `loginEventAdded` until it goes.
for (const [name, deprecationReason] of [
  ["loginEventAdded", undefined],
  ["loginEvents", deprecatedFor("loginEventAdded")],
] as const) {
  builder.subscriptionField(name, (t) =>
    t.prismaField({
      type: "LoginEvent",
      description: DESCRIPTION,
      deprecationReason,
      args: { tenantId: t.arg.id({ required: true, description: "The tenant whose desktop logins to follow." }) },
      subscribe: async (_root, args, ctx) =>
        ctx.pubsub.subscribe("loginEvent:changed", await ctx.access.administeredTenantId(String(args.tenantId))),
      resolve: (query, payload, _args, ctx) =>
        ctx.db.loginEvent.findUniqueOrThrow({ ...query, where: { id: (payload as { id: string }).id } }),
    }),
  );
}
