"use client";

import { PortalHeader } from "@/session/PortalHeader";
import { SignedIn } from "@/session/SignedIn";
import { TeamList } from "./TeamList";

export function TeamScreen() {
  return (
    <SignedIn>
      {(viewer) => (
        <>
          <PortalHeader viewer={viewer} />
          <main className="page">
            <h1>Team</h1>
            {viewer.tenant.kind === "MSP" ? (
              <TeamList tenantId={viewer.tenant.id} tenantName={viewer.tenant.displayName} viewerId={viewer.user.id} />
            ) : (
              <p className="card muted">
                {viewer.tenant.displayName} is a customer tenant; the team page is for its MSP&apos;s staff.
              </p>
            )}
          </main>
        </>
      )}
    </SignedIn>
  );
}
