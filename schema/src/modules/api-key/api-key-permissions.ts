// What an API key may call. Every root field an integrator may use is listed
// here against exactly one permission; a key calling anything else (signing in,
// sessions, passwords, phones, other API keys...) is refused. The check wraps
// every root field centrally, between the errors plugin (so a refused mutation
// answers FORBIDDEN in its result union) and scope-auth, and runs through
// scope-auth's `apiKeyPermission` scope; resolvers never repeat it.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { ForbiddenError } from "../../errors.ts";

export const API_KEY_PERMISSIONS = {
  READ_DIRECTORY: "Read tenants, customers and users (`tenant`, `customers`, `users`, `user`).",
  MANAGE_USERS: "Create, update, disable, enable, unlock and delete directory users.",
  MANAGE_CUSTOMERS: "Create customer tenants (MSP keys).",
  READ_AUDIT: "Read the audit log and follow it live (`auditEvents`, `auditEventAdded`).",
  READ_LOGIN_EVENTS: "Read desktop login history and follow it live (`loginEvents`, `loginEventAdded`).",
  READ_WORKSTATIONS: "Read workstations and install tokens, and follow workstation changes live.",
  MANAGE_WORKSTATIONS: "Approve, rename and remove workstations; create and revoke install tokens.",
  MANAGE_WEBHOOKS: "Create, change, delete and replay webhooks, and read their delivery logs.",
} as const;

export type ApiKeyPermission = keyof typeof API_KEY_PERMISSIONS;

export const apiKeyPermissionNames = Object.keys(API_KEY_PERMISSIONS) as ApiKeyPermission[];

/** The scope parameter of an operation no API key may call. */
export const PORTAL_ONLY = "PORTAL_ONLY";

const OPERATIONS: Record<ApiKeyPermission, string[]> = {
  READ_DIRECTORY: ["Query.tenant", "Query.customers", "Query.users", "Query.user"],
  MANAGE_USERS: [
    "Mutation.createUser",
    "Mutation.updateUser",
    "Mutation.disableUser",
    "Mutation.enableUser",
    "Mutation.unlockUser",
    "Mutation.deleteUser",
  ],
  MANAGE_CUSTOMERS: ["Mutation.createCustomer"],
  READ_AUDIT: ["Query.auditEvents", "Subscription.auditEventAdded"],
  READ_LOGIN_EVENTS: ["Query.loginEvents", "Subscription.loginEventAdded", "Subscription.loginEvents"],
  READ_WORKSTATIONS: ["Query.workstations", "Query.workstation", "Query.installTokens", "Subscription.workstationChanged"],
  MANAGE_WORKSTATIONS: [
    "Mutation.approveWorkstation",
    "Mutation.renameWorkstation",
    "Mutation.removeWorkstation",
    "Mutation.createInstallToken",
    "Mutation.revokeInstallToken",
  ],
  MANAGE_WEBHOOKS: [
    "Query.webhooks",
    "Query.webhookDeliveries",
    "Mutation.createWebhook",
    "Mutation.updateWebhook",
    "Mutation.deleteWebhook",
    "Mutation.redeliverWebhook",
  ],
};

const permissionByOperation = new Map<string, ApiKeyPermission>(
  Object.entries(OPERATIONS).flatMap(([permission, operations]) => operations.map((operation) => [operation, permission as ApiKeyPermission])),
);

/**
 * Root fields every key may call: what they answer depends on the type of each
 * object, and they check the permission its type needs themselves.
 */
const CHECKED_PER_TYPE = new Set(["Query.node", "Query.nodes"]);

/** The permission an API key needs for a root field (`Query.users`), or PORTAL_ONLY. */
export function permissionForOperation(coordinate: string): ApiKeyPermission | typeof PORTAL_ONLY {
  return permissionByOperation.get(coordinate) ?? PORTAL_ONLY;
}

/** Every operation an API key may call, for the documentation and tests. */
export function apiKeyOperations(): ReadonlyMap<string, ApiKeyPermission> {
  return permissionByOperation;
}

const ROOT_TYPES = new Set(["Query", "Mutation", "Subscription"]);

type ViewerWithKey = { viewer?: { apiKey?: unknown } | null };

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      apiKeyPermissions: ApiKeyPermissionsPlugin<Types>;
    }
  }
}

export class ApiKeyPermissionsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  private guard<F extends GraphQLFieldResolver<unknown, Types["Context"], object>>(inner: F, fieldConfig: PothosOutputFieldConfig<Types>): F {
    if (!ROOT_TYPES.has(fieldConfig.parentType as string) || CHECKED_PER_TYPE.has(`${String(fieldConfig.parentType)}.${fieldConfig.name}`)) return inner;
    const permission = permissionForOperation(`${String(fieldConfig.parentType)}.${fieldConfig.name}`);
    const builder = this.builder as unknown as { runAuthScopes(context: object, scopes: object, error: () => Error): unknown };
    const refusal = () =>
      new ForbiddenError(
        permission === PORTAL_ONLY
          ? `API keys cannot call ${fieldConfig.name}`
          : `This API key lacks the ${permission} permission ${fieldConfig.name} needs`,
      );
    return ((parent, args, context: ViewerWithKey, info) => {
      // People, phones and workstations are not affected: only API keys are held to the list.
      if (!context.viewer?.apiKey) return inner(parent, args, context as never, info);
      const checked = builder.runAuthScopes(context, { apiKeyPermission: permission }, refusal);
      return checked instanceof Promise
        ? checked.then(() => inner(parent, args, context as never, info))
        : inner(parent, args, context as never, info);
    }) as F;
  }

  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types["Context"], object>, fieldConfig: PothosOutputFieldConfig<Types>) {
    return this.guard(resolver, fieldConfig);
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types["Context"], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ) {
    return subscribe ? this.guard(subscribe, fieldConfig) : subscribe;
  }
}

const pluginName = "apiKeyPermissions";
SchemaBuilder.registerPlugin(pluginName, ApiKeyPermissionsPlugin);

export default pluginName;
