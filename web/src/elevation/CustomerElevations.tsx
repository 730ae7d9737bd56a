"use client";

import { useCustomerPage } from "@/customers/CustomerShell";
import { ElevationsScreen } from "./ElevationsScreen";

/** One customer's technician sessions. */
export function CustomerElevations() {
  const { customer } = useCustomerPage();
  return <ElevationsScreen tenantId={customer.id} mspWide={false} />;
}
