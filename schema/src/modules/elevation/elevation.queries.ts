import type { Prisma } from "@latchkey/db";
import { filter, pipe } from "graphql-yoga";
import { administeredTenants, reachableCustomers } from "../../access.ts";
import { builder } from "../../builder.ts";
import { TechnicianSessionConnection, WorkstationCommandConnection } from "../../connections.ts";
import type { Context } from "../../context.ts";
import { deprecatedFor } from "../../deprecations.ts";
import { NotFoundError } from "../../errors.ts";
import { cursorIsInside } from "../../pagination.ts";
import { isUuid } from "../../validation.ts";
import { PORTAL_ONLY } from "../api-key/api-key-permissions.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { OPEN_STATUSES, recheckWorkstationSessions, settleSessions } from "./elevation.service.ts";
import { pendingCommandsOf } from "./workstation-command.service.ts";

/**
 * The customers a feed or history of `tenantId` covers: a customer the viewer
 * administers, or, for the viewer's own MSP, every customer they reach.
 * NOT_FOUND otherwise, like a missing id.
 */
export async function sessionScope(ctx: Context, tenantId: string): Promise<{ routeKey: string; customerIds: string[] | null }> {
  if (!isUuid(tenantId) || !ctx.viewer) throw new NotFoundError("Tenant");
  if (ctx.viewer.tenantKind === "MSP" && ctx.viewer.tenantId === tenantId) return { routeKey: tenantId, customerIds: null };
  const customer = await ctx.db.tenant.findFirst({ where: { AND: [{ id: tenantId, kind: "CUSTOMER" }, administeredTenants(ctx.viewer)] }, select: { id: true } });
  if (!customer) throw new NotFoundError("Tenant");
  return { routeKey: tenantId, customerIds: [tenantId] };
}

builder.queryFields((t) => ({
  technicianSessions: t.prismaConnection({
    type: "TechnicianSession",
    cursor: "id",
    nullable: true,
    description:
      "Technician sessions, newest first: of a customer (for those who administer it), or with the viewer's MSP as `tenantId`, of every customer the viewer reaches. " +
      "Null for a tenant the viewer cannot reach.",
    args: {
      tenantId: t.arg.id({ required: true, description: "A customer the viewer administers, or the viewer's own MSP for every customer the viewer reaches." }),
      active: t.arg.boolean({ description: "true: only open sessions; false: only ended ones; absent: all." }),
      workstationId: t.arg.id({ description: "Only this workstation's." }),
      technicianId: t.arg.id({ description: "Only this technician's." }),
    },
    // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
    authScopes: (_root, args, ctx) => sessionScope(ctx, String(args.tenantId)).then(() => true, () => false),
    unauthorizedResolver: () => null,
    totalCount: async (_parent, args, ctx) => ctx.db.technicianSession.count({ where: await sessionsWhere(ctx, args) }),
    resolve: async (query, _root, args, ctx) => {
      const where = await sessionsWhere(ctx, args);
      await settleSessions(ctx, where);
      const inside = await cursorIsInside(query, async (id) => (await ctx.db.technicianSession.count({ where: { AND: [where, { id }] } })) > 0);
      if (!inside) return [];
      return ctx.db.technicianSession.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    },
  }, TechnicianSessionConnection),
  pendingWorkstationCommands: t.prismaField({
    type: ["WorkstationCommand"],
    description: "For a desktop agent (workstation credential): commands it has not acknowledged, oldest first (at most 100). Ask at every (re)connect and every minute.",
    deprecationReason: deprecatedFor("agentWorkstation.pendingCommands"),
    resolve: async (query, _root, _args, ctx) => {
      const workstationId = requireWorkstation(ctx).id;
      await recheckWorkstationSessions(ctx, workstationId);
      return ctx.db.workstationCommand.findMany({ ...query, where: pendingCommandsOf(workstationId), orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: 100 });
    },
  }),
}));

