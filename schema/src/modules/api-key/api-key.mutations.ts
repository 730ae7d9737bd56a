import { builder } from "../../builder.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import { ApiKey, ApiKeyPermission } from "./api-key.types.ts";
import { createApiKey, revokeApiKey } from "./api-key.service.ts";

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  description: "A new API key for a tenant. Admins of the tenant only (an MSP's admins for its customers too).",
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The tenant the key acts for." }),
    name: t.string({ required: true, description: "What it is for (e.g. `PSA sync`); audit events name the key `API key <name>`." }),
    permissions: t.field({ type: [ApiKeyPermission], required: true, description: "What the key may do; at least one." }),
    expiresAt: t.field({ type: "DateTime", required: false, description: "When it stops working; omit for never." }),
    allowedSourceRanges: t.stringList({
      required: false,
      description: "IPv4/IPv6 addresses or CIDR ranges the key's requests must come from, as the API sees the client; omit for anywhere.",
    }),
    customerIds: t.idList({ required: false, description: "MSP keys: the customers the key acts on besides the MSP itself." }),
    allCustomers: t.boolean({ required: false, description: "MSP keys: act on every customer, including those created later." }),
  }),
});

const CreateApiKeyPayload = builder.simpleObject("CreateApiKeyPayload", {
  description: "The new key and, this once, its secret.",
  fields: (t) => ({
    apiKey: t.string({ description: "The secret, shown only now: send it as `Authorization: Bearer lk_...`. It matches `^lk_[0-9a-f]{72}$`." }),
    key: t.field({ type: ApiKey, description: "The key as listed from now on." }),
  }),
});

const RevokeApiKeyInput = builder.inputType("RevokeApiKeyInput", {
  description: "The key to revoke.",
  fields: (t) => ({ id: t.id({ required: true, description: "The key's id." }) }),
});

const RevokeApiKeyPayload = builder.simpleObject("RevokeApiKeyPayload", {
  description: "The revoked key: refused from now on, on every instance.",
  fields: (t) => ({ key: t.field({ type: ApiKey, description: "The key, with `revokedAt` set." }) }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: "Creates an API key and returns its secret once. Tenant admins only; NOT_FOUND for a tenant out of reach.",
    errors: { types: signedInErrors, union: { name: "CreateApiKeyResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: "The key to create." }) },
    resolve: (_root, { input }, ctx) =>
      createApiKey(ctx, {
        ...input,
        tenantId: String(input.tenantId),
        customerIds: input.customerIds?.map(String) ?? null,
      }),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    description: "Revokes an API key at once, on every instance; its open subscriptions end. Revoking twice is harmless.",
    errors: { types: signedInErrors, union: { name: "RevokeApiKeyResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true, description: "The key to revoke." }) },
    resolve: async (_root, { input }, ctx) => ({ key: await revokeApiKey(ctx, String(input.id)) }),
  }),
}));
