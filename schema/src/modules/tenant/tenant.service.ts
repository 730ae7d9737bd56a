import type { Prisma } from "@latchkey/db";
import { violatedUniqueConstraint } from "../../database-errors.ts";
import { z } from "zod";
import { administeredTenants, reachableCustomers } from "../../access.ts";
import type { Context } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../errors.ts";
import { displayName, isUuid, parseInput } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { customerName, customerSlug, slugSuffixes } from "./tenant-names.ts";

type Db = Prisma.TransactionClient;

/**
 * Refuses an MSP slug that would read as `<customer>-<another MSP>` or that an
 * existing MSP slug would read as a customer of.
 */
export async function assertMspSlugUnambiguous(db: Db, slug: string) {
  const suffixes = slugSuffixes(slug);
  const clash = await db.tenant.findFirst({
    where: {
      kind: "MSP",
      OR: [{ slug: { in: suffixes } }, { slug: { endsWith: `-${slug}` } }],
    },
    select: { id: true },
  });
  const taken = await db.tenant.findUnique({ where: { slug }, select: { id: true } });
  if (taken) throw new ConflictError("This name is already taken", "slug");
  if (clash) throw new ConflictError("This name is too close to an existing MSP's name", "slug");
}

const createCustomerInput = z.object({ name: customerName, displayName });

export async function createCustomer(ctx: Context, input: { name: string; displayName: string }) {
  const viewer = ctx.viewer;
  if (!viewer || viewer.tenantKind !== "MSP" || viewer.role !== "ADMIN") {
    throw new ForbiddenError("Only MSP admins create customers");
  }
  const data = parseInput(createCustomerInput, input);
  const msp = await ctx.db.tenant.findUniqueOrThrow({ where: { id: viewer.tenantId }, select: { id: true, slug: true } });
  const slug = customerSlug(data.name, msp.slug);
  if (slug.length > 63) throw ValidationError.field("name", "The subdomain would exceed 63 characters");
  try {
    return await auditedChange(ctx, async (tx) => {
      const customer = await tx.tenant.create({
        data: { kind: "CUSTOMER", parentId: msp.id, slug, name: data.name, displayName: data.displayName },
      });
      // Its key pair now: whoever sets a password seals it to this key.
      await ctx.tenantKeys.publicKeyFor(tx, customer.id);
      return { result: customer, audit: { tenantId: msp.id, action: "customer.created", targetType: "Tenant", targetId: customer.id, data: { slug } } };
    });
  } catch (error) {
    throw uniqueViolation(error, new ConflictError("A customer with this name already exists", "name"));
  }
}

/** How long audit events may be kept: at least a month, at most ten years. */
export const AUDIT_RETENTION_DAYS = { min: 30, max: 3650 };

const settingsInput = z.object({
  tenantId: z.string(),
  userSource: z.enum(["LOCAL"]).optional().nullable(),
  displayName: displayName.optional().nullable(),
  auditRetentionDays: z
    .number()
    .int()
    .min(AUDIT_RETENTION_DAYS.min, `Keep audit events at least ${AUDIT_RETENTION_DAYS.min} days`)
    .max(AUDIT_RETENTION_DAYS.max, `Keep audit events at most ${AUDIT_RETENTION_DAYS.max} days`)
    .optional()
    .nullable(),
});

export async function updateTenantSettings(
  ctx: Context,
  input: { tenantId: string; userSource?: "LOCAL" | null; displayName?: string | null; auditRetentionDays?: number | null },
) {
  const data = parseInput(settingsInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  const changes: Prisma.TenantUpdateInput = {};
  if (data.userSource) changes.userSource = data.userSource;
  if (data.displayName) changes.displayName = data.displayName;
  if (data.auditRetentionDays) changes.auditRetentionDays = data.auditRetentionDays;
  return auditedChange(ctx, async (tx) => ({
    result: await tx.tenant.update({ where: { id: tenant.id }, data: changes }),
    audit: {
      tenantId: tenant.id,
      action: "tenant.settingsUpdated",
      targetType: "Tenant",
      targetId: tenant.id,
      data: { userSource: data.userSource ?? null, displayName: data.displayName ?? null, auditRetentionDays: data.auditRetentionDays ?? null },
    },
  }));
}

/** Loads a mutation target through the tenant condition: anything else is NOT_FOUND. */
export async function findAdministeredTenant(ctx: Context, tenantId: string) {
  if (!isUuid(tenantId)) throw new NotFoundError("Tenant");
  const tenant = await ctx.db.tenant.findFirst({
    where: { AND: [{ id: tenantId }, administeredTenants(ctx.viewer)] },
  });
  if (!tenant) throw new NotFoundError("Tenant");
  return tenant;
}

export async function findReachableCustomer(ctx: Context, customerId: string) {
  if (!isUuid(customerId)) throw new NotFoundError("Customer");
  const customer = await ctx.db.tenant.findFirst({ where: { AND: [{ id: customerId }, reachableCustomers(ctx.viewer)] } });
  if (!customer) throw new NotFoundError("Customer");
  return customer;
}

/** Turns a unique-constraint race into the caller's CONFLICT; rethrows anything else. */
export function uniqueViolation(error: unknown, conflict: ConflictError): unknown {
  return violatedUniqueConstraint(error) ? conflict : error;
}
