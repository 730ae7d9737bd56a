import { builder } from "../../builder.ts";

export const Delegation = builder.prismaObject("Delegation", {
  description: "A technician's access to one customer. Visible to the MSP's admins and to that technician.",
  authScopes: (delegation) => ({ $any: { mspAdmin: delegation.mspId, self: delegation.technicianId } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    technician: t.relation("technician"),
    customer: t.relation("customer"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
