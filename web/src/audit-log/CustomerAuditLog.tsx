"use client";

import { useCustomerPage } from "@/customers/CustomerShell";
import { AuditLogScreen } from "./AuditLogScreen";

/** One customer's audit log, as a section of its page. */
export function CustomerAuditLog() {
  const { customer } = useCustomerPage();
  return <AuditLogScreen tenantId={customer.id} includeCustomers={false} title="Audit log" />;
}
