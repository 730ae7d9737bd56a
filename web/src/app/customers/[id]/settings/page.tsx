import type { Metadata } from "next";
import { CustomerSettingsScreen } from "@/customers/CustomerSettingsScreen";

export const metadata: Metadata = { title: "Settings and access" };

export default function CustomerSettingsPage() {
  return <CustomerSettingsScreen />;
}
