"use client";

import { PortalPage } from "@/session/PortalPage";
import { AuditLogScreen } from "./AuditLogScreen";

/**
 * The MSP-wide audit log: the MSP's own events (for its admins) and those of every
 * customer the viewer reaches, in one list.
 */
export function MspAuditLog() {
  return (
    <PortalPage title="Audit log">
      {(viewer) => <AuditLogScreen tenantId={viewer.tenant.id} includeCustomers title="Across all your customers" />}
    </PortalPage>
  );
}
