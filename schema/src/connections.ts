// One connection type per node type (STYLE.md): every page of users is a
// `UserConnection`, wherever it is asked for, so an integrator writes one
// fragment per type rather than one per field.
import { builder } from "./builder.ts";

/** What a Prisma connection's `totalCount` option leaves on the page it resolves. */
type CountedPage = { totalCount?: () => number | Promise<number> };

/**
 * `UserConnection` and `UserEdge` for the node type `User`. Fields returning it
 * pass their count as `totalCount` to `t.prismaConnection`, as before.
 */
function nodeConnection(typeName: string, plural: string) {
  return builder.connectionObject(
    {
      // By name: the node types' modules import these, not the other way round.
      type: typeName as never,
      name: `${typeName}Connection`,
      description: `A page of ${plural}.`,
      fields: (t) => ({
        totalCount: t.int({
          description: `How many ${plural} the whole list holds, over every page.`,
          // Lets a page asking for nothing but its count skip loading rows.
          extensions: { pothosPrismaTotalCount: true },
          resolve: async (page) => (await (page as CountedPage).totalCount?.()) ?? 0,
        }),
      }),
    },
    { name: `${typeName}Edge`, description: `One of a page of ${plural}, with its cursor.` },
  );
}

export const TenantConnection = nodeConnection("Tenant", "tenants");
export const UserConnection = nodeConnection("User", "users");
export const WorkstationConnection = nodeConnection("Workstation", "workstations");
export const InstallTokenConnection = nodeConnection("InstallToken", "install tokens");
export const AuditEventConnection = nodeConnection("AuditEvent", "audit events");
export const LoginEventConnection = nodeConnection("LoginEvent", "login events");
export const TechnicianSessionConnection = nodeConnection("TechnicianSession", "technician sessions");
export const ApiKeyConnection = nodeConnection("ApiKey", "API keys");
export const WebhookConnection = nodeConnection("Webhook", "webhooks");
export const WebhookDeliveryConnection = nodeConnection("WebhookDelivery", "webhook deliveries");
export const SessionConnection = nodeConnection("Session", "sessions");
export const AuthenticatorConnection = nodeConnection("Authenticator", "authenticators");
export const DelegationConnection = nodeConnection("Delegation", "delegations");
export const WorkstationCommandConnection = nodeConnection("WorkstationCommand", "workstation commands");
