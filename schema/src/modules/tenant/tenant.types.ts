import type { Prisma } from "@latchkey/db";
import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { DelegationConnection, TenantConnection, UserConnection } from "../../connections.ts";
import { deprecatedFor } from "../../deprecations.ts";
import type { Context } from "../../context.ts";
import { reachableCustomers, visibleTenants } from "../../access.ts";
import { cursorIsInside } from "../../pagination.ts";
import { requestLoader } from "../../request-loaders.ts";
import { hasNul, isUuid } from "../../validation.ts";

export const TenantKind = builder.enumType("TenantKind", {
  description: "Whether a tenant is an MSP or one of its customers.",
  values: {
    MSP: { description: "A managed service provider: its admins and technicians look after its customers." },
    CUSTOMER: { description: "A customer of an MSP: its users sign in to the portal and to its workstations." },
  } as const,
});
export const TenantStatus = builder.enumType("TenantStatus", {
  description: "Whether a tenant's people may sign in.",
  values: {
    ACTIVE: { description: "In use." },
    SUSPENDED: { description: "A customer its MSP suspended: data kept, nobody of it signs in, its workstations refuse logins." },
  },
});
export const UserSource = builder.enumType("UserSource", {
  description: "Where a tenant's users come from.",
  values: { LOCAL: { description: "Users live in this cloud directory." } },
});

export const Tenant = builder.prismaObject("Tenant", {
  interfaces: [NodeInterface],
  description: "An MSP, or one of its customers. Every directory object belongs to exactly one tenant.",
  // Only the columns a query asks for are read (a page of customers needs a
  // few). Scopes and checks read these three, so they are always selected.
  select: { id: true, kind: true, parentId: true },
  authScopes: (tenant) => ({ tenantVisible: tenant.id }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The tenant's id." }),
    kind: t.expose("kind", { type: TenantKind, description: "An MSP, or a customer of one." }),
    slug: t.exposeString("slug", { description: "Also the tenant's subdomain." }),
    name: t.exposeString("name", { description: "A customer's short name (its slug without the `-<msp slug>`); an MSP's slug." }),
    displayName: t.exposeString("displayName", { description: "The tenant's name as people see it." }),
    userSource: t.expose("userSource", { type: UserSource, description: "Where the tenant's users come from." }),
    status: t.expose("status", { type: TenantStatus, description: "Whether the tenant's people may sign in (a customer may be suspended)." }),
    suspendedAt: t.expose("suspendedAt", { type: "DateTime", nullable: true, description: "When the customer was suspended; null while active." }),
    auditRetentionDays: t.int({
      nullable: true,
      select: { auditRetentionDays: true },
      description: "How many days audit events are kept before they are purged (a purge is itself an audit event). Null unless the viewer administers the tenant.",
      resolve: async (tenant, _args, ctx) => ((await ctx.access.canAdministerTenant(tenant.id)) ? tenant.auditRetentionDays : null),
    }),
    signInRequiresPhone: t.exposeBoolean("signInRequiresPhone", {
      description: "Whether a portal password sign-in of this tenant's users is followed by an approval on their own phone before a session opens. On for MSPs from sign-up; only an admin switches it off.",
    }),
    mspMayHoldMasterKey: t.exposeBoolean("mspMayHoldMasterKey", {
      description: "A customer's choice: whether its MSP's admins' and delegated technicians' phones may hold its master key. Off unless the customer's own admin switches it on.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the tenant was created." }),
    parent: t.prismaField({
      type: "Tenant",
      nullable: true,
      description: "The customer's MSP, when the viewer may see it; otherwise null.",
      resolve: async (query, tenant, _args, ctx) =>
        tenant.parentId
          ? ctx.db.tenant.findFirst({ ...query, where: { AND: [{ id: tenant.parentId }, visibleTenants(ctx.viewer)] } })
          : null,
    }),
    userCount: t.relationCount("users", { description: "How many users the tenant has, disabled ones included." }),
    // Counted for a whole page in one grouped query: a second count of `users`
    // with a filter cannot join the page's own query, and would cost one query per row.
    adminCount: t.int({
      description: "How many of the tenant's users are admins, disabled ones included.",
      resolve: (tenant, _args, ctx) =>
        requestLoader<number>(ctx, "adminCount", async (tenantIds) => {
          const rows = await ctx.db.user.groupBy({ by: ["tenantId"], where: { tenantId: { in: [...tenantIds] }, role: "ADMIN" }, _count: { _all: true } });
          const counts = new Map(rows.map((row) => [row.tenantId, row._count._all]));
          return tenantIds.map((id) => counts.get(id) ?? 0);
        }).load(tenant.id),
    }),
    technicianCount: t.relationCount("delegations", {
      description: "Technicians with a delegation to this customer (MSP admins reach every customer anyway).",
    }),
    customers: t.prismaConnection({
      type: "Tenant",
      cursor: "id",
      totalCount: (tenant, _args, ctx) => ctx.db.tenant.count({ where: { AND: [{ parentId: tenant.id }, reachableCustomers(ctx.viewer)] } }),
      description: "An MSP's customers that the viewer reaches.",
      resolve: async (query, tenant, _args, ctx) => {
        return customerPage(ctx, query, { AND: [{ parentId: tenant.id }, reachableCustomers(ctx.viewer)] });
      },
    }, TenantConnection),
    users: t.prismaConnection({
      type: "User",
      cursor: "id",
      nullable: true,
      description: "The tenant's directory; null unless the viewer administers the tenant.",
      authScopes: (tenant) => ({ tenantAdmin: tenant.id }),
      unauthorizedResolver: () => null,
      totalCount: (tenant, _args, ctx) => ctx.db.user.count({ where: { tenantId: tenant.id } }),
      resolve: async (query, tenant, _args, ctx) => {
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.user.count({ where: { id, tenantId: tenant.id } })) > 0);
        if (!inside) return [];
        return ctx.db.user.findMany({ ...query, where: { tenantId: tenant.id }, orderBy: [{ lastName: "asc" }, { firstName: "asc" }, { id: "asc" }] });
      },
    }, UserConnection),
    delegations: t.relation("delegations", {
      nullable: true,
      authScopes: (tenant) => ({ mspAdmin: tenant.parentId ?? "" }),
      unauthorizedResolver: () => null,
      description: "Which technicians have access to this customer; MSP admins only.",
      deprecationReason: deprecatedFor("technicianDelegations"),
      query: { orderBy: { createdAt: "asc" } },
    }),
    technicianDelegations: t.prismaConnection(
      {
        type: "Delegation",
        cursor: "id",
        nullable: true,
        description: "Which technicians have access to this customer, oldest grant first; null unless the viewer is an admin of its MSP.",
        authScopes: (tenant) => ({ mspAdmin: tenant.parentId ?? "" }),
        unauthorizedResolver: () => null,
        totalCount: (tenant, _args, ctx) => ctx.db.delegation.count({ where: { customerId: tenant.id } }),
        resolve: async (query, tenant, _args, ctx) => {
          const where = { customerId: tenant.id };
          const inside = await cursorIsInside(query, async (id) => (await ctx.db.delegation.count({ where: { ...where, id } })) > 0);
          if (!inside) return [];
          return ctx.db.delegation.findMany({ ...query, where, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
        },
      },
      DelegationConnection,
    ),
    viewerCanManageUsers: t.boolean({
      description: "Whether the viewer administers the tenant and so may create, edit, disable and delete its users.",
      resolve: (tenant, _args, ctx) => ctx.access.canAdministerTenant(tenant.id),
    }),
    viewerCanEditSettings: t.boolean({
      description: "Whether the viewer administers the tenant and so may change its settings (a few of which only an admin, or the customer's own admin, may change).",
      resolve: (tenant, _args, ctx) => ctx.access.canAdministerTenant(tenant.id),
    }),
    viewerCanCreateCustomers: t.boolean({
      description: "Whether the viewer may create customers of this tenant: true for an admin of this MSP, false for a customer tenant.",
      resolve: (tenant, _args, ctx) => tenant.kind === "MSP" && ctx.access.canManageDelegations(tenant.id),
    }),
    viewerCanManageDelegations: t.boolean({
      description: "Whether the viewer may give and withdraw technicians' access to this customer: true for an admin of its MSP, false for an MSP tenant.",
      resolve: (tenant, _args, ctx) => tenant.kind === "CUSTOMER" && ctx.access.canManageDelegations(tenant.parentId ?? ""),
    }),
  }),
});

