import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import SimpleObjectsPlugin from "@pothos/plugin-simple-objects";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import type { PrismaClient } from "@latchkey/db";
import type PrismaTypes from "@latchkey/db/pothos-types";
import { getDatamodel } from "@latchkey/db/pothos-types";
import type { Context } from "./context.ts";
import ApiKeyPermissionsPlugin, { type ApiKeyPermission, type PORTAL_ONLY } from "./modules/api-key/api-key-permissions.ts";
import { ForbiddenError, UnauthenticatedError } from "./errors.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    /** A part of a GraphQL multipart request: input only. */
    File: { Input: File; Output: never };
  };
  AuthScopes: {
    authenticated: boolean;
    /** Parameter: tenant id. Sees the tenant (member, or administers it). */
    tenantVisible: string;
    /** Parameter: tenant id. Manages the tenant's users, settings and audit log. */
    tenantAdmin: string;
    /** Parameter: MSP tenant id. An admin of that MSP. */
    mspAdmin: string;
    /** Parameter: user id. The viewer is that user. */
    self: string;
    /** Parameter: workstation id. The caller is that workstation's agent. */
    workstation: string;
    /** Parameter: a permission. Held by every viewer but an API key, which holds only its own (never PORTAL_ONLY). */
    apiKeyPermission: ApiKeyPermission | typeof PORTAL_ONLY;
  };
  AuthContexts: {
    authenticated: Context & { viewer: NonNullable<Context["viewer"]> };
  };
}>({
  // Errors first so failed scope checks on mutations become typed errors in the
  // result union; before Prisma so `errors` works on Prisma fields. An API key's
  // permission is checked on every root field right after the errors plugin.
  plugins: [ErrorsPlugin, ApiKeyPermissionsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin, SimpleObjectsPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    treatErrorsAsUnauthorized: true,
    unauthorizedError: (_parent, context) =>
      context.viewer ? new ForbiddenError() : new UnauthenticatedError(),
    authScopes: (context) => ({
      authenticated: !!context.viewer,
      tenantVisible: (tenantId) => context.access.canSeeTenant(tenantId),
      tenantAdmin: (tenantId) => context.access.canAdministerTenant(tenantId),
      mspAdmin: (mspId) => context.access.canManageDelegations(mspId),
      // A signed-in user, or their linked phone.
      self: (userId) => context.viewer?.userId === userId || context.device?.userId === userId,
      workstation: (workstationId) => context.workstation?.id === workstationId,
      apiKeyPermission: (permission) => {
        const key = context.viewer?.apiKey;
        return !key || (key.permissions as readonly string[]).includes(permission);
      },
    }),
  },
  errors: {
    directResult: true,
    defaultTypes: [],
  },
  prisma: {
    client: (context) => context.db as PrismaClient,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSON", JSONResolver);
