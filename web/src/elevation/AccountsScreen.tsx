"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import type { ElevatedAccessQuery as ElevatedAccessData } from "@/gql/graphql";
import { useCustomerPage } from "@/customers/CustomerShell";
import { CheckboxField } from "@/forms/CheckboxField";
import { errorsFromResult, errorsFromTransport, noErrors, type FormErrors } from "@/forms/form-errors";
import { SelectField } from "@/forms/SelectField";
import { FormProblem, TextField } from "@/forms/TextField";
import { BreakGlassReveal } from "./BreakGlassReveal";
import { AssignWorkstationAccountMutation, ElevatedAccessQuery, UpdateElevatedAccessSettingsMutation } from "./elevation-operations";

const FIELDS = [
  "sharedAccountName",
  "technicianAccountPrefix",
  "maxSessionMinutes",
  "restartGraceMinutes",
  "manageBuiltInAdministrator",
  "passwordLength",
  "passwordCharacters",
  "minimumAgentVersion",
] as const;
type Field = (typeof FIELDS)[number];

type Settings = NonNullable<NonNullable<ElevatedAccessData["tenant"]>["elevatedAccess"]>;

const KIND_LABELS = { SHARED: "Shared", WORKSTATION: "Workstation's own", TECHNICIAN: "Technician's named" } as const;

/**
 * A customer's elevated access: the local admin account technicians are given (shared,
 * per workstation, or named per technician), how long a session lasts and whether the
 * workstation restarts afterwards. The agent generates and rotates the passwords itself.
 */
