"use client";

import { CreateUserForm } from "@/directory/CreateUserForm";
import { PortalPage } from "@/session/PortalPage";
import { TeamList } from "./TeamList";

export function TeamScreen() {
  return (
    <PortalPage title="Team">
      {(viewer) =>
        viewer.tenant.kind === "MSP" ? (
          <div className="customers-layout">
            <TeamList tenantId={viewer.tenant.id} tenantName={viewer.tenant.displayName} viewerId={viewer.user.id} />
            {viewer.tenant.viewerCanManageUsers && (
              <CreateUserForm
                tenantId={viewer.tenant.id}
                title="Add a technician"
                submitLabel="Add technician"
                roles={["TECHNICIAN", "ADMIN"]}
                passwordHint="Without one they sign in with their phone: onboard it from the list once they are added."
              />
            )}
          </div>
        ) : (
          <p className="card muted">
            {viewer.tenant.displayName} is a customer tenant; the team page is for its MSP&apos;s staff.
          </p>
        )
      }
    </PortalPage>
  );
}
