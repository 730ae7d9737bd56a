import type { Metadata } from "next";
import { CustomerAuditLog } from "@/audit-log/CustomerAuditLog";

export const metadata: Metadata = { title: "Audit log" };

export default function CustomerAuditPage() {
  return <CustomerAuditLog />;
}
