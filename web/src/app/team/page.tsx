import type { Metadata } from "next";
import { TeamScreen } from "@/team/TeamScreen";

export const metadata: Metadata = { title: "Team" };

export default function TeamPage() {
  return <TeamScreen />;
}
