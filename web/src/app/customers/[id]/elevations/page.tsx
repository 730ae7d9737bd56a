import type { Metadata } from "next";
import { CustomerElevations } from "@/elevation/CustomerElevations";

export const metadata: Metadata = { title: "Elevations" };

export default function CustomerElevationsPage() {
  return <CustomerElevations />;
}
