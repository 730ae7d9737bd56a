"use client";

import { PortalPage } from "@/session/PortalPage";
import { ElevationsScreen } from "./ElevationsScreen";

/** Technician sessions across every customer the viewer reaches. */
export function MspElevations() {
  return <PortalPage title="Elevations">{(viewer) => <ElevationsScreen tenantId={viewer.tenant.id} mspWide={viewer.tenant.kind === "MSP"} />}</PortalPage>;
}
