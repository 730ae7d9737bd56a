"use client";

import { PortalPage } from "@/session/PortalPage";
import { ApiKeys } from "./ApiKeys";
import { Webhooks } from "./Webhooks";

/**
 * Settings > Integrations: the API keys and webhooks of the signed-in admin's own tenant
 * (an MSP's cover its customers). See docs/integrating.md for what integrators do with them.
 */
export function IntegrationsScreen() {
  return (
    <PortalPage title="Integrations">
      {(viewer) =>
        viewer.user.role !== "ADMIN" ? (
          <p className="page-status" role="alert">
            Only admins manage integrations.
          </p>
        ) : (
          <div className="narrow">
            <ApiKeys tenantId={viewer.tenant.id} msp={viewer.tenant.kind === "MSP"} />
            <Webhooks tenantId={viewer.tenant.id} msp={viewer.tenant.kind === "MSP"} />
          </div>
        )
      }
    </PortalPage>
  );
}
