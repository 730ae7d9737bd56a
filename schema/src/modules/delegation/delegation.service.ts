import type { Context } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../errors.ts";
import { isUuid } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { uniqueViolation } from "../tenant/tenant.service.ts";
import { revokeTechnicianSessions } from "../elevation/elevation.service.ts";

/**
 * Loads both sides of a delegation through the MSP admin's own tenant: a
 * technician or customer of another MSP is NOT_FOUND, as is a missing id.
 */
async function loadPair(ctx: Context, input: { technicianId: string; customerId: string }) {
  const viewer = ctx.viewer;
  if (!viewer || viewer.tenantKind !== "MSP" || viewer.role !== "ADMIN") {
    throw new ForbiddenError("Only MSP admins manage delegations");
  }
  const [technician, customer] = await Promise.all([
    isUuid(input.technicianId)
      ? ctx.db.user.findFirst({ where: { id: input.technicianId, tenantId: viewer.tenantId } })
      : null,
    isUuid(input.customerId)
      ? ctx.db.tenant.findFirst({ where: { id: input.customerId, kind: "CUSTOMER", parentId: viewer.tenantId } })
      : null,
  ]);
  if (!technician) throw new NotFoundError("Technician");
  if (!customer) throw new NotFoundError("Customer");
  return { mspId: viewer.tenantId, technician, customer };
}

export async function delegateCustomerAccess(ctx: Context, input: { technicianId: string; customerId: string }) {
  const { mspId, technician, customer } = await loadPair(ctx, input);
  if (technician.role !== "TECHNICIAN") {
    throw ValidationError.field("technicianId", "MSP admins already reach every customer; delegate to technicians");
  }
  try {
    return await auditedChange(ctx, async (tx) => {
      const delegation = await tx.delegation.create({
        data: { mspId, technicianId: technician.id, customerId: customer.id, createdById: ctx.viewer!.userId },
      });
      return {
        result: delegation,
        audit: { tenantId: mspId, action: "delegation.granted", targetType: "Delegation", targetId: delegation.id, data: { technicianId: technician.id, customerId: customer.id } },
      };
    });
  } catch (error) {
    throw uniqueViolation(error, new ConflictError("This technician already has access to this customer"));
  }
}

export async function revokeCustomerAccess(ctx: Context, input: { technicianId: string; customerId: string }) {
  const { mspId, technician, customer } = await loadPair(ctx, input);
  await auditedChange(ctx, async (tx) => {
    const removed = await tx.delegation.deleteMany({ where: { technicianId: technician.id, customerId: customer.id } });
    if (removed.count === 0) throw new NotFoundError("Delegation");
    return {
      result: removed.count,
      audit: { tenantId: mspId, action: "delegation.revoked", targetType: "User", targetId: technician.id, data: { technicianId: technician.id, customerId: customer.id } },
    };
  });
  // Live views the technician opened on that customer must stop now, on every instance.
  ctx.pubsub.publish("user:accessChanged", technician.id, { reason: "delegation revoked" });
  await revokeTechnicianSessions(ctx, { userId: technician.id, customerId: customer.id }, "delegation revoked");
  return { technician, customer };
}
