import type { Metadata } from "next";
import { AccountsScreen } from "@/elevation/AccountsScreen";

export const metadata: Metadata = { title: "Accounts" };

export default function CustomerAccountsPage() {
  return <AccountsScreen />;
}
