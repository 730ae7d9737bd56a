import type { Prisma } from "@latchkey/db";
import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { TenantConnection, UserConnection } from "../../connections.ts";
import type { Context } from "../../context.ts";
import { reachableCustomers, visibleUsers } from "../../access.ts";
import { hasNul, isUuid } from "../../validation.ts";
import { cursorIsInside } from "../../pagination.ts";

export const UserRole = builder.enumType("UserRole", {
  description: "What a user may do in their tenant. An MSP's users are ADMIN or TECHNICIAN; a customer's, ADMIN or USER.",
  values: {
    ADMIN: { description: "Manages the tenant (in an MSP: every customer too)." },
    TECHNICIAN: { description: "MSP staff; reaches the customers delegated to them." },
    USER: { description: "A customer's directory user." },
  },
});

export const UserStatus = builder.enumType("UserStatus", {
  description: "Whether a user may sign in.",
  values: {
    ACTIVE: { description: "May sign in." },
    DISABLED: {
      description: "Blocked from signing in, in the portal and at workstations, and their phones approve nothing; `disableUser` ended their sessions. `enableUser` lets them in again.",
    },
  } as const,
});

export const User = builder.prismaObject("User", {
  interfaces: [NodeInterface],
  description: "A directory user: a person who signs in to the portal or, in a customer tenant, to its workstations.",
  // Only the columns a query asks for are read; the scope reads the first two. The lock's two
  // timestamps are always read too, so `locked`, `lockedAt` and `lockedUntil` need no selection of
  // their own: a field with one is mapped again for every row of a page, which is dear.
  select: { id: true, tenantId: true, lockedAt: true, lockedUntil: true },
  authScopes: (user) => ({ $any: { self: user.id, tenantAdmin: user.tenantId } }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The user's id." }),
    firstName: t.exposeString("firstName", { description: "Given name." }),
    lastName: t.exposeString("lastName", { description: "Family name." }),
    username: t.exposeString("username", { description: "The Windows local account name." }),
    email: t.exposeString("email", { description: "Company email / UPN." }),
    personalEmail: t.exposeString("personalEmail", {
      nullable: true,
      description:
        "A private address of the user's: a phone that verifies it may link to them (invitation or onboarding code), but then waits for approval. Null when none.",
    }),
    role: t.expose("role", { type: UserRole, description: "What the user may do in their tenant." }),
    status: t.expose("status", { type: UserStatus, description: "Whether the user may sign in." }),
    hasPassword: t.boolean({
      description: "Whether the user can sign in with a password: an OPAQUE registration record is on file.",
      select: { opaqueRecord: true },
      resolve: (user) => user.opaqueRecord !== null,
    }),
    passwordChangedAt: t.expose("passwordChangedAt", {
      type: "DateTime",
      nullable: true,
      description: "When the password was last set; null for a user who has never had one (they sign in with their phone only).",
    }),
    mustChangePassword: t.exposeBoolean("passwordChangeRequired", {
      description: "An admin set the password: the user chooses their own at their next sign-in (the portal asks before anything else).",
    }),
    locked: t.boolean({
      description:
        "Whether too many wrong passwords from unrecognised devices have locked the account for them. " +
        "Devices the user signed in on before, and sign-in with the phone, still work; an admin may unlock it.",
      resolve: (user) => isLocked(user),
    }),
    lockedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the current lock began; null when not locked.",
      resolve: (user) => (isLocked(user) ? user.lockedAt : null),
    }),
    lockedUntil: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the current lock ends by itself; null when not locked.",
      resolve: (user) => (isLocked(user) ? user.lockedUntil : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the user was created." }),
    tenant: t.relation("tenant", { description: "The tenant the user belongs to." }),
    delegatedTo: t.prismaConnection(
      {
        type: "Tenant",
        cursor: "id",
        nullable: true,
        description: "The customers delegated to this technician, by name; visible to MSP admins and the technician, null for anyone else.",
        authScopes: (user) => ({ $any: { self: user.id, mspAdmin: user.tenantId } }),
        unauthorizedResolver: () => null,
        totalCount: (user, _args, ctx) => ctx.db.tenant.count({ where: delegatedTo(ctx, user.id) }),
        resolve: async (query, user, _args, ctx) => {
          const where = delegatedTo(ctx, user.id);
          const inside = await cursorIsInside(query, async (id) => (await ctx.db.tenant.count({ where: { AND: [where, { id }] } })) > 0);
          if (!inside) return [];
          return ctx.db.tenant.findMany({ ...query, where, orderBy: [{ displayName: "asc" }, { id: "asc" }] });
        },
      },
      TenantConnection,
    ),
    delegatedCustomers: t.prismaField({
      type: ["Tenant"],
      nullable: true,
      deprecationReason: "Use `delegatedTo`, a connection; removed after 2027-06-30.",
      description: "The customers delegated to this technician; visible to MSP admins and the technician.",
      authScopes: (user) => ({ $any: { self: user.id, mspAdmin: user.tenantId } }),
      unauthorizedResolver: () => null,
      resolve: (query, user, _args, ctx) => ctx.db.tenant.findMany({ ...query, where: delegatedTo(ctx, user.id), orderBy: { displayName: "asc" } }),
    }),
    viewerCanManage: t.boolean({
      description: "Whether the viewer may edit, disable, delete this user or set their password and role.",
      resolve: (user, _args, ctx) =>
        user.id === ctx.viewer?.userId ? false : ctx.access.canAdministerTenant(user.tenantId),
    }),
  }),
});