builder.queryFields((t) => ({
  tenant: t.prismaField({
    type: "Tenant",
    nullable: true,
    description: "A tenant the viewer may see; null for any other id, existing or not.",
    args: { id: t.arg.id({ required: true, description: "The tenant's id." }) },
    resolve: (query, _root, args, ctx) => {
      const id = String(args.id);
      if (!isUuid(id)) return null;
      return ctx.db.tenant.findFirst({ ...query, where: { AND: [{ id }, visibleTenants(ctx.viewer)] } });
    },
  }),
  customers: t.prismaConnection({
    type: "Tenant",
    cursor: "id",
    nullable: true,
    authScopes: { authenticated: true },
    unauthorizedResolver: () => null,
    totalCount: (_parent, args, ctx) =>
      ctx.db.tenant.count({ where: customerSearch(ctx.viewer, args.search) }),
    description:
      "The MSP's customers: all of them for an MSP admin, the delegated ones for a technician. Null when signed out.",
    args: {
      search: t.arg.string({
        required: false,
        description: "Only customers whose display name (in any case) or slug contains this text; blank or omitted: all of them.",
      }),
    },
    resolve: async (query, _root, args, ctx) => {
      return customerPage(ctx, query, customerSearch(ctx.viewer, args.search));
    },
  }, TenantConnection),
}));

/**
 * A page of customers by name, through `where`, which narrows reachableCustomers:
 * every row is one the viewer administers, so the type-level check on each is
 * told so instead of asking the database again.
 */
async function customerPage(ctx: Context, query: Prisma.TenantFindManyArgs, where: Prisma.TenantWhereInput) {
  const inside = await cursorIsInside(query, async (id) => (await ctx.db.tenant.count({ where: { AND: [where, { id }] } })) > 0);
  if (!inside) return [];
  const customers = await ctx.db.tenant.findMany({ ...query, where, orderBy: [{ displayName: "asc" }, { id: "asc" }] });
  ctx.access.knownAdministered(customers.map((customer) => customer.id));
  return customers;
}

function customerSearch(viewer: Parameters<typeof reachableCustomers>[0], search: string | null | undefined) {
  const term = search?.trim();
  if (!term) return reachableCustomers(viewer);
  if (hasNul(term)) return { AND: [reachableCustomers(viewer), { id: { in: [] as string[] } }] };
  return {
    AND: [
      reachableCustomers(viewer),
      {
        OR: [
          { displayName: { contains: term, mode: "insensitive" as const } },
          { slug: { contains: term.toLowerCase() } },
        ],
      },
    ],
  };
}

