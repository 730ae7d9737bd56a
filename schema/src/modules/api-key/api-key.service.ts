// API keys: service accounts of a tenant for third-party integrations. A key
// acts as an admin of its tenant held to its permissions (and, for an MSP key,
// to the customers it names); it is looked up like a session, through the
// same cache, so revoking it ends it on every instance at once.
import type { ApiKey, Prisma } from "@latchkey/db";
import { z } from "zod";
import { administeredTenants } from "../../access.ts";
import type { Context, SchemaConfig, Services, Viewer } from "../../context.ts";
import { NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { API_KEY_PREFIX_LENGTH, looksLikeApiKey, newApiKeySecret } from "../../security/api-key-secret.ts";
import { addressInRanges, parseCidr } from "../../security/network-ranges.ts";
import { hashToken } from "../../security/tokens.ts";
import { isUuid, parseInput, personName } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { publishSessionsEnded } from "../session/session.service.ts";
import { apiKeyPermissionNames } from "./api-key-permissions.ts";

/** Last use is written at most this often per key. */
export const LAST_USED_EVERY_MS = 60_000;

/** Most keys a tenant may hold (revoked ones included until deleted with the tenant). */
export const MAX_KEYS_PER_TENANT = 100;

/** Who may manage a tenant's keys: people who administer it as admins, never a key itself. */
export function apiKeyManagers(ctx: Pick<Context, "viewer">): Prisma.ApiKeyWhereInput {
  const viewer = ctx.viewer;
  if (!viewer || viewer.apiKey || viewer.role !== "ADMIN") return { id: { in: [] } };
  return { tenant: administeredTenants(viewer) };
}

async function managedTenant(ctx: Context, tenantId: string) {
  const viewer = ctx.viewer;
  if (!viewer) throw new UnauthenticatedError();
  if (!isUuid(tenantId) || viewer.apiKey || viewer.role !== "ADMIN") throw new NotFoundError("Tenant");
  const tenant = await ctx.db.tenant.findFirst({ where: { AND: [{ id: tenantId }, administeredTenants(viewer)] }, select: { id: true, kind: true } });
  if (!tenant) throw new NotFoundError("Tenant");
  return tenant;
}

/** The tenant id of `apiKeys(tenantId)`, or null (the connection is then null) for a tenant out of reach. */
export async function apiKeyTenant(ctx: Context, tenantId: string): Promise<string | null> {
  try {
    return (await managedTenant(ctx, tenantId)).id;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof UnauthenticatedError) return null;
    throw error;
  }
}

const createInput = z.object({
  tenantId: z.string(),
  name: personName,
  permissions: z.array(z.enum(apiKeyPermissionNames as [string, ...string[]])).min(1, "Choose at least one permission").max(apiKeyPermissionNames.length),
  expiresAt: z.date().nullish(),
  allowedSourceRanges: z
    .array(z.string().trim().refine((value) => parseCidr(value) !== null, "Not an IPv4 or IPv6 address or CIDR range"))
    .max(50, "Use at most 50 ranges")
    .nullish(),
  customerIds: z.array(z.string()).max(1000).nullish(),
  allCustomers: z.boolean().nullish(),
});

export async function createApiKey(ctx: Context, input: z.input<typeof createInput>) {
  const data = parseInput(createInput, input);
  const tenant = await managedTenant(ctx, data.tenantId);
  if (data.expiresAt && data.expiresAt.getTime() <= ctx.clock.now()) throw ValidationError.field("expiresAt", "Choose a time in the future");
  const customerIds = [...new Set(data.customerIds ?? [])];
  if (tenant.kind !== "MSP" && (customerIds.length > 0 || data.allCustomers)) {
    throw ValidationError.field("customerIds", "Only an MSP's keys act on customers");
  }
  if (data.allCustomers && customerIds.length > 0) throw ValidationError.field("customerIds", "Name customers, or choose all of them, not both");
  if (customerIds.length > 0) {
    const found = await ctx.db.tenant.count({ where: { id: { in: customerIds.filter(isUuid) }, parentId: tenant.id, kind: "CUSTOMER" } });
    if (found !== customerIds.length) throw ValidationError.field("customerIds", "Name customers of this MSP only");
  }
  const existing = await ctx.db.apiKey.count({ where: { tenantId: tenant.id } });
  if (existing >= MAX_KEYS_PER_TENANT) throw ValidationError.field("tenantId", `A tenant holds at most ${MAX_KEYS_PER_TENANT} API keys`);
  const secret = newApiKeySecret();
  const key = await auditedChange(ctx, async (tx) => {
    const key = await tx.apiKey.create({
      data: {
        tenantId: tenant.id,
        name: data.name,
        prefix: secret.slice(0, API_KEY_PREFIX_LENGTH),
        tokenHash: hashToken(secret),
        permissions: [...new Set(data.permissions)],
        allCustomers: data.allCustomers ?? false,
        customerIds,
        allowedRanges: (data.allowedSourceRanges ?? []).map((range) => range.trim()),
        expiresAt: data.expiresAt ?? null,
        createdById: ctx.viewer?.userId ?? null,
        createdAt: new Date(ctx.clock.now()),
      },
    });
    return {
      result: key,
      audit: {
        tenantId: tenant.id,
        action: "apiKey.created",
        targetType: "ApiKey",
        targetId: key.id,
        data: {
          name: key.name,
          permissions: key.permissions,
          expiresAt: key.expiresAt?.toISOString() ?? null,
          allowedSourceRanges: key.allowedRanges,
          customers: key.allCustomers ? "ALL" : key.customerIds,
        },
      },
    };
  });
  return { apiKey: secret, key };
}