builder.prismaObjectField("Workstation", "pendingCommands", (t) =>
  t.prismaConnection(
    {
      type: "WorkstationCommand",
      cursor: "id",
      nullable: true,
      description:
        "Commands its agent has not acknowledged, oldest first. The agent asks (`agentWorkstation { pendingCommands }`) at every (re)connect and every minute, " +
        "and when `hasNextPage` asks for the first page again once it has acknowledged this one. Null unless the viewer is this workstation's agent or administers its tenant (never an API key).",
      authScopes: (workstation) => ({ $all: { apiKeyPermission: PORTAL_ONLY, $any: { workstation: workstation.id, tenantAdmin: workstation.tenantId } } }) as const,
      unauthorizedResolver: () => null,
      totalCount: (workstation, _args, ctx) => ctx.db.workstationCommand.count({ where: pendingCommandsOf(workstation.id) }),
      resolve: async (query, workstation, _args, ctx) => {
        // The agent asking is when a technician session whose end it missed is settled.
        if (ctx.workstation?.id === workstation.id) await recheckWorkstationSessions(ctx, workstation.id);
        const where = pendingCommandsOf(workstation.id);
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.workstationCommand.count({ where: { AND: [where, { id }] } })) > 0);
        if (!inside) return [];
        return ctx.db.workstationCommand.findMany({ ...query, where, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      },
    },
    WorkstationCommandConnection,
  ),
);

async function sessionsWhere(
  ctx: Context,
  args: { tenantId: string | number; active?: boolean | null; workstationId?: string | number | null; technicianId?: string | number | null },
): Promise<Prisma.TechnicianSessionWhereInput> {
  const scope = await sessionScope(ctx, String(args.tenantId));
  const tenants = scope.customerIds ?? (await ctx.db.tenant.findMany({ where: reachableCustomers(ctx.viewer), select: { id: true } })).map((tenant) => tenant.id);
  const filters: Prisma.TechnicianSessionWhereInput[] = [{ tenantId: { in: tenants } }];
  if (args.active === true) filters.push({ status: { in: [...OPEN_STATUSES] } });
  if (args.active === false) filters.push({ status: { notIn: [...OPEN_STATUSES] } });
  if (args.workstationId) filters.push({ workstationId: isUuid(String(args.workstationId)) ? String(args.workstationId) : "00000000-0000-0000-0000-000000000000" });
  if (args.technicianId) filters.push({ technicianId: isUuid(String(args.technicianId)) ? String(args.technicianId) : "00000000-0000-0000-0000-000000000000" });
  return { AND: filters };
}

builder.subscriptionField("technicianSessionChanged", (t) =>
  t.prismaField({
    type: "TechnicianSession",
    description:
      "Live technician sessions: each one as it is requested, approved, started and ended. `tenantId` is a customer the viewer administers, " +
      "or the viewer's MSP for every customer they reach. NOT_FOUND otherwise.",
    args: { tenantId: t.arg.id({ required: true, description: "A customer the viewer administers, or the viewer's own MSP for every customer the viewer reaches." }) },
    subscribe: async (_root, args, ctx) => {
      const scope = await sessionScope(ctx, String(args.tenantId));
      const source = ctx.pubsub.subscribe("technicianSession:changed", scope.routeKey);
      if (scope.customerIds) return source;
      // MSP-wide: each event is checked against what the viewer reaches now.
      return pipe(
        source,
        filter(async (payload: { tenantId: string }) => (await ctx.db.tenant.count({ where: { AND: [{ id: payload.tenantId }, reachableCustomers(ctx.viewer)] } })) > 0),
      );
    },
    resolve: (query, payload, _args, ctx) => ctx.db.technicianSession.findUniqueOrThrow({ ...query, where: { id: (payload as unknown as { id: string }).id } }),
  }),
);

// `workstationCommands` was named for the list, not for what it pushes; it stays until it goes.
for (const [name, deprecationReason] of [
  ["workstationCommandAdded", undefined],
  ["workstationCommands", deprecatedFor("workstationCommandAdded")],
] as const) {
  builder.subscriptionField(name, (t) =>
    t.prismaField({
      type: "WorkstationCommand",
      description: "For a desktop agent (workstation credential): each new command as it is issued. Also ask `agentWorkstation { pendingCommands }` at every (re)connect.",
      deprecationReason,
      subscribe: (_root, _args, ctx) => ctx.pubsub.subscribe("workstationCommand:added", requireWorkstation(ctx).id),
      resolve: (query, payload, _args, ctx) => ctx.db.workstationCommand.findUniqueOrThrow({ ...query, where: { id: (payload as { id: string }).id } }),
    }),
  );
}
