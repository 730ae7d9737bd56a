"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import type { UserSource } from "@/gql/graphql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { CheckboxField } from "@/forms/CheckboxField";
import { SelectField } from "@/forms/SelectField";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";

const UpdateTenantSettingsMutation = graphql(`
  mutation UpdateTenantSettings($input: UpdateTenantSettingsInput!) {
    updateTenantSettings(input: $input) {
      __typename
      ... on UpdateTenantSettingsPayload {
        tenant {
          id
          displayName
          userSource
          auditRetentionDays
          signInRequiresPhone
        }
      }
      ... on Error {
        message
        code
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
    }
  }
`);

const FIELDS = ["displayName", "userSource", "auditRetentionDays"] as const;
type Field = (typeof FIELDS)[number];

/** Where the tenant's users come from. Only the cloud directory exists today. */
const USER_SOURCES: ReadonlyArray<{ value: UserSource; label: string }> = [
  { value: "LOCAL", label: "Latchkey cloud directory" },
];

/** How long audit events may be kept, in days, as the API accepts it. */
const RETENTION = { min: 30, max: 3650 };

/** A tenant's name as people see it, its user source, how its users sign in, and how long its audit log is kept. */
export function TenantSettingsForm({
  tenant,
  canEdit,
}: {
  tenant: { id: string; kind: string; displayName: string; userSource: UserSource; auditRetentionDays?: number | null; signInRequiresPhone: boolean };
  canEdit: boolean;
}) {
  const [{ fetching }, update] = useMutation(UpdateTenantSettingsMutation);
  const [values, setValues] = useState({
    displayName: tenant.displayName,
    userSource: tenant.userSource,
    auditRetentionDays: String(tenant.auditRetentionDays ?? 365),
    signInRequiresPhone: tenant.signInRequiresPhone,
  });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [saved, setSaved] = useState("");

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = noErrors<Field>();
    if (!values.displayName.trim()) problems.fields.displayName = "Enter a display name";
    else if (values.displayName.trim().length > 100) problems.fields.displayName = "Use at most 100 characters";
    const retention = Number(values.auditRetentionDays);
    if (!Number.isInteger(retention) || retention < RETENTION.min || retention > RETENTION.max) {
      problems.fields.auditRetentionDays = `Enter a number of days from ${RETENTION.min} to ${RETENTION.max}`;
    }
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);

    const result = await update({
      input: {
        tenantId: tenant.id,
        displayName: values.displayName.trim(),
        userSource: values.userSource,
        auditRetentionDays: retention,
        signInRequiresPhone: values.signInRequiresPhone,
      },
    });
    const outcome = result.data?.updateTenantSettings;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "UpdateTenantSettingsPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    setSaved("Settings saved.");
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby={`settings-${tenant.id}`}>
      <h2 id={`settings-${tenant.id}`}>Directory settings</h2>
      <FormProblem message={errors.form} />
      <fieldset className="plain-fieldset" disabled={!canEdit}>
        <div className="form">
          <TextField
            name="displayName"
            label="Display name"
            autoComplete="off"
            required
            value={values.displayName}
            error={errors.fields.displayName}
            onChange={(event) => {
              setValues((current) => ({ ...current, displayName: event.target.value }));
              setErrors(noErrors);
              setSaved("");
            }}
          />
          <SelectField
            name="userSource"
            label="User source"
            hint="Where this tenant's users and passwords live."
            options={USER_SOURCES}
            value={values.userSource}
            error={errors.fields.userSource}
            onChange={(event) => {
              setValues((current) => ({ ...current, userSource: event.target.value as UserSource }));
              setSaved("");
            }}
          />
          <CheckboxField
            name="signInRequiresPhone"
            label="Sign-in requires phone"
            hint={
              tenant.kind === "MSP"
                ? "After a password, every sign-in waits for an approval on the user's own phone, so a stolen password alone opens none of your customers. Recommended."
                : "After a password, every sign-in of this organisation's users waits for an approval on their own phone."
            }
            checked={values.signInRequiresPhone}
            onChange={(event) => {
              setValues((current) => ({ ...current, signInRequiresPhone: event.target.checked }));
              setSaved("");
            }}
          />
          <TextField
            name="auditRetentionDays"
            label="Keep audit events for (days)"
            hint={`Older events are purged each hour, and the purge itself is logged. From ${RETENTION.min} to ${RETENTION.max} days.`}
            type="number"
            inputMode="numeric"
            min={RETENTION.min}
            max={RETENTION.max}
            value={values.auditRetentionDays}
            error={errors.fields.auditRetentionDays}
            onChange={(event) => {
              setValues((current) => ({ ...current, auditRetentionDays: event.target.value }));
              setErrors(noErrors);
              setSaved("");
            }}
          />
        </div>
      </fieldset>
      {canEdit ? (
        <button type="submit" disabled={fetching}>
          {fetching ? "Saving…" : "Save settings"}
        </button>
      ) : (
        <p className="muted">Only admins change these settings.</p>
      )}
      <p className="form-success" role="status">
        {saved}
      </p>
    </form>
  );
}
