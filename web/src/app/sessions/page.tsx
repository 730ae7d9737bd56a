import type { Metadata } from "next";
import { SessionsScreen } from "@/sessions/SessionsScreen";

export const metadata: Metadata = { title: "Sessions" };

export default function SessionsPage() {
  return <SessionsScreen />;
}
