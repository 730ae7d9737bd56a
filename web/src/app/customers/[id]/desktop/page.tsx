import type { Metadata } from "next";
import { DesktopScreen } from "@/desktop-login/DesktopScreen";

export const metadata: Metadata = { title: "Desktop login" };

export default function CustomerDesktopPage() {
  return <DesktopScreen />;
}
