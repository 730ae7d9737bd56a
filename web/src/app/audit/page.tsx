import type { Metadata } from "next";
import { MspAuditLog } from "@/audit-log/MspAuditLog";

export const metadata: Metadata = { title: "Audit log" };

export default function MspAuditPage() {
  return <MspAuditLog />;
}
