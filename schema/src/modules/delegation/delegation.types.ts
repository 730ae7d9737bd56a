import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";

export const Delegation = builder.prismaObject("Delegation", {
  description: "A technician's access to one customer. Visible to the MSP's admins and to that technician.",
  authScopes: (delegation) => ({ $any: { mspAdmin: delegation.mspId, self: delegation.technicianId } }),
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id", { description: "The delegation's id." }),
    technician: t.relation("technician", { description: "The MSP technician who has the access." }),
    customer: t.relation("customer", { description: "The customer they reach." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the access was given." }),
  }),
});
