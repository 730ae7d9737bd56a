"use client";

import { useCustomerPage } from "@/customers/CustomerShell";
import { InstallTokens } from "@/install-tokens/InstallTokens";
import { WorkstationList } from "./WorkstationList";

/** Enrolling workstations (install tokens) and the ones enrolled. */
export function WorkstationsScreen() {
  const { customer } = useCustomerPage();
  return (
    <div className="customers-layout">
      <WorkstationList tenantId={customer.id} canManage={customer.viewerCanEditSettings} />
      <InstallTokens tenantId={customer.id} canManage={customer.viewerCanEditSettings} />
    </div>
  );
}
