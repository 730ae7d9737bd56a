// Who may reach which tenant. Every list and mutation target is loaded through
// these `where` conditions (built once, spread into every query), so a tenant
// the viewer may not reach looks exactly like a missing id: NOT_FOUND.
import type { Prisma, PrismaClient } from "@latchkey/db";
import type { Viewer } from "./context.ts";

/** Matches nothing: used when there is no viewer. */
const NONE = { id: { in: [] as string[] } } satisfies Prisma.TenantWhereInput;

/** Tenants the viewer administers: manage users, settings, audit. */
export function administeredTenants(viewer: Viewer | null): Prisma.TenantWhereInput {
  if (!viewer) return NONE;
  if (viewer.tenantKind === "MSP") {
    if (viewer.role === "ADMIN") return { OR: [{ id: viewer.tenantId }, { parentId: viewer.tenantId }] };
    if (viewer.role === "TECHNICIAN") {
      return { parentId: viewer.tenantId, delegations: { some: { technicianId: viewer.userId } } };
    }
    return NONE;
  }
  return viewer.role === "ADMIN" ? { id: viewer.tenantId } : NONE;
}

/** Tenants the viewer may see at all: their own, and those they administer. */
export function visibleTenants(viewer: Viewer | null): Prisma.TenantWhereInput {
  if (!viewer) return NONE;
  return { OR: [{ id: viewer.tenantId }, administeredTenants(viewer)] };
}

/** Customers of the viewer's MSP that the viewer reaches. */
export function reachableCustomers(viewer: Viewer | null): Prisma.TenantWhereInput {
  if (!viewer || viewer.tenantKind !== "MSP") return NONE;
  return { AND: [{ kind: "CUSTOMER", parentId: viewer.tenantId }, administeredTenants(viewer)] };
}

/** Users the viewer may see: themselves and the users of tenants they administer. */
export function visibleUsers(viewer: Viewer | null): Prisma.UserWhereInput {
  if (!viewer) return { id: { in: [] } };
  return { OR: [{ id: viewer.userId }, { tenant: administeredTenants(viewer) }] };
}

/** Users the viewer may manage (edit, disable, reset password). */
export function managedUsers(viewer: Viewer | null): Prisma.UserWhereInput {
  return { tenant: administeredTenants(viewer) };
}

/**
 * Per-request answers to "may the viewer reach tenant X", for the type-level
 * scopes that guard every tenant-owned object. Cached so a list of a hundred
 * users costs one check per tenant, not per row.
 */
export class Access {
  private readonly cache = new Map<string, Promise<boolean>>();

  constructor(
    private readonly db: PrismaClient,
    public viewer: Viewer | null,
  ) {}

  /** A request that signs in (log in, sign up) continues as the new viewer. */
  signIn(viewer: Viewer) {
    this.viewer = viewer;
    this.cache.clear();
  }

  get isMspAdmin() {
    return this.viewer?.tenantKind === "MSP" && this.viewer.role === "ADMIN";
  }

  canAdministerTenant(tenantId: string): Promise<boolean> {
    return this.cached(`admin:${tenantId}`, () => this.exists({ AND: [{ id: tenantId }, administeredTenants(this.viewer)] }));
  }

  canSeeTenant(tenantId: string): Promise<boolean> {
    if (this.viewer?.tenantId === tenantId) return Promise.resolve(true);
    return this.canAdministerTenant(tenantId);
  }

  /** MSP admins of the MSP that owns `customerOrMspId` (delegations are the MSP's business). */
  canManageDelegations(mspId: string): boolean {
    return this.isMspAdmin && this.viewer?.tenantId === mspId;
  }

  private cached(key: string, load: () => Promise<boolean>) {
    let answer = this.cache.get(key);
    if (!answer) {
      answer = load();
      this.cache.set(key, answer);
    }
    return answer;
  }

  private async exists(where: Prisma.TenantWhereInput) {
    if (!this.viewer) return false;
    return (await this.db.tenant.count({ where })) > 0;
  }
}
