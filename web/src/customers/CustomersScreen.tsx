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
          <OwnDirectoryRedirect tenantId={viewer.tenant.id} />
        )
      }
    </PortalPage>
  );
}

/** A customer's admin has one customer, their own: their home is its page. */
function OwnDirectoryRedirect({ tenantId }: { tenantId: string }) {
  const router = useRouter();
  useEffect(() => router.replace(`/customers/${tenantId}`), [router, tenantId]);
  return (
    <p className="page-status" role="status">
      Opening your directory…
    </p>
  );
}
