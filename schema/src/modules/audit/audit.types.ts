import { checkAuditChain, extendAuditChain } from "./audit-chain.ts";
import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { AuditEventConnection } from "../../connections.ts";
import type { Context } from "../../context.ts";
import { cursorIsInside } from "../../pagination.ts";
import { AUDIT_ACTIONS, auditEventKindName, type AuditAction } from "./audit-actions.ts";
import { auditTenants, auditWhere } from "./audit.service.ts";

export const AuditEventKind = builder.enumType("AuditEventKind", {
  description:
    "What an audit event records. Webhooks (`AUDIT_EVENT`) and the file export name the same thing `<object>.<verb>`: " +
    "USER_CREATED is `user.created`, USER_PASSWORD_CHANGED `user.passwordChanged`. New kinds may be added.",
  // Each value stands for its dotted action inside the server, so resolvers and filters work with the action itself.
  values: Object.fromEntries(
    Object.entries(AUDIT_ACTIONS).map(([action, description]) => [auditEventKindName(action), { value: action, description: `${description} As \`${action}\` in webhooks and exports.` }]),
  ) as Record<string, { value: AuditAction; description: string }>,
});

export const AuditEvent = builder.prismaObject("AuditEvent", {
  interfaces: [NodeInterface],
  description: "Something that happened in a tenant, who did it and to what. The log is append-only.",
  authScopes: (event) => ({ tenantAdmin: event.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The event's id." }),
    tenant: t.prismaField({
      type: "Tenant",
      description: "The tenant the event belongs to (an MSP-wide log mixes several).",
      resolve: (query, event, _args, ctx) => ctx.db.tenant.findUniqueOrThrow({ ...query, where: { id: event.tenantId } }),
    }),
    kind: t.field({
      type: AuditEventKind,
      description: "What happened.",
      resolve: (event) => event.action as AuditAction,
    }),
    action: t.exposeString("action", {
      description: "What happened, as `<object>.<verb>`: `user.created`, `session.loggedIn`, `customer.suspended` …",
      deprecationReason: "Use `kind` instead. Removed after 2027-06-30.",
    }),
    actorId: t.exposeID("actorId", {
      nullable: true,
      description: "Who did it: a user's id, or an API key's id, which may since have been deleted. Null when no one signed in acted: a failed sign-in, or a purge's checkpoint (`audit.purged`).",
    }),
    actorLabel: t.exposeString("actorLabel", {
      nullable: true,
      description: "The actor as named when it happened: `First Last <email>` for a user, `API key <name>` for a key; null with `actorId`.",
    }),
    targetType: t.exposeString("targetType", {
      nullable: true,
      description: "The kind of object it concerns: `User`, `Tenant`, `Session`, `Workstation`, `ApiKey`, `Webhook` …; null when none.",
    }),
    targetId: t.exposeID("targetId", { nullable: true, description: "The id of that object, which may since have been deleted; null when none." }),
    data: t.expose("data", { type: "JSON", description: "Details particular to the action, as a JSON object; `{}` when there are none." }),
    ip: t.exposeString("ip", { nullable: true, description: "The client address of the request that caused it, as the API saw it; null when there was none (a purge's checkpoint)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it happened." }),
  }),
});

export const AuditEventFilter = builder.inputType("AuditEventFilter", {
  description: "Narrows an audit log. Every field given must match.",
  fields: (t) => ({
    actorId: t.id({ description: "Only events made by this user (or API key)." }),
    kind: t.field({ type: AuditEventKind, description: "Only events of this kind, e.g. USER_CREATED." }),
    action: t.string({
      description: "Only events with exactly this action, e.g. `user.created`.",
      deprecationReason: "Use `kind` instead. Removed after 2027-06-30.",
    }),
    targetId: t.id({ description: "Only events about this object (a user, a workstation, a session …)." }),
    since: t.field({ type: "DateTime", description: "Only events at or after this time." }),
    until: t.field({ type: "DateTime", description: "Only events before this time." }),
  }),
});

type LogArgs = { tenantId: string | number; includeCustomers?: boolean | null; filter?: { actorId?: string | number | null; kind?: AuditAction | null; action?: string | null; targetId?: string | number | null; since?: Date | null; until?: Date | null } | null };

