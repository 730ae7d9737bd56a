"use client";

import { useSubscription } from "urql";
import { graphql } from "@/gql";
import { useCustomerPage } from "@/customers/CustomerShell";
import { InstallTokens } from "@/install-tokens/InstallTokens";
import { TechnicianSessionChangedSubscription } from "@/elevation/elevation-operations";
import { WorkstationList } from "./WorkstationList";

const WorkstationChangedSubscription = graphql(`
  subscription WorkstationChanged($tenantId: ID!) {
    workstationChanged(tenantId: $tenantId) {
      workstationId
      change
      workstation {
        ...WorkstationFields
      }
    }
  }
`);

/**
 * Enrolling workstations (install tokens) and the ones enrolled, live while the page is open:
 * each change to the customer's workstations is pushed, and the cache (portal-cache.ts) updates
 * the workstation in place or asks again for the lists, the tokens' uses and the customer's figures.
 */
export function WorkstationsScreen() {
  const { customer } = useCustomerPage();
  const [live] = useSubscription({ query: WorkstationChangedSubscription, variables: { tenantId: customer.id } });
  // Elevations starting and ending show on their workstations (portal-cache.ts asks for them again).
  useSubscription({ query: TechnicianSessionChangedSubscription, variables: { tenantId: customer.id } });
  return (
    <div className="customers-layout">
      <WorkstationList tenantId={customer.id} canManage={customer.viewerCanEditSettings} liveProblem={live.error?.message ?? null} />
      <InstallTokens tenantId={customer.id} tenantSlug={customer.slug} canManage={customer.viewerCanEditSettings} />
    </div>
  );
}
