import type { Prisma } from "@latchkey/db";
import { violatedUniqueConstraint } from "../../database-errors.ts";
import { z } from "zod";
import { administeredTenants, reachableCustomers } from "../../access.ts";
import type { Context } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../errors.ts";
import { displayName, isUuid, parseInput } from "../../validation.ts";
import { auditedChange, publishAudit, purgeAuditEvents, recordAudit } from "../audit/audit.service.ts";
import { publishSessionsEnded, revokeSessions } from "../session/session.service.ts";
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
  signInRequiresPhone: z.boolean().optional().nullable(),
  mspMayHoldMasterKey: z.boolean().optional().nullable(),
});

export async function updateTenantSettings(
  ctx: Context,
  input: {
    tenantId: string;
    userSource?: "LOCAL" | null;
    displayName?: string | null;
    auditRetentionDays?: number | null;
    signInRequiresPhone?: boolean | null;
    mspMayHoldMasterKey?: boolean | null;
  },
) {
  const data = parseInput(settingsInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  // A delegated technician manages a customer's directory, but does not weaken how its people sign in.
  if (data.signInRequiresPhone === false && ctx.viewer?.role !== "ADMIN") {
    throw new ForbiddenError("Only an admin switches off the phone at sign-in");
  }
  // Who may hold a customer's master key is the customer's own choice: its MSP cannot grant itself the key.
  if (typeof data.mspMayHoldMasterKey === "boolean" && (tenant.kind !== "CUSTOMER" || ctx.viewer?.tenantId !== tenant.id || ctx.viewer.role !== "ADMIN")) {
    throw new ForbiddenError("Only the customer's own admins let their MSP's staff hold its master key");
  }
  const changes: Prisma.TenantUpdateInput = {};
  if (data.userSource) changes.userSource = data.userSource;
  if (data.displayName) changes.displayName = data.displayName;
  if (data.auditRetentionDays) changes.auditRetentionDays = data.auditRetentionDays;
  if (typeof data.signInRequiresPhone === "boolean") changes.signInRequiresPhone = data.signInRequiresPhone;
  if (typeof data.mspMayHoldMasterKey === "boolean") changes.mspMayHoldMasterKey = data.mspMayHoldMasterKey;
  return auditedChange(ctx, async (tx) => ({
    result: await tx.tenant.update({ where: { id: tenant.id }, data: changes }),
    audit: {
      tenantId: tenant.id,
      action: "tenant.settingsUpdated",
      targetType: "Tenant",
      targetId: tenant.id,
      data: {
        userSource: data.userSource ?? null,
        displayName: data.displayName ?? null,
        auditRetentionDays: data.auditRetentionDays ?? null,
        signInRequiresPhone: data.signInRequiresPhone ?? null,
        mspMayHoldMasterKey: data.mspMayHoldMasterKey ?? null,
      },
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

/**
 * A customer its MSP's admins may suspend or delete: NOT_FOUND unless the viewer
 * reaches it, FORBIDDEN for a technician who reaches it by delegation only.
 */
async function findOwnedCustomer(ctx: Context, customerId: string) {
  const customer = await findReachableCustomer(ctx, customerId);
  const viewer = ctx.viewer!;
  if (viewer.tenantKind !== "MSP" || viewer.role !== "ADMIN" || customer.parentId !== viewer.tenantId) {
    throw new ForbiddenError("Only the MSP's admins suspend or delete a customer");
  }
  return customer;
}

const suspendInput = z.object({ customerId: z.string(), reason: z.string().trim().max(500, "Use at most 500 characters").optional().nullable() });

/**
 * Suspends a customer: its data stays, its users are signed out everywhere and
 * cannot sign in, its workstations refuse logins. Suspending a suspended customer
 * changes nothing.
 */
export async function suspendCustomer(ctx: Context, input: { customerId: string; reason?: string | null }) {
  const data = parseInput(suspendInput, input);
  const customer = await findOwnedCustomer(ctx, data.customerId);
  if (customer.status === "SUSPENDED") return customer;
  const { suspended, endedSessions, event } = await ctx.db.$transaction(async (tx) => {
    const suspended = await tx.tenant.update({ where: { id: customer.id }, data: { status: "SUSPENDED", suspendedAt: new Date(ctx.clock.now()) } });
    const endedSessions = await revokeSessions(tx, { user: { tenantId: customer.id } });
    const event = await recordAudit(tx, ctx, {
      tenantId: customer.id,
      action: "customer.suspended",
      targetType: "Tenant",
      targetId: customer.id,
      data: { reason: data.reason || null, sessionsEnded: endedSessions.length },
    });
    return { suspended, endedSessions, event };
  });
  publishAudit(ctx, [event]);
  publishSessionsEnded(ctx, endedSessions, "customer suspended");
  return suspended;
}

/** Lifts a suspension: the customer's users may sign in again with what they had. */
export async function resumeCustomer(ctx: Context, input: { customerId: string }) {
  const customer = await findOwnedCustomer(ctx, input.customerId);
  if (customer.status === "ACTIVE") return customer;
  return auditedChange(ctx, async (tx) => ({
    result: await tx.tenant.update({ where: { id: customer.id }, data: { status: "ACTIVE", suspendedAt: null } }),
    audit: { tenantId: customer.id, action: "customer.resumed", targetType: "Tenant", targetId: customer.id },
  }));
}

const deleteInput = z.object({ customerId: z.string(), confirmation: z.string().trim().toLowerCase().max(100) });

/**
 * Deletes a customer and everything of it, once its slug is typed as confirmation.
 * Its audit log goes through the purge function like any purge, with the
 * checkpoint written to the MSP's own log; the MSP's events about the customer
 * stay. Its workstations' open connections end, and their credentials no longer
 * verify: an agent falls back to Windows' own sign-in.
 */
export async function deleteCustomer(ctx: Context, input: { customerId: string; confirmation: string }) {
  const data = parseInput(deleteInput, input);
  const customer = await findOwnedCustomer(ctx, data.customerId);
  if (data.confirmation !== customer.slug) {
    throw ValidationError.field("confirmation", `Type the customer's name, ${customer.slug}, to delete it`);
  }
  const { workstationIds, endedSessions, event } = await ctx.db.$transaction(async (tx) => {
    const workstations = await tx.workstation.findMany({ where: { tenantId: customer.id }, select: { id: true } });
    const users = await tx.user.count({ where: { tenantId: customer.id } });
    // Sessions of its users, and any session working in it, end before their rows go.
    const endedSessions = await revokeSessions(tx, { OR: [{ tenantId: customer.id }, { user: { tenantId: customer.id } }] });
    const auditEventsPurged = await purgeAuditEvents(tx, customer.id, null, "customer deleted", customer.parentId);
    await tx.tenant.delete({ where: { id: customer.id } });
    const event = await recordAudit(tx, ctx, {
      tenantId: customer.parentId!,
      action: "customer.deleted",
      targetType: "Tenant",
      targetId: customer.id,
      data: { slug: customer.slug, displayName: customer.displayName, users, workstations: workstations.length, auditEventsPurged },
    });
    return { workstationIds: workstations.map((w) => w.id), endedSessions, event };
  });
  publishAudit(ctx, [event]);
  publishSessionsEnded(ctx, endedSessions, "customer deleted");
  for (const id of workstationIds) ctx.pubsub.publish("workstation:removed", id, { reason: "customer deleted" });
  return customer.id;
}