/** The `where` of a reading of the log: its tenants (NOT_FOUND outside the viewer's reach) and its filter. */
async function filteredLog(ctx: Context, args: LogArgs) {
  const tenantIds = await auditTenants(ctx, String(args.tenantId), args.includeCustomers ?? false);
  const filter = args.filter ?? {};
  return auditWhere(tenantIds, {
    ...filter,
    actorId: filter.actorId ? String(filter.actorId) : null,
    targetId: filter.targetId ? String(filter.targetId) : null,
  });
}

builder.queryField("auditEvents", (t) =>
  t.prismaConnection({
    type: "AuditEvent",
    cursor: "id",
    nullable: true,
    description:
      "A tenant's audit log, newest first; with `includeCustomers`, also that of every customer of it the viewer reaches (an MSP-wide log). " +
      "Null when the tenant is not one the viewer administers (or, MSP-wide, reaches a customer of).",
    args: {
      tenantId: t.arg.id({ required: true, description: "The tenant, or for an MSP-wide log the MSP." }),
      includeCustomers: t.arg.boolean({ defaultValue: false, description: "Also the audit logs of the tenant's customers the viewer reaches." }),
      filter: t.arg({ type: AuditEventFilter, description: "Only events that match." }),
    },
    // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
    authScopes: (_root, args, ctx) =>
      auditTenants(ctx, String(args.tenantId), args.includeCustomers ?? false).then(
        () => true,
        () => false,
      ),
    unauthorizedResolver: () => null,
    totalCount: async (_parent, args, ctx) =>
      ctx.db.auditEvent.count({ where: await filteredLog(ctx, args) }),
    resolve: async (query, _root, args, ctx) => {
      const where = await filteredLog(ctx, args);
      const inside = await cursorIsInside(query, async (id) => (await ctx.db.auditEvent.count({ where: { AND: [where, { id }] } })) > 0);
      if (!inside) return [];
      return ctx.db.auditEvent.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    },
  }, AuditEventConnection),
);

builder.subscriptionField("auditEventAdded", (t) =>
  t.prismaField({
    type: "AuditEvent",
    description: "Live audit feed of a tenant the viewer administers; NOT_FOUND for any other tenant, as for one that does not exist.",
    args: {
      tenantId: t.arg.id({
        required: true,
        description: "The tenant whose events to push (its own only, not its customers').",
      }),
    },
    subscribe: async (_root, args, ctx) => ctx.pubsub.subscribe("auditEvent:added", await ctx.access.administeredTenantId(String(args.tenantId))),
    resolve: (query, payload, _args, ctx) =>
      ctx.db.auditEvent.findUniqueOrThrow({ ...query, where: { id: (payload as { id: string }).id } }),
  }),
);

const AuditChainCheck = builder.simpleObject("AuditChainCheck", {
  description:
    "Whether a tenant's audit log is intact: its events are hash-chained as they are recorded, so an event altered or deleted in the database breaks the chain.",
  fields: (t) => ({
    intact: t.boolean({ description: "Every event matches its link, and every link follows the one before." }),
    length: t.int({ description: "How many events were checked (the oldest may have been purged by retention, which the chain allows)." }),
    brokenAtEventId: t.id({ nullable: true, description: "The first event that does not match, or the first after a gap." }),
    problem: t.string({ nullable: true, description: "What is wrong there, in words." }),
  }),
});

builder.queryField("auditChain", (t) =>
  t.field({
    type: AuditChainCheck,
    nullable: true,
    description: "Checks a tenant's audit chain (chaining any events not chained yet first). Null when the tenant is not one the viewer administers.",
    args: { tenantId: t.arg.id({ required: true, description: "The tenant whose log to check." }) },
    authScopes: (_root, args) => ({ tenantAdmin: String(args.tenantId) }),
    unauthorizedResolver: () => null,
    resolve: async (_root, args, ctx) => {
      const tenantId = String(args.tenantId);
      await extendAuditChain(ctx.db, tenantId);
      return checkAuditChain(ctx.db, tenantId);
    },
  }),
);
