import { builder } from "../../builder.ts";
import { cursorIsInside } from "../../pagination.ts";

export const AuditEvent = builder.prismaObject("AuditEvent", {
  authScopes: (event) => ({ tenantAdmin: event.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id"),
    action: t.exposeString("action"),
    actorId: t.exposeID("actorId", { nullable: true }),
    actorLabel: t.exposeString("actorLabel", { nullable: true }),
    targetType: t.exposeString("targetType", { nullable: true }),
    targetId: t.exposeID("targetId", { nullable: true }),
    data: t.expose("data", { type: "JSON" }),
    ip: t.exposeString("ip", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.queryField("auditEvents", (t) =>
  t.prismaConnection({
    type: "AuditEvent",
    cursor: "id",
    nullable: true,
    description: "A tenant's audit log, newest first; null when the tenant is not one the viewer administers.",
    args: { tenantId: t.arg.id({ required: true }) },
    authScopes: (_root, args) => ({ tenantAdmin: String(args.tenantId) }),
    unauthorizedResolver: () => null,
    resolve: async (query, _root, args, ctx) => {
      const tenantId = String(args.tenantId);
      const inside = await cursorIsInside(query, async (id) => (await ctx.db.auditEvent.count({ where: { id, tenantId } })) > 0);
      if (!inside) return [];
      return ctx.db.auditEvent.findMany({ ...query, where: { tenantId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    },
  }),
);

builder.subscriptionField("auditEventAdded", (t) =>
  t.prismaField({
    type: "AuditEvent",
    description: "Live audit feed of a tenant the viewer administers.",
    args: { tenantId: t.arg.id({ required: true }) },
    authScopes: (_root, args) => ({ tenantAdmin: String(args.tenantId) }),
    subscribe: (_root, args, ctx) => ctx.pubsub.subscribe("auditEvent:added", String(args.tenantId)),
    resolve: (query, payload, _args, ctx) =>
      ctx.db.auditEvent.findUniqueOrThrow({ ...query, where: { id: (payload as { id: string }).id } }),
  }),
);
