"use client";

import { useId, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import type { DesktopLoginMethod } from "@/gql/graphql";
import { CheckboxField } from "@/forms/CheckboxField";
import { errorsFromResult, errorsFromTransport, noErrors, type FormErrors } from "@/forms/form-errors";
import { FormProblem } from "@/forms/TextField";
import { UpdateDesktopSettingsMutation } from "./desktop-settings-operations";

export type DesktopLoginValues = {
  desktopLoginEnabled: boolean;
  method: DesktopLoginMethod;
  passwordFallback: boolean;
};

const FIELDS = ["desktopLoginEnabled", "method", "passwordFallback"] as const;
type Field = (typeof FIELDS)[number];

const METHODS: ReadonlyArray<{ value: DesktopLoginMethod; label: string; hint: string }> = [
  { value: "PASSWORD", label: "Password", hint: "Users type their directory username and password." },
  { value: "PASSWORDLESS", label: "Passwordless (QR)", hint: "Users scan the login screen's QR code with the Latchkey authenticator." },
];

/**
 * Whether the desktop agent signs users in on this customer's workstations, and how.
 * `onChange` lets the login-screen preview follow the form before it is saved.
 */
export function DesktopLoginForm(props: {
  tenantId: string;
  initial: DesktopLoginValues;
  canEdit: boolean;
  onChange: (values: DesktopLoginValues) => void;
}) {
  const methodLegendId = useId();
  const [{ fetching }, update] = useMutation(UpdateDesktopSettingsMutation);
  const [values, setValues] = useState<DesktopLoginValues>(props.initial);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [saved, setSaved] = useState("");

  function change(next: Partial<DesktopLoginValues>) {
    const merged = { ...values, ...next };
    setValues(merged);
    setErrors(noErrors);
    setSaved("");
    props.onChange(merged);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await update({ input: { tenantId: props.tenantId, ...values } });
    const outcome = result.data?.updateDesktopSettings;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "UpdateDesktopSettingsPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      return;
    }
    setSaved(values.desktopLoginEnabled ? "Desktop login settings saved." : "Saved: desktop login is off.");
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="desktop-login-title">
      <h2 id="desktop-login-title">Desktop login</h2>
      <FormProblem message={errors.form} />
      <fieldset className="plain-fieldset" disabled={!props.canEdit}>
        <div className="form">
          <CheckboxField
            name="desktopLoginEnabled"
            label="Enable desktop login"
            hint="The agent takes over the Windows login screen of this customer's approved workstations."
            checked={values.desktopLoginEnabled}
            onChange={(event) => change({ desktopLoginEnabled: event.target.checked })}
          />
          <fieldset className="choice-group" aria-describedby={errors.fields.method ? `${methodLegendId}-error` : undefined}>
            <legend id={methodLegendId}>Login method</legend>
            {METHODS.map((method) => (
              <div key={method.value} className="choice">
                <input
                  id={`${methodLegendId}-${method.value}`}
                  type="radio"
                  name="method"
                  value={method.value}
                  checked={values.method === method.value}
                  aria-describedby={`${methodLegendId}-${method.value}-hint`}
                  onChange={() => change({ method: method.value })}
                />
                <div>
                  <label htmlFor={`${methodLegendId}-${method.value}`} className="choice-label">
                    {method.label}
                  </label>
                  <p id={`${methodLegendId}-${method.value}-hint`} className="field-hint">
                    {method.hint}
                  </p>
                </div>
              </div>
            ))}
            {errors.fields.method && (
              <p id={`${methodLegendId}-error`} className="field-error">
                {errors.fields.method}
              </p>
            )}
          </fieldset>
          {values.method === "PASSWORDLESS" && (
            <CheckboxField
              name="passwordFallback"
              label="Allow the password as a fallback"
              hint="Users without their phone may still type their directory password."
              checked={values.passwordFallback}
              onChange={(event) => change({ passwordFallback: event.target.checked })}
            />
          )}
        </div>
      </fieldset>
      {props.canEdit ? (
        <button type="submit" disabled={fetching}>
          {fetching ? "Saving…" : "Save desktop login"}
        </button>
      ) : (
        <p className="muted">Only admins of this customer change how its workstations sign in.</p>
      )}
      <p className="form-success" role="status">
        {saved}
      </p>
    </form>
  );
}
