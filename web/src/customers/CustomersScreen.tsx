"use client";

import { PortalHeader } from "@/session/PortalHeader";
import { SignedIn } from "@/session/SignedIn";
import { CreateCustomerForm } from "./CreateCustomerForm";
import { CustomerList } from "./CustomerList";

export function CustomersScreen() {
  return (
    <SignedIn>
      {(viewer) => (
        <>
          <PortalHeader viewer={viewer} />
          <main className="page">
            <h1>Customers</h1>
            {viewer.tenant.kind === "MSP" ? (
              <div className="customers-layout">
                <CustomerList />
                {viewer.tenant.viewerCanCreateCustomers ? (
                  <CreateCustomerForm mspSlug={viewer.tenant.slug} />
                ) : (
                  <p className="card muted">Ask an admin of {viewer.tenant.displayName} to create customers.</p>
                )}
              </div>
            ) : (
              <p className="card muted">
                {viewer.tenant.displayName} is a customer tenant; customers belong to its MSP.
              </p>
            )}
          </main>
        </>
      )}
    </SignedIn>
  );
}
