import type { Metadata } from "next";
import { MspElevations } from "@/elevation/MspElevations";

export const metadata: Metadata = { title: "Elevations" };

export default function ElevationsPage() {
  return <MspElevations />;
}
