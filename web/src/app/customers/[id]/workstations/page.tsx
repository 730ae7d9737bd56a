import type { Metadata } from "next";
import { WorkstationsScreen } from "@/workstations/WorkstationsScreen";

export const metadata: Metadata = { title: "Workstations" };

export default function CustomerWorkstationsPage() {
  return <WorkstationsScreen />;
}
