"use client";

import { DelegationPanel } from "@/delegation/DelegationPanel";
import { TenantSettingsForm } from "@/tenant-settings/TenantSettingsForm";
import { CustomerLifecycle } from "./CustomerLifecycle";
import { useCustomerPage } from "./CustomerShell";

/** A customer's directory settings and, for MSP admins, which technicians reach it and its suspension or deletion. */
export function CustomerSettingsScreen() {
  const { viewer, customer } = useCustomerPage();
  return (
    <div className="customers-layout">
      {customer.viewerCanManageDelegations ? (
        <DelegationPanel customer={customer} mspId={viewer.tenant.id} />
      ) : (
        <section className="card">
          <h2>Technician access</h2>
          <p className="muted">Your MSP&apos;s admins decide which of its technicians reach {customer.displayName}.</p>
        </section>
      )}
      <TenantSettingsForm tenant={customer} canEdit={customer.viewerCanEditSettings} />
      {/* The same people who grant technicians access: the owning MSP's admins. */}
      {customer.viewerCanManageDelegations && <CustomerLifecycle customer={customer} />}
    </div>
  );
}