/** The customers delegated to a technician, among those the viewer reaches. */
function delegatedTo(ctx: Context, technicianId: string): Prisma.TenantWhereInput {
  return { AND: [{ delegations: { some: { technicianId } } }, reachableCustomers(ctx.viewer)] };
}

function isLocked(user: { lockedUntil: Date | null }) {
  return user.lockedUntil !== null && user.lockedUntil.getTime() > Date.now();
}

builder.queryFields((t) => ({
  user: t.prismaField({
    type: User,
    nullable: true,
    description: "A user the viewer may see; null for any other id.",
    args: { id: t.arg.id({ required: true, description: "The user's id." }) },
    resolve: (query, _root, args, ctx) => {
      const id = String(args.id);
      if (!isUuid(id)) return null;
      return ctx.db.user.findFirst({ ...query, where: { AND: [{ id }, visibleUsers(ctx.viewer)] } });
    },
  }),
  users: t.prismaConnection({
    type: User,
    cursor: "id",
    nullable: true,
    description: "A tenant's directory; null when the viewer does not administer that tenant.",
    args: {
      tenantId: t.arg.id({ required: true, description: "The tenant whose users to list." }),
      search: t.arg.string({
        required: false,
        description: "Only users whose first name, last name, username or email contains this text, in any case; blank or omitted: everyone.",
      }),
    },
    // Checked on the field, before anything resolves, so even `totalCount` alone is null for outsiders.
    authScopes: (_root, args) => ({ tenantAdmin: String(args.tenantId) }),
    unauthorizedResolver: () => null,
    totalCount: (_parent, args, ctx) => ctx.db.user.count({ where: userSearch(String(args.tenantId), args.search) }),
    resolve: async (query, _root, args, ctx) => {
      const where = userSearch(String(args.tenantId), args.search);
      const inside = await cursorIsInside(query, async (id) => (await ctx.db.user.count({ where: { AND: [where, { id }] } })) > 0);
      if (!inside) return [];
      return ctx.db.user.findMany({ ...query, where, orderBy: [{ lastName: "asc" }, { firstName: "asc" }, { id: "asc" }] });
    },
  }, UserConnection),
}));

function userSearch(tenantId: string, search: string | null | undefined) {
  const term = search?.trim();
  if (!term) return { tenantId };
  if (hasNul(term)) return { tenantId, id: { in: [] as string[] } };
  const contains = { contains: term, mode: "insensitive" as const };
  return {
    tenantId,
    OR: [{ firstName: contains }, { lastName: contains }, { username: contains }, { email: contains }],
  };
}
