import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { InstallTokenConnection, WorkstationConnection } from "../../connections.ts";
import { cursorIsInside } from "../../pagination.ts";
import { isUuid } from "../../validation.ts";
import { installTokenStatus, requireWorkstation, workstationWhere } from "./workstation.service.ts";

export const WorkstationStatus = builder.enumType("WorkstationStatus", {
  description: "Whether an admin has let an enrolled workstation in.",
  values: {
    PENDING: { description: "Enrolled, waiting for an admin's approval: no challenges, no credentials." },
    APPROVED: { description: "May sign users in." },
  },
});

export const Workstation = builder.prismaObject("Workstation", {
  interfaces: [NodeInterface],
  description: "A customer's computer running the desktop agent.",
  // Admins of its tenant, and the workstation itself.
  authScopes: (workstation) => ({ $any: { tenantAdmin: workstation.tenantId, workstation: workstation.id } }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The workstation's id; also the `iss` and `sub` of its agent's credentials." }),
    name: t.exposeString("name", { description: "The admin-given name, shown on phones; the hostname until renamed." }),
    hostname: t.exposeString("hostname", { description: "The hostname the agent reported when it enrolled." }),
    os: t.exposeString("os", { description: "The operating system the agent reported when it enrolled." }),
    status: t.expose("status", { type: WorkstationStatus, description: "PENDING until an admin approves it (or its install token auto-approved it)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it enrolled." }),
    approvedAt: t.expose("approvedAt", { type: "DateTime", nullable: true, description: "When it was approved (at enrollment, for an auto-approving token); null while PENDING." }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", nullable: true, description: "When its agent last reached the service, to within a minute." }),
    lastSeenIp: t.exposeString("lastSeenIp", { nullable: true, description: "The IP address its agent reached the service from at `lastSeenAt`." }),
    canReceiveCredentials: t.boolean({
      description: "Whether it enrolled a key-agreement key that passwords can be sealed to.",
      resolve: (workstation) => workstation.keyAgreementPublicKey !== null,
    }),
    tenant: t.relation("tenant", { description: "The customer tenant it is enrolled in." }),
  }),
});

export const InstallTokenStatus = builder.enumType("InstallTokenStatus", {
  description: "Whether an install token can still enroll workstations. When several apply, REVOKED wins over EXPIRED, and EXPIRED over USED_UP.",
  values: {
    ACTIVE: { description: "Enrolls workstations." },
    EXPIRED: { description: "Past `expiresAt`." },
    USED_UP: { description: "It enrolled `maxUses` workstations." },
    REVOKED: { description: "An admin revoked it." },
  } as const,
});

