import type { ReactNode } from "react";
import { CustomerShell } from "@/customers/CustomerShell";

export default async function CustomerLayout({ params, children }: { params: Promise<{ id: string }>; children: ReactNode }) {
  const { id } = await params;
  return <CustomerShell id={id}>{children}</CustomerShell>;
}
