"use client";

import { useCallback, useState } from "react";
import { useQuery } from "urql";
import type { CustomerDesktopSettingsQuery } from "@/gql/graphql";
import { BrandingForm } from "@/branding/BrandingForm";
import { LoginScreenPreview } from "@/branding/LoginScreenPreview";
import { useCustomerPage } from "@/customers/CustomerShell";
import { CustomerDesktopSettingsQuery as CustomerDesktopSettingsQueryDocument } from "./desktop-settings-operations";
import { DesktopLoginForm, type DesktopLoginValues } from "./DesktopLoginForm";
import { MasterKeyPanel } from "@/master-key/MasterKeyPanel";

type Settings = NonNullable<NonNullable<CustomerDesktopSettingsQuery["tenant"]>["desktopSettings"]>;

/** How the customer's workstations sign users in, their login screen's branding, and its preview. */
export function DesktopScreen() {
  const { customer } = useCustomerPage();
  const [{ data, error }, refetch] = useQuery({
    query: CustomerDesktopSettingsQueryDocument,
    variables: { id: customer.id },
  });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);

  if (!data && !error) {
    return (
      <p className="page-status" role="status">
        Loading desktop login settings…
      </p>
    );
  }
  const settings = data?.tenant?.desktopSettings;
  if (error || !settings) {
    return (
      <p className="page-status" role="alert">
        Could not load the desktop login settings{error ? `: ${error.message}` : "."}{" "}
        <button type="button" className="button-link" onClick={reload}>
          Try again
        </button>
      </p>
    );
  }
  return (
    <DesktopEditor
      tenantId={customer.id}
      tenantName={customer.displayName}
      settings={settings}
      canEdit={data?.tenant?.viewerCanEditSettings ?? false}
    />
  );
}

function DesktopEditor(props: {
  tenantId: string;
  tenantName: string;
  settings: Settings;
  canEdit: boolean;
}) {
  const { settings } = props;
  // What the forms hold, saved or not: the preview follows them as they are edited.
  const [login, setLogin] = useState<DesktopLoginValues>({
    desktopLoginEnabled: settings.desktopLoginEnabled,
    method: settings.method,
    passwordFallback: settings.passwordFallback,
  });
  const [text, setText] = useState(settings.branding.text ?? "");

  return (
    <div className="desktop-layout">
      <div className="desktop-forms">
        <DesktopLoginForm tenantId={props.tenantId} initial={login} canEdit={props.canEdit} onChange={setLogin} />
        <MasterKeyPanel tenantId={props.tenantId} tenantName={props.tenantName} />
        <BrandingForm
          tenantId={props.tenantId}
          text={text}
          background={settings.branding.background ?? null}
          logo={settings.branding.logo ?? null}
          canEdit={props.canEdit}
          onTextChange={setText}
        />
      </div>
      <div className="desktop-preview">
        <LoginScreenPreview
          tenantName={props.tenantName}
          text={text}
          background={settings.branding.background ?? null}
          logo={settings.branding.logo ?? null}
          {...login}
        />
      </div>
    </div>
  );
}
