import {
  cacheExchange,
  type Cache,
  type Data,
  type DataFields,
  type KeyingConfig,
  type UpdatesConfig,
  type Variables,
} from "@urql/exchange-graphcache";
import type { Exchange } from "@urql/core";
import { map, pipe } from "wonka";
import schema from "@/gql/introspection";

const ROOT_TYPES = new Set(["Query", "Mutation", "Subscription"]);

/**
 * Payloads, connections and their edges, settings and error types have no `id`: they are kept
 * inside the entity or result that holds them rather than normalized under a made-up key. Read
 * from the schema, so a new payload type needs no entry here.
 */
const keys: KeyingConfig = Object.fromEntries(
  schema.__schema.types
    .filter((type) => type.kind === "OBJECT" && !ROOT_TYPES.has(type.name) && !type.fields.some((field) => field.name === "id"))
    .map((type) => [type.name, () => null]),
);

/** The figures a tenant shows on the dashboard and its customer page, counted by the API. */
type Figure = "userCount" | "adminCount" | "technicianCount" | "workstationCount" | "loginsLast24h" | "successfulLoginsLast24h" | "failedLoginsLast24h";

function tenant(id: string) {
  return { __typename: "Tenant", id };
}

/** Drops figures from the cache so that every page showing them asks the API again. */
function invalidateFigures(cache: Cache, tenantId: string, figures: Figure[]) {
  for (const figure of figures) cache.invalidate(tenant(tenantId), figure);
}

/** Every cached page and search of a root list, or only those of one tenant. */
function cachedLists(cache: Cache, fieldName: string, tenantId?: string) {
  return cache
    .inspectFields("Query")
    .filter((field) => field.fieldName === fieldName && (tenantId === undefined || field.arguments?.tenantId === tenantId));
}

/** A list's order, filters and pages are the API's business: ask for it again rather than guess. */
function invalidateLists(cache: Cache, fieldName: string, tenantId?: string) {
  for (const field of cachedLists(cache, fieldName, tenantId)) cache.invalidate("Query", field.fieldName, field.arguments);
}

/** Every cached page of an entity's own connection (a tenant's install tokens): the API orders them. */
function invalidatePages(cache: Cache, entity: Data, fieldName: string) {
  for (const field of cache.inspectFields(entity)) {
    if (field.fieldName === fieldName) cache.invalidate(entity, field.fieldName, field.arguments);
  }
}

/**
 * The tenants whose cached `users` or `workstations` connection lists this entity: a payload
 * that carries only an id does not say which tenant's figures changed.
 */
function tenantsListing(cache: Cache, fieldName: "users" | "workstations", entity: Data): string[] {
  const entityKey = cache.keyOfEntity(entity);
  const tenantIds = new Set<string>();
  for (const field of cachedLists(cache, fieldName)) {
    const connection = cache.resolve("Query", field.fieldName, field.arguments) as string | null | undefined;
    const edges = (connection ? cache.resolve(connection, "edges") : null) as string[] | null | undefined;
    const listed = edges?.some((edge) => cache.resolve(edge, "node") === entityKey);
    if (listed && typeof field.arguments?.tenantId === "string") tenantIds.add(field.arguments.tenantId);
  }
  return [...tenantIds];
}

/** Per cache (one per session), the workstations whose removal it has already applied. */
const removedWorkstations = new WeakMap<Cache, Set<string>>();

/**
 * True the first time the cache hears of a workstation's removal. The viewer's own removal comes
 * twice, as the mutation's answer and as the pushed event; invalidating the figures again while
 * the first invalidation's refetch is on its way left that answer unread and the customer page
 * stuck on "Loading the customer…".
 */
function firstNewsOfRemoval(cache: Cache, workstationId: string): boolean {
  const removed = removedWorkstations.get(cache) ?? new Set<string>();
  removedWorkstations.set(cache, removed);
  if (removed.has(workstationId)) return false;
  removed.add(workstationId);
  return true;
}

/** The mutation's payload when it succeeded; null for any of its typed errors. */
function succeeded(result: DataFields, field: string, payloadType: string): DataFields | null {
  const outcome = result[field] as Data | null | undefined;
  return outcome?.__typename === payloadType ? outcome : null;
}

/** The ids a mutation's `input` carries, as the schema requires them. */
function input<Field extends string>(args: Variables): Record<Field, string> {
  return args.input as Record<Field, string>;
}

/**
 * What each write changes beyond the entities it returns (those update themselves): lists that
 * gain or lose a member, and the figures counted from them. Lists are asked again; figures too,
 * because only the API knows, say, whether a new user counts as an admin.
 */
