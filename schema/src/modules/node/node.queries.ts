// `node(id:)` and `nodes(ids:)`: any object with an id, fetched again by that
// id alone. Each node type is read through the same reach its own lists use, so
// an object the viewer could not list answers null, exactly like a missing id;
// an API key also needs the permission that type's lists need.
import type { Prisma } from "@latchkey/db";
import { administeredTenants, managedUsers, visibleTenants, visibleUsers } from "../../access.ts";
import { builder } from "../../builder.ts";
import type { Context } from "../../context.ts";
import { ValidationError } from "../../errors.ts";
import { asNode, NodeInterface } from "../../node.ts";
import { requestLoader } from "../../request-loaders.ts";
import { isUuid } from "../../validation.ts";
import type { ApiKeyPermission } from "../api-key/api-key-permissions.ts";
import { viewerAuthenticatorsWhere } from "../authenticator/authenticator.service.ts";
import { activeSessionsOf } from "../session/session.service.ts";
import { managedWebhooks } from "../webhook/webhook.service.ts";

/** The most ids one `nodes` call takes, as the most rows a page holds. */
const MAX_IDS = 100;

type NodeType = {
  /** The rows among `ids` the viewer reaches. */
  find(ctx: Context, ids: string[]): Promise<{ id: string }[]>;
  /** What an API key needs to read it; null: no key may (the portal's own objects). */
  permission: ApiKeyPermission | null;
  /** Also read by a phone or a workstation's agent, which are not signed-in viewers: their own objects. */
  forDevices?: true;
};

const inIds = (ids: string[]) => ({ id: { in: ids } });
const administered = (ctx: Context) => ({ tenant: administeredTenants(ctx.viewer) });

/** Logs keep a tenant id without a relation: their rows are kept where the viewer administers that tenant. */
async function inAdministeredTenants<Row extends { tenantId: string }>(ctx: Context, rows: Row[]): Promise<Row[]> {
  const kept = await Promise.all(rows.map((row) => ctx.access.canAdministerTenant(row.tenantId)));
  return rows.filter((_row, index) => kept[index]);
}

const NODE_TYPES: Record<string, NodeType> = {
  Tenant: { permission: "READ_DIRECTORY", find: (ctx, ids) => ctx.db.tenant.findMany({ where: { AND: [inIds(ids), visibleTenants(ctx.viewer)] } }) },
  User: { permission: "READ_DIRECTORY", find: (ctx, ids) => ctx.db.user.findMany({ where: { AND: [inIds(ids), visibleUsers(ctx.viewer)] } }) },
  Workstation: { permission: "READ_WORKSTATIONS", find: (ctx, ids) => ctx.db.workstation.findMany({ where: { AND: [inIds(ids), administered(ctx)] } }) },
  InstallToken: { permission: "READ_WORKSTATIONS", find: (ctx, ids) => ctx.db.installToken.findMany({ where: { AND: [inIds(ids), administered(ctx)] } }) },
  AuditEvent: { permission: "READ_AUDIT", find: async (ctx, ids) => inAdministeredTenants(ctx, await ctx.db.auditEvent.findMany({ where: inIds(ids) })) },
  LoginEvent: { permission: "READ_LOGIN_EVENTS", find: async (ctx, ids) => inAdministeredTenants(ctx, await ctx.db.loginEvent.findMany({ where: inIds(ids) })) },
  TechnicianSession: { permission: null, find: async (ctx, ids) => inAdministeredTenants(ctx, await ctx.db.technicianSession.findMany({ where: inIds(ids) })) },
  // As `apiKeys`: a tenant's admins only.
  ApiKey: {
    permission: null,
    find: (ctx, ids) =>
      ctx.viewer?.role === "ADMIN" ? ctx.db.apiKey.findMany({ where: { AND: [inIds(ids), administered(ctx)] } }) : Promise.resolve([]),
  },
  Webhook: { permission: "MANAGE_WEBHOOKS", find: (ctx, ids) => ctx.db.webhook.findMany({ where: { AND: [inIds(ids), managedWebhooks(ctx)] } }) },
  // As `viewer.sessions`: the viewer's own open sessions.
  Session: { permission: null, find: (ctx, ids) => ctx.db.session.findMany({ where: { AND: [inIds(ids), activeSessionsOf(ctx)] } }) },
  // As `viewerAuthenticators` and `User.linkedAuthenticators`: the caller's own, and those of the users an admin manages.
  Authenticator: {
    permission: null,
    forDevices: true,
    find: (ctx, ids) => {
      if (!ctx.device && !ctx.viewer) return Promise.resolve([]);
      const reach: Prisma.AuthenticatorWhereInput[] = [viewerAuthenticatorsWhere(ctx)];
      if (ctx.viewer) reach.push({ revokedAt: null, user: managedUsers(ctx.viewer) });
      return ctx.db.authenticator.findMany({ where: { AND: [inIds(ids), { OR: reach }] } });
    },
  },
  // As `Tenant.technicianDelegations` (its MSP's admins, and keys that read the directory), and a technician's own.
  Delegation: {
    permission: "READ_DIRECTORY",
    find: async (ctx, ids) => {
      const rows = await ctx.db.delegation.findMany({ where: inIds(ids) });
      const kept = await Promise.all(rows.map((row) => row.technicianId === ctx.viewer?.userId || ctx.access.canManageDelegations(row.mspId)));
      return rows.filter((_row, index) => kept[index]);
    },
  },
  // As `Workstation.pendingCommands`: the agent's own, and its tenant's admins.
  WorkstationCommand: {
    permission: null,
    forDevices: true,
    find: async (ctx, ids) =>
      ctx.workstation
        ? ctx.db.workstationCommand.findMany({ where: { AND: [inIds(ids), { workstationId: ctx.workstation.id }] } })
        : inAdministeredTenants(ctx, await ctx.db.workstationCommand.findMany({ where: inIds(ids) })),
  },
  WebhookDelivery: {
    permission: "MANAGE_WEBHOOKS",
    find: (ctx, ids) => ctx.db.webhookDelivery.findMany({ where: { AND: [inIds(ids), { webhook: managedWebhooks(ctx) }] } }),
  },
};