export const InstallToken = builder.prismaObject("InstallToken", {
  interfaces: [NodeInterface],
  description: "Lets agents enroll workstations into one customer tenant. The secret is shown only when created.",
  authScopes: (token) => ({ tenantAdmin: token.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The install token's id (not its secret)." }),
    prefix: t.exposeString("prefix", { description: "The secret's first characters, to tell tokens apart." }),
    autoApprove: t.exposeBoolean("autoApprove", { description: "Whether workstations enrolled with it are APPROVED at once instead of PENDING." }),
    maxUses: t.exposeInt("maxUses", { description: "How many workstations it may enroll." }),
    uses: t.exposeInt("uses", { description: "How many workstations it has enrolled." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "When it stops enrolling workstations." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When an admin revoked it; null unless revoked." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    status: t.field({ type: InstallTokenStatus, description: "Whether it can still enroll workstations, and if not, why.", resolve: (token) => installTokenStatus(token) }),
  }),
});

builder.queryFields((t) => ({
  workstations: t.prismaConnection({
    type: "Workstation",
    cursor: "id",
    nullable: true,
    description: "A customer tenant's workstations, pending first, then newest first. Null for a tenant the viewer does not administer.",
    args: { tenantId: t.arg.id({ required: true, description: "The customer tenant." }) },
    // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
    authScopes: (_root, args) => ({ tenantAdmin: String(args.tenantId) }),
    unauthorizedResolver: () => null,
    totalCount: (_parent, args, ctx) => ctx.db.workstation.count({ where: { tenantId: String(args.tenantId) } }),
    resolve: async (query, _root, args, ctx) => {
      const where = { tenantId: String(args.tenantId) };
      const inside = await cursorIsInside(query, async (id) => (await ctx.db.workstation.count({ where: { ...where, id } })) > 0);
      if (!inside) return [];
      return ctx.db.workstation.findMany({ ...query, where, orderBy: [{ status: "asc" }, { createdAt: "desc" }, { id: "asc" }] });
    },
  }, WorkstationConnection),
  workstation: t.prismaField({
    type: "Workstation",
    nullable: true,
    description: "A workstation the viewer administers; null for any other id.",
    args: { id: t.arg.id({ required: true, description: "The workstation's id." }) },
    resolve: (query, _root, args, ctx) => {
      const id = String(args.id);
      if (!isUuid(id)) return null;
      return ctx.db.workstation.findFirst({ ...query, where: { AND: [{ id }, workstationWhere(ctx)] } });
    },
  }),
  agentWorkstation: t.prismaField({
    type: "Workstation",
    description:
      "For a desktop agent (workstation credential): its own workstation, with its login history (`loginEvents`). UNAUTHENTICATED for any other caller, and for a workstation that was removed.",
    resolve: (query, _root, _args, ctx) => ctx.db.workstation.findUniqueOrThrow({ ...query, where: { id: requireWorkstation(ctx).id } }),
  }),
  installTokens: t.prismaField({
    type: ["InstallToken"],
    deprecationReason: "Use `Tenant.installTokens`, a connection; removed after 2027-06-30.",
    description: "A customer tenant's install tokens, newest first (at most 100). NOT_FOUND for a tenant the viewer does not administer.",
    args: { tenantId: t.arg.id({ required: true, description: "The customer tenant." }) },
    resolve: async (query, _root, args, ctx) => {
      const tenantId = await ctx.access.administeredTenantId(String(args.tenantId));
      return ctx.db.installToken.findMany({ ...query, where: { tenantId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], take: 100 });
    },
  }),
}));

builder.prismaObjectFields("Tenant", (t) => ({
  workstationCount: t.relationCount("workstations", { description: "Enrolled workstations, pending or approved." }),
  installTokens: t.prismaConnection(
    {
      type: "InstallToken",
      cursor: "id",
      nullable: true,
      description: "The tenant's install tokens, newest first, revoked and expired ones included. Null unless the viewer administers the tenant.",
      authScopes: (tenant) => ({ tenantAdmin: tenant.id }),
      unauthorizedResolver: () => null,
      totalCount: (tenant, _args, ctx) => ctx.db.installToken.count({ where: { tenantId: tenant.id } }),
      resolve: async (query, tenant, _args, ctx) => {
        const where = { tenantId: tenant.id };
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.installToken.count({ where: { ...where, id } })) > 0);
        if (!inside) return [];
        return ctx.db.installToken.findMany({ ...query, where, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      },
    },
    InstallTokenConnection,
  ),
}));

const WorkstationChangeKind = builder.enumType("WorkstationChangeKind", {
  description: "What happened to a workstation.",
  values: {
    ENROLLED: { description: "An agent enrolled it with an install token (already APPROVED when the token auto-approves)." },
    APPROVED: { description: "An admin approved it." },
    RENAMED: { description: "An admin renamed it." },
    REMOVED: { description: "An admin removed it; its credential no longer works." },
  } as const,
});

type ChangeShape = { id: string; change: "ENROLLED" | "APPROVED" | "RENAMED" | "REMOVED" };

const WorkstationChange = builder.objectRef<ChangeShape>("WorkstationChange").implement({
  description: "Something happened to one of a tenant's workstations; re-read lists and install-token uses.",
  fields: (t) => ({
    workstationId: t.id({ description: "The workstation it happened to; given also once it is removed.", resolve: (change) => change.id }),
    change: t.field({ type: WorkstationChangeKind, description: "What happened.", resolve: (change) => change.change }),
    workstation: t.prismaField({
      type: "Workstation",
      nullable: true,
      description: "Its current state; null once removed.",
      resolve: (query, change, _args, ctx) => ctx.db.workstation.findUnique({ ...query, where: { id: change.id } }),
    }),
  }),
});

builder.subscriptionField("workstationChanged", (t) =>
  t.field({
    type: WorkstationChange,
    description: "Live changes to a customer tenant's workstations (enrolled, approved, renamed, removed), for those who administer it; NOT_FOUND otherwise.",
    args: { tenantId: t.arg.id({ required: true, description: "The customer tenant." }) },
    subscribe: async (_root, args, ctx) => {
      return ctx.pubsub.subscribe("workstation:changed", await ctx.access.administeredTenantId(String(args.tenantId)));
    },
    resolve: (payload) => payload,
  }),
);