const updates: UpdatesConfig = {
  Mutation: {
    createCustomer(result, _args, cache) {
      if (succeeded(result, "createCustomer", "CreateCustomerPayload")) invalidateLists(cache, "customers");
    },
    deleteCustomer(result, _args, cache) {
      const payload = succeeded(result, "deleteCustomer", "DeleteCustomerPayload");
      if (!payload) return;
      // Gone from every list and page that held it; the MSP's figures follow.
      cache.invalidate(tenant(payload.deletedCustomerId as string));
      invalidateLists(cache, "customers");
    },
    createUser(result, args, cache) {
      if (!succeeded(result, "createUser", "CreateUserPayload")) return;
      const { tenantId } = input<"tenantId">(args);
      invalidateLists(cache, "users", tenantId);
      cache.invalidate(tenant(tenantId), "users");
      invalidateFigures(cache, tenantId, ["userCount", "adminCount"]);
    },
    setUserRole(result, args, cache) {
      if (!succeeded(result, "setUserRole", "SetUserRolePayload")) return;
      const user = { __typename: "User", id: input<"userId">(args).userId };
      for (const tenantId of tenantsListing(cache, "users", user)) invalidateFigures(cache, tenantId, ["adminCount"]);
    },
    deleteUser(result, _args, cache) {
      const payload = succeeded(result, "deleteUser", "DeleteUserPayload");
      if (!payload) return;
      const user = { __typename: "User", id: payload.deletedUserId as string };
      for (const tenantId of tenantsListing(cache, "users", user)) invalidateFigures(cache, tenantId, ["userCount", "adminCount"]);
      // Every list that held the user is asked again.
      cache.invalidate(user);
    },
    delegateCustomerAccess(result, args, cache) {
      if (!succeeded(result, "delegateCustomerAccess", "DelegateCustomerAccessPayload")) return;
      delegationChanged(cache, input<"customerId" | "technicianId">(args));
    },
    revokeCustomerAccess(result, args, cache) {
      if (!succeeded(result, "revokeCustomerAccess", "RevokeCustomerAccessPayload")) return;
      delegationChanged(cache, input<"customerId" | "technicianId">(args));
    },
    createInstallToken(result, args, cache) {
      const payload = succeeded(result, "createInstallToken", "CreateInstallTokenPayload");
      if (!payload) return;
      invalidatePages(cache, tenant(input<"tenantId">(args).tenantId), "installTokens");
    },
    approveWorkstation(result, _args, cache) {
      // Pending workstations are listed first: an approved one moves.
      if (succeeded(result, "approveWorkstation", "WorkstationPayload")) invalidateLists(cache, "workstations");
    },
    removeWorkstation(result, _args, cache) {
      const payload = succeeded(result, "removeWorkstation", "RemoveWorkstationPayload");
      if (!payload) return;
      const workstation = { __typename: "Workstation", id: payload.workstationId as string };
      if (!firstNewsOfRemoval(cache, workstation.id)) return;
      for (const tenantId of tenantsListing(cache, "workstations", workstation)) {
        invalidateFigures(cache, tenantId, ["workstationCount"]);
      }
      cache.invalidate(workstation);
    },
    revokeSession(result, _args, cache) {
      const payload = succeeded(result, "revokeSession", "RevokeSessionPayload");
      if (payload) cache.invalidate({ __typename: "Session", id: payload.revokedSessionId as string });
    },
    revokeAuthenticator(result, _args, cache) {
      const payload = succeeded(result, "revokeAuthenticator", "RevokeAuthenticatorPayload");
      if (payload) cache.invalidate({ __typename: "Authenticator", id: payload.revokedAuthenticatorId as string });
    },
  },
  Subscription: {
    technicianSessionChanged(result, _args, cache) {
      // The workstation shows the session open on it, if any: ask for that again.
      const session = result.technicianSessionChanged as Data | null;
      if (typeof session?.workstationId === "string") {
        cache.invalidate({ __typename: "Workstation", id: session.workstationId }, "activeTechnicianSession");
      }
    },
    loginEventAdded(_result, args, cache) {
      // The feed shows the event itself; the figures above it count the last 24 hours of them.
      invalidateFigures(cache, args.tenantId as string, ["loginsLast24h", "successfulLoginsLast24h", "failedLoginsLast24h"]);
    },
    workstationChanged(result, args, cache) {
      // The event's `workstation` updates a listed one in place (a rename needs nothing more);
      // here is what else changed, made by anyone, the viewer included.
      const tenantId = args.tenantId as string;
      const event = result.workstationChanged as Data | null;
      switch (event?.change) {
        case "ENROLLED":
          // A new member of the lists, and one more use of an install token (which may now be used up).
          invalidateLists(cache, "workstations", tenantId);
          invalidatePages(cache, tenant(tenantId), "installTokens");
          invalidateFigures(cache, tenantId, ["workstationCount"]);
          break;
        case "APPROVED":
          // Pending workstations are listed first: an approved one moves.
          invalidateLists(cache, "workstations", tenantId);
          break;
        case "REMOVED": {
          const workstation = { __typename: "Workstation", id: event.workstationId as string };
          if (!firstNewsOfRemoval(cache, workstation.id)) break;
          invalidateFigures(cache, tenantId, ["workstationCount"]);
          // Every list that held it is asked again.
          cache.invalidate(workstation);
          break;
        }
      }
    },
  },
};

function delegationChanged(cache: Cache, { customerId, technicianId }: Record<"customerId" | "technicianId", string>) {
  invalidatePages(cache, tenant(customerId), "technicianDelegations");
  invalidatePages(cache, { __typename: "User", id: technicianId }, "delegatedTo");
  invalidateFigures(cache, customerId, ["technicianCount"]);
}

/** The portal's normalized cache. One per session: signing in or out starts a new one. */
export function portalCacheExchange() {
  return cacheExchange({ schema, keys, updates });
}

/**
 * With the schema, graphcache answers a query whose data it holds only in part at once, with
 * the missing nullable fields as null, and asks the API for the rest. A page would read such a
 * null as "not found" or "nothing here" (a customer, a directory, a list of delegations) until
 * the answer comes. While that answer is on its way (`stale`), the result carries no data:
 * urql keeps showing the data the page had, and a page that had none stays in its loading state.
 * (The result must still pass: urql only sends the refetch once it has seen it.)
 */
export const awaitCompleteResults: Exchange =
  ({ forward }) =>
  (operations$) =>
    pipe(
      forward(operations$),
      map((result) =>
        result.stale && result.operation.context.meta?.cacheOutcome === "partial" ? { ...result, data: undefined } : result,
      ),
    );