/** The types a caller may read by id: for a signed-in viewer all of them, for an API key those its permissions cover, for a device its own. */
function readableTypes(ctx: Context) {
  if (!ctx.viewer) return Object.entries(NODE_TYPES).filter(([, type]) => (ctx.device || ctx.workstation) && type.forDevices);
  const key = ctx.viewer.apiKey;
  return Object.entries(NODE_TYPES).filter(([, type]) => !key || (type.permission !== null && (key.permissions as readonly string[]).includes(type.permission)));
}

/** Each id's object, or null, in the order asked: one query per node type, however many ids. */
async function loadNodes(ctx: Context, ids: string[]): Promise<({ id: string } | null)[]> {
  const wellFormed = [...new Set(ids.filter(isUuid))];
  if (wellFormed.length === 0) return ids.map(() => null);
  const found = new Map<string, { id: string }>();
  await Promise.all(
    readableTypes(ctx).map(async ([typeName, type]) => {
      for (const row of await type.find(ctx, wellFormed)) found.set(row.id, asNode(row, typeName));
    }),
  );
  return ids.map((id) => found.get(id) ?? null);
}

builder.queryFields((t) => ({
  node: t.field({
    type: NodeInterface,
    nullable: true,
    description: "The object with this id, of whichever type it is; null for an id the viewer could not list (another tenant's), existing or not.",
    args: { id: t.arg.id({ required: true, description: "The object's id." }) },
    resolve: async (_root, args, ctx) => (await loadNodes(ctx, [String(args.id)]))[0] ?? null,
  }),
  nodes: t.field({
    type: [NodeInterface],
    nullable: { list: false, items: true },
    description: `The objects with these ids, in the order asked; null in place of an id the viewer could not list. At most ${MAX_IDS} ids (more is refused with VALIDATION).`,
    args: { ids: t.arg.idList({ required: true, description: "The objects' ids." }) },
    resolve: (_root, args, ctx) => {
      if (args.ids.length > MAX_IDS) throw ValidationError.field("ids", `Ask for at most ${MAX_IDS} ids at a time`);
      return loadNodes(ctx, args.ids.map(String));
    },
  }),
}));

/** The request's batch of `node` lookups: every row of a page that names an object asks once, together. */
// Not cached: a subscription's context lives as long as it does, and a cache would grow with it and go stale.
const nodeLoader = (ctx: Context) => requestLoader(ctx, "node", (ids) => loadNodes(ctx, [...ids]), { cache: false });

builder.prismaObjectField("AuditEvent", "target", (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    description:
      "The object the event concerns, as `node(id: targetId)` answers it: null when there is none, it has since been deleted, or the viewer could not list it " +
      "(`targetType` and `targetId` still say what it was).",
    select: { targetId: true },
    resolve: (event, _args, ctx) => (event.targetId ? nodeLoader(ctx).load(event.targetId) : null),
  }),
);
