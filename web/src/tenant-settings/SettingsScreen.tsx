"use client";

import { useQuery } from "urql";
import { graphql } from "@/gql";
import { PortalPage } from "@/session/PortalPage";
import { TenantSettingsForm } from "./TenantSettingsForm";

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
    }
  }
`);

/** The signed-in MSP's own settings. */
export function SettingsScreen() {
  return <PortalPage title="Settings">{(viewer) => <OwnTenantSettings tenantId={viewer.tenant.id} />}</PortalPage>;
}

function OwnTenantSettings({ tenantId }: { tenantId: string }) {
  const [{ data, error }] = useQuery({ query: OwnTenantSettingsQuery, variables: { id: tenantId } });
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
    </div>
  );
}
