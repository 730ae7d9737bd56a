"use client";

import { useQuery } from "urql";
import { graphql } from "@/gql";
import { PortalPage } from "@/session/PortalPage";
import { TenantSettingsForm } from "./TenantSettingsForm";
import { DueRotationsPanel } from "@/master-key/DueRotationsPanel";

const OwnTenantSettingsQuery = graphql(`
  query OwnTenantSettings($id: ID!) {
    tenant(id: $id) {
      id
      kind
      displayName
      userSource
      auditRetentionDays
      signInRequiresPhone
      viewerCanEditSettings
      customersDueForRotation
    }
  }
`);

/** The signed-in MSP's own settings. */
export function SettingsScreen() {
  return <PortalPage title="Settings">{(viewer) => <OwnTenantSettings tenantId={viewer.tenant.id} />}</PortalPage>;
}

function OwnTenantSettings({ tenantId }: { tenantId: string }) {
  const [{ data, error }, refetch] = useQuery({ query: OwnTenantSettingsQuery, variables: { id: tenantId } });
  if (!data && !error) {
    return (
      <p className="page-status" role="status">
        Loading settings…
      </p>
    );
  }
  if (error || !data?.tenant) {
    return (
      <p className="page-status" role="alert">
        Could not load the settings{error ? `: ${error.message}` : "."}
      </p>
    );
  }
  return (
    <div className="narrow">
      <TenantSettingsForm tenant={data.tenant} canEdit={data.tenant.viewerCanEditSettings} />
      {(data.tenant.customersDueForRotation ?? 0) > 0 && <DueRotationsPanel mspId={tenantId} due={data.tenant.customersDueForRotation!} onDone={() => refetch({ requestPolicy: "network-only" })} />}
    </div>
  );
}
