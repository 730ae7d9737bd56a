"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { PortalPage } from "@/session/PortalPage";
import { CreateCustomerForm } from "./CreateCustomerForm";
import { CustomerList } from "./CustomerList";

export function CustomersScreen() {
  return (
    <PortalPage title="Customers">
      {(viewer) =>
        viewer.tenant.kind === "MSP" ? (
          <div className="customers-layout">
            <CustomerList canCreate={viewer.tenant.viewerCanCreateCustomers} />
            {viewer.tenant.viewerCanCreateCustomers ? (
              <CreateCustomerForm mspSlug={viewer.tenant.slug} />
            ) : (
              <p className="card muted">Ask an admin of {viewer.tenant.displayName} to create customers.</p>
            )}
          </div>
        ) : (
          <OwnHomeRedirect to={viewer.tenant.viewerCanManageUsers ? `/customers/${viewer.tenant.id}` : "/account"} />
        )
      }
    </PortalPage>
  );
}

/** A customer's admin has one customer, their own: their home is its page. Its users' home is their account. */
function OwnHomeRedirect({ to }: { to: string }) {
  const router = useRouter();
  useEffect(() => router.replace(to), [router, to]);
  return (
    <p className="page-status" role="status">
      Opening your page…
    </p>
  );
}