export async function revokeApiKey(ctx: Context, id: string) {
  if (!ctx.viewer) throw new UnauthenticatedError();
  if (!isUuid(id)) throw new NotFoundError("API key");
  const key = await ctx.db.apiKey.findFirst({ where: { AND: [{ id }, apiKeyManagers(ctx)] } });
  if (!key) throw new NotFoundError("API key");
  if (key.revokedAt) return key;
  const revoked = await auditedChange(ctx, async (tx) => ({
    result: await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date(ctx.clock.now()) } }),
    audit: { tenantId: key.tenantId, action: "apiKey.revoked", targetType: "ApiKey", targetId: id, data: { name: key.name } },
  }));
  // Its cached lookups go on every instance, and its open subscriptions end.
  publishSessionsEnded(ctx, [id], "API key revoked", "apiKey");
  return revoked;
}

type KeyServices = Pick<Services, "db" | "sessionCache" | "clock" | "log"> & { config: Pick<SchemaConfig, "sessionIdleMinutes"> };

export function apiKeyLabel(name: string) {
  return `API key ${name}`;
}

function keyViewer(key: ApiKey & { tenant: { kind: "MSP" | "CUSTOMER" } }): Viewer {
  return {
    sessionId: key.id,
    userId: key.id,
    tenantId: key.tenantId,
    tenantKind: key.tenant.kind,
    workingTenantId: key.tenantId,
    role: "ADMIN",
    label: apiKeyLabel(key.name),
    expiresAt: key.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
    idleExpiresAt: Number.POSITIVE_INFINITY,
    apiKey: {
      id: key.id,
      name: key.name,
      permissions: key.permissions,
      customerIds: key.tenant.kind === "MSP" && !key.allCustomers ? key.customerIds : null,
      allowedRanges: key.allowedRanges,
    },
  };
}

/**
 * The viewer an API key presents, or null: unknown, revoked, expired, or sent
 * from outside its allowed source ranges. Lookups are cached like sessions
 * (and dropped on revocation everywhere); last use is written once a minute.
 */
export async function authenticateApiKey(services: KeyServices, token: string, ip: string): Promise<Viewer | null> {
  if (!looksLikeApiKey(token)) return null;
  const tokenHash = hashToken(token);
  const now = services.clock.now();
  const viewer =
    services.sessionCache.get(tokenHash, LAST_USED_EVERY_MS, now) ??
    (await services.sessionCache.lookUp(tokenHash, (generation) => lookUpApiKey(services, tokenHash, ip, generation)));
  if (!viewer?.apiKey) return null;
  const ranges = viewer.apiKey.allowedRanges;
  if (ranges.length > 0 && !addressInRanges(ip, ranges)) return null;
  return viewer;
}

async function lookUpApiKey(services: KeyServices, tokenHash: string, ip: string, generation: number): Promise<Viewer | null> {
  const key = await services.db.apiKey.findUnique({ where: { tokenHash }, include: { tenant: { select: { kind: true } } } });
  const now = services.clock.now();
  if (!key || key.revokedAt) return null;
  if (key.expiresAt && key.expiresAt.getTime() <= now) return null;
  let lastUsedAt = key.lastUsedAt?.getTime() ?? 0;
  if (now - lastUsedAt >= LAST_USED_EVERY_MS) {
    lastUsedAt = now;
    // Conditional, so instances looking the key up together write it once.
    await services.db.apiKey.updateMany({
      where: { id: key.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: new Date(now - LAST_USED_EVERY_MS) } }] },
      data: { lastUsedAt: new Date(now), lastUsedIp: ip },
    });
  }
  const viewer = keyViewer(key);
  services.sessionCache.set(
    tokenHash,
    { viewer, expiresAt: viewer.expiresAt, idleExpiresAt: Number.POSITIVE_INFINITY, lastSeenAt: lastUsedAt },
    generation,
    now,
  );
  return viewer;
}

/** A key's state as people read it. */
export function apiKeyStatus(key: Pick<ApiKey, "revokedAt" | "expiresAt">, now: number) {
  if (key.revokedAt) return "REVOKED" as const;
  if (key.expiresAt && key.expiresAt.getTime() <= now) return "EXPIRED" as const;
  return "ACTIVE" as const;
}

