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
import PublicApiConventionsPlugin from "./conventions.ts";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./pagination.ts";
import { databaseUnavailable } from "./database-errors.ts";
import { ForbiddenError, UnauthenticatedError, UnavailableError } from "./errors.ts";

/** Whether a scope check failed because a scope loader could not reach the database. */
function failedForDatabase(failure: unknown, depth = 0): boolean {
  if (!failure || typeof failure !== "object" || depth > 10) return false;
  const { error, failures } = failure as { error?: unknown; failures?: unknown };
  if (error && databaseUnavailable(error)) return true;
  return Array.isArray(failures) && failures.some((inner) => failedForDatabase(inner, depth + 1));
}

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
  plugins: [ErrorsPlugin, ApiKeyPermissionsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin, SimpleObjectsPlugin, PublicApiConventionsPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    treatErrorsAsUnauthorized: true,
    // A check that could not ask the database is no refusal: it fails the
    // request as UNAVAILABLE, thrown so that no field's unauthorizedResolver
    // answers null for it (as treatErrorsAsUnauthorized would have it).
    unauthorizedError: (_parent, context, _info, result) => {
      if (failedForDatabase(result.failure)) throw new UnavailableError();
      return context.viewer ? new ForbiddenError() : new UnauthenticatedError();
    },
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
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    maxConnectionSize: MAX_PAGE_SIZE,
    onUnusedQuery: null,
  },
  // Every connection pages alike, so its parts are described once here.
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    edgesFieldOptions: { nullable: false, description: "This page's items, each with its cursor." },
    nodeFieldOptions: { nullable: false, description: "The item." },
    cursorFieldOptions: { description: "Where this item sits in its list: pass it as `after` (or `before`) to page on from here." },
    pageInfoFieldOptions: { description: "Whether there are more items either side of this page, and the cursors to ask for them." },
    pageInfoTypeOptions: { description: "Where a page sits in its list." },
    hasNextPageFieldOptions: { description: "Whether items follow this page (ask with `first` and `after: endCursor`)." },
    hasPreviousPageFieldOptions: { description: "Whether items precede this page (ask with `last` and `before: startCursor`)." },
    startCursorFieldOptions: { description: "The cursor of this page's first item; null when the page is empty." },
    endCursorFieldOptions: { description: "The cursor of this page's last item; null when the page is empty." },
    firstArgOptions: {
      description: `How many items to return from the start of the list (or after \`after\`): ${DEFAULT_PAGE_SIZE} when neither \`first\` nor \`last\` is given, at most ${MAX_PAGE_SIZE} (more is refused with VALIDATION).`,
    },
    lastArgOptions: {
      description: `How many items to return from the end of the list (or before \`before\`): at most ${MAX_PAGE_SIZE} (more is refused with VALIDATION).`,
    },
    afterArgOptions: { description: "Return the items after this cursor (an edge's `cursor` or `pageInfo.endCursor`)." },
    beforeArgOptions: { description: "Return the items before this cursor (an edge's `cursor` or `pageInfo.startCursor`)." },
    defaultConnectionTypeOptions: { description: "A page of a list, with the cursors to page on." },
    defaultEdgeTypeOptions: { description: "One item of a page, with its cursor." },
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSON", JSONResolver);
