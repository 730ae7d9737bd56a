import { builder } from "../../builder.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { Tenant } from "../tenant/tenant.types.ts";
import { User } from "../user/user.types.ts";
import { Delegation } from "./delegation.types.ts";
import { delegateCustomerAccess, revokeCustomerAccess } from "./delegation.service.ts";

const CustomerAccessInput = (name: string, technicianDescription: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      technicianId: t.id({ required: true, description: technicianDescription }),
      customerId: t.id({ required: true, description: "A customer of the viewer's MSP (NOT_FOUND otherwise)." }),
    }),
  });

const DelegateCustomerAccessInput = CustomerAccessInput(
  "DelegateCustomerAccessInput",
  "A technician of the viewer's MSP (NOT_FOUND otherwise); an admin, who reaches every customer anyway, is refused with VALIDATION.",
);

const RevokeCustomerAccessInput = CustomerAccessInput(
  "RevokeCustomerAccessInput",
  "The technician: a user of the viewer's MSP (NOT_FOUND otherwise, as when they have no access to the customer).",
);

const DelegateCustomerAccessPayload = builder.simpleObject("DelegateCustomerAccessPayload", {
  fields: (t) => ({ delegation: t.field({ type: Delegation, description: "The new delegation." }) }),
});

const RevokeCustomerAccessPayload = builder.simpleObject("RevokeCustomerAccessPayload", {
  fields: (t) => ({
    technician: t.field({ type: User, description: "The technician, who no longer reaches the customer." }),
    customer: t.field({ type: Tenant, description: "The customer." }),
  }),
});

builder.mutationFields((t) => ({
  delegateCustomerAccess: t.field({
    type: DelegateCustomerAccessPayload,
    description: "Gives a technician access to one customer. MSP admins only.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError, ConflictError],
      union: { name: "DelegateCustomerAccessResult" },
    },
    args: { input: t.arg({ type: DelegateCustomerAccessInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      delegation: await delegateCustomerAccess(ctx, {
        technicianId: String(input.technicianId),
        customerId: String(input.customerId),
      }),
    }),
  }),
  revokeCustomerAccess: t.field({
    type: RevokeCustomerAccessPayload,
    description: "Withdraws a technician's access to a customer; their live views of it stop at once.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError],
      union: { name: "RevokeCustomerAccessResult" },
    },
    args: { input: t.arg({ type: RevokeCustomerAccessInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      revokeCustomerAccess(ctx, { technicianId: String(input.technicianId), customerId: String(input.customerId) }),
  }),
}));