export function AccountsScreen() {
  const { customer, viewer } = useCustomerPage();
  // While the service keeps the key, only the admins of the MSP that owns the customer reveal break-glass
  // passwords; with the master key on, any admin asks and a phone that holds the key reveals.
  const mspAdmin = viewer.tenant.kind === "MSP" && viewer.user.role === "ADMIN";
  const [{ data, error }, refetch] = useQuery({ query: ElevatedAccessQuery, variables: { tenantId: customer.id, first: 100 }, requestPolicy: "cache-and-network" });
  if (!data && !error) {
    return (
      <p className="page-status" role="status">
        Loading elevated access…
      </p>
    );
  }
  const settings = data?.tenant?.elevatedAccess;
  if (error || !settings) {
    return (
      <p className="page-status" role="alert">
        Could not load elevated access: {error?.message ?? "not available"}
      </p>
    );
  }
  const reload = () => refetch({ requestPolicy: "network-only" });
  const masterKeyOn = data?.tenant?.masterKey?.on ?? false;
  const canReveal = masterKeyOn ? viewer.user.role === "ADMIN" : mspAdmin;
  return (
    <div className="customers-layout">
      <SettingsForm tenantId={customer.id} settings={settings} canEdit={customer.viewerCanEditSettings} onSaved={reload} />
      <section className="card" aria-labelledby="elevation-accounts-title">
        <h2 id="elevation-accounts-title">Accounts</h2>
        {settings.accounts.length === 0 ? (
          <p className="muted">No account yet: choose the shared account to let technicians elevate.</p>
        ) : (
          <ul className="user-list" aria-label="Elevation accounts">
            {settings.accounts.map((account) => (
              <li key={account.id} className="user-item">
                <strong>{account.name}</strong> <span className="tag">{KIND_LABELS[account.kind]}</span>
                {account.kind === "WORKSTATION" && <span className="muted"> · {account.workstationCount} workstation(s)</span>}
              </li>
            ))}
          </ul>
        )}
        <h3>Per workstation</h3>
        <ul className="user-list" aria-label="Workstation accounts">
          {(data?.workstations?.edges ?? []).map(({ node }) => (
            <WorkstationAccount
              key={node.id}
              tenantId={customer.id}
              masterKeyOn={masterKeyOn}
              workstation={node}
              canEdit={customer.viewerCanEditSettings}
              canReveal={canReveal}
              onSaved={reload}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}

function SettingsForm(props: { tenantId: string; settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const { settings } = props;
  const [{ fetching }, update] = useMutation(UpdateElevatedAccessSettingsMutation);
  const [values, setValues] = useState({
    sharedAccountName: settings.sharedAccountName ?? "",
    technicianAccountPrefix: settings.technicianAccountPrefix ?? "",
    maxSessionMinutes: String(settings.maxSessionMinutes),
    restartAfterSession: settings.restartAfterSession,
    restartGraceMinutes: String(settings.restartGraceMinutes ?? 5),
    manageBuiltInAdministrator: settings.manageBuiltInAdministrator,
    passwordLength: String(settings.passwordLength),
    passwordCharacters: settings.passwordCharacters,
    minimumAgentVersion: settings.minimumAgentVersion ?? "",
  });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [saved, setSaved] = useState("");

  function change(next: Partial<typeof values>) {
    setValues({ ...values, ...next });
    setErrors(noErrors);
    setSaved("");
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await update({
      input: {
        tenantId: props.tenantId,
        sharedAccountName: values.sharedAccountName.trim(),
        technicianAccountPrefix: values.technicianAccountPrefix.trim(),
        maxSessionMinutes: Number(values.maxSessionMinutes),
        restartAfterSession: values.restartAfterSession,
        ...(values.restartAfterSession ? { restartGraceMinutes: Number(values.restartGraceMinutes) } : {}),
        manageBuiltInAdministrator: values.manageBuiltInAdministrator,
        passwordLength: Number(values.passwordLength),
        passwordCharacters: values.passwordCharacters,
        minimumAgentVersion: values.minimumAgentVersion.trim(),
      },
    });
    const outcome = result.data?.updateElevatedAccessSettings;
    if (result.error || !outcome) return setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
    if (outcome.__typename !== "UpdateElevatedAccessSettingsPayload") return setErrors(errorsFromResult(outcome, FIELDS));
    setSaved(`Saved: technicians are elevated as ${values.technicianAccountPrefix.trim() ? `${values.technicianAccountPrefix.trim()}<n>` : values.sharedAccountName.trim()}.`);
    props.onSaved();
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="elevated-access-title">
      <h2 id="elevated-access-title">Configure shared account</h2>
      <p className="muted">
        Technicians scan a workstation&apos;s QR code to become this local administrator for a limited time. The workstation generates the
        password, sets it before the session and rotates it after; nobody, Latchkey included, ever sees it.
      </p>
      <FormProblem message={errors.form} />
      <fieldset className="plain-fieldset" disabled={!props.canEdit}>
        <div className="form">
          <TextField
            name="sharedAccountName"
            label="Shared admin account"
            hint="The local account name (at most 20 characters), e.g. LatchkeyAdmin. It may not be, or look like, a username of this customer."
            value={values.sharedAccountName}
            error={errors.fields.sharedAccountName}
            onChange={(event) => change({ sharedAccountName: event.target.value })}
          />
          <TextField
            name="technicianAccountPrefix"
            label="Named technician accounts prefix"
            hint="Optional: each technician gets their own account, this prefix and a number (lk-tech1), so the workstation's logs tell them apart."
            value={values.technicianAccountPrefix}
            error={errors.fields.technicianAccountPrefix}
            onChange={(event) => change({ technicianAccountPrefix: event.target.value })}
          />
          <TextField
            name="maxSessionMinutes"
            type="number"
            min={1}
            max={480}
            label="Maximum session length (minutes)"
            value={values.maxSessionMinutes}
            error={errors.fields.maxSessionMinutes}
            onChange={(event) => change({ maxSessionMinutes: event.target.value })}
          />
          <CheckboxField
            name="restartAfterSession"
            label="Restart the workstation after a session"
            hint="After a grace period, so the technician's processes cannot linger."
            checked={values.restartAfterSession}
            onChange={(event) => change({ restartAfterSession: event.target.checked })}
          />
          {values.restartAfterSession && (
            <TextField
              name="restartGraceMinutes"
              type="number"
              min={0}
              max={120}
              label="Grace period before the restart (minutes)"
              value={values.restartGraceMinutes}
              error={errors.fields.restartGraceMinutes}
              onChange={(event) => change({ restartGraceMinutes: event.target.value })}
            />
          )}
          <TextField
            name="passwordLength"
            type="number"
            min={14}
            max={127}
            label="Generated password length"
            hint="The workstation generates each password itself; it is never sent anywhere."
            value={values.passwordLength}
            error={errors.fields.passwordLength}
            onChange={(event) => change({ passwordLength: event.target.value })}
          />
          <SelectField
            name="passwordCharacters"
            label="Generated password characters"
            value={values.passwordCharacters}
            error={errors.fields.passwordCharacters}
            options={[
              { value: "ALPHANUMERIC_SYMBOLS", label: "Letters, digits and symbols" },
              { value: "ALPHANUMERIC", label: "Letters and digits" },
            ]}
            onChange={(event) => change({ passwordCharacters: event.target.value as Settings["passwordCharacters"] })}
          />
          <TextField
            name="minimumAgentVersion"
            label="Minimum agent version (optional)"
            hint="Older agents may not start elevations, e.g. 1.2.0."
            value={values.minimumAgentVersion}
            error={errors.fields.minimumAgentVersion}
            onChange={(event) => change({ minimumAgentVersion: event.target.value })}
          />
          <CheckboxField
            name="manageBuiltInAdministrator"
            label="Allow the built-in Administrator (RID 500)"
            hint="Off by default: the agent then manages only accounts it created itself."
            checked={values.manageBuiltInAdministrator}
            onChange={(event) => change({ manageBuiltInAdministrator: event.target.checked })}
          />
        </div>
      </fieldset>
      {props.canEdit ? (
        <button type="submit" disabled={fetching}>
          {fetching ? "Saving…" : "Save elevated access"}
        </button>
      ) : (
        <p className="muted">Only admins of this customer change elevated access.</p>
      )}
      <p className="form-success" role="status">
        {saved}
      </p>
    </form>
  );
}

function WorkstationAccount(props: {
  workstation: {
    id: string;
    name: string;
    hasOwnElevationAccount: boolean;
    elevationAccount?: { name: string } | null;
    breakGlassAccounts: { account: string; rotation: number; storedAt: string }[];
  };
  tenantId: string;
  masterKeyOn: boolean;
  canEdit: boolean;
  canReveal: boolean;
  onSaved: () => void;
}) {
  const { workstation } = props;
  const [name, setName] = useState(workstation.hasOwnElevationAccount ? (workstation.elevationAccount?.name ?? "") : "");
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, assign] = useMutation(AssignWorkstationAccountMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await assign({ input: { workstationId: workstation.id, accountName: name.trim() || null } });
    const outcome = result.data?.assignWorkstationAccount;
    if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
    if (outcome.__typename !== "AssignWorkstationAccountPayload") return setProblem(errorsFromResult(outcome, ["accountName"]).fields.accountName ?? outcome.message ?? "Refused");
    setProblem(null);
    props.onSaved();
  }

  return (
    <li className="user-item">
      <form className="inline-form" onSubmit={submit} aria-label={`Account on ${workstation.name}`}>
        <TextField
          name="accountName"
          label={`${workstation.name}: own account (empty: the shared one)`}
          hint={`Now: ${workstation.elevationAccount?.name ?? "none"}`}
          value={name}
          error={problem ?? undefined}
          disabled={!props.canEdit}
          onChange={(event) => setName(event.target.value)}
        />
        {props.canEdit && (
          <button type="submit" className="button-small" disabled={fetching}>
            Assign
          </button>
        )}
      </form>
      {workstation.breakGlassAccounts.map((box) => (
        <div key={box.account} className="muted">
          Break-glass password on file for {box.account} (rotation {box.rotation}).
          {props.canReveal && <BreakGlassReveal tenantId={props.tenantId} masterKeyOn={props.masterKeyOn} workstation={workstation} account={box.account} />}
        </div>
      ))}
    </li>
  );
}
