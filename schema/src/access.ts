// Who may reach which tenant. Every list and mutation target is loaded through
// these `where` conditions (built once, spread into every query), so a tenant
// the viewer may not reach looks exactly like a missing id: NOT_FOUND.
import type { Prisma, PrismaClient } from "@latchkey/db";
import DataLoader from "dataloader";
import { NotFoundError } from "./errors.ts";
import { isUuid } from "./validation.ts";
import type { Viewer } from "./context.ts";

/** Matches nothing: used when there is no viewer. */
const NONE = { id: { in: [] as string[] } } satisfies Prisma.TenantWhereInput;

/** Tenants the viewer administers: manage users, settings, audit. */
export function administeredTenants(viewer: Viewer | null): Prisma.TenantWhereInput {
  if (!viewer) return NONE;
  if (viewer.tenantKind === "MSP") {
    const keyCustomers = viewer.apiKey?.customerIds;
    // An MSP key naming its customers reaches those (and its MSP) only.
    if (keyCustomers) return { OR: [{ id: viewer.tenantId }, { parentId: viewer.tenantId, id: { in: [...keyCustomers] } }] };
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
 * scopes that guard every tenant-owned object. Checks made while one list is
 * resolved are batched into a single query, so a page of fifty customers costs
 * one round trip, not fifty.
 */
export class Access {
  /** Made on first use: most operations (and every idle subscription) never need it. */
  private loaderForViewer: DataLoader<string, boolean> | null = null;
  /**
   * Answers already known in this request. A page's rows are each checked by
   * their type's scope: answering those from here, without a promise each,
   * keeps a page of fifty from costing fifty trips through the microtask queue.
   */
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly db: PrismaClient,
    public viewer: Viewer | null,
  ) {}

  /** A request that signs in (log in, sign up) continues as the new viewer. */
  signIn(viewer: Viewer) {
    this.viewer = viewer;
    this.loaderForViewer = null;
    this.known.clear();
  }

  private get administered() {
    this.loaderForViewer ??= this.loader();
    return this.loaderForViewer;
  }

  get isMspAdmin() {
    return this.viewer?.tenantKind === "MSP" && this.viewer.role === "ADMIN";
  }

  canAdministerTenant(tenantId: string): boolean | Promise<boolean> {
    if (!this.viewer || !isUuid(tenantId)) return false;
    if (tenantId === this.viewer.tenantId) return this.viewer.role === "ADMIN";
    const known = this.known.get(tenantId);
    if (known !== undefined) return known;
    return this.administered.load(tenantId).then((allowed) => {
      this.known.set(tenantId, allowed);
      return allowed;
    });
  }

  /**
   * `tenantId` if the viewer administers it; otherwise NOT_FOUND, like a
   * missing id. Answered once per request (a list's page and its totalCount
   * ask the same), from the batched loader.
   */
  async administeredTenantId(tenantId: string): Promise<string> {
    if (!(await this.canAdministerTenant(tenantId))) throw new NotFoundError("Tenant");
    return tenantId;
  }

  canSeeTenant(tenantId: string): boolean | Promise<boolean> {
    if (this.viewer?.tenantId === tenantId) return true;
    return this.canAdministerTenant(tenantId);
  }

  /**
   * Records tenants a query has just loaded through `administeredTenants`
   * (such as a page of `reachableCustomers`): the type-level check on each row
   * then answers from memory instead of asking the database again.
   */
  knownAdministered(tenantIds: string[]) {
    for (const id of tenantIds) {
      this.known.set(id, true);
      this.administered.prime(id, true);
    }
  }

  /** MSP admins of that MSP (delegations are the MSP's business). */
  canManageDelegations(mspId: string): boolean {
    return this.isMspAdmin && this.viewer?.tenantId === mspId;
  }

  private loader() {
    const viewer = this.viewer;
    return new DataLoader<string, boolean>(async (ids) => {
      const rows = await this.db.tenant.findMany({
        where: { AND: [{ id: { in: [...ids] } }, administeredTenants(viewer)] },
        select: { id: true },
      });
      const allowed = new Set(rows.map((row) => row.id));
      return ids.map((id) => allowed.has(id));
    });
  }
}
