"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { FormProblem } from "@/forms/TextField";
import { TextAreaField } from "@/forms/TextAreaField";
import { UpdateDesktopSettingsMutation } from "@/desktop-login/desktop-settings-operations";
import { BrandingImageField } from "./BrandingImageField";

const TEXT_MAX_LENGTH = 500;
const FIELDS = ["brandingText"] as const;
type Field = (typeof FIELDS)[number];

/** The login screen's text, background and logo. Images upload as soon as they are chosen. */
export function BrandingForm(props: {
  tenantId: string;
  text: string;
  background: { width: number; height: number } | null;
  logo: { width: number; height: number } | null;
  canEdit: boolean;
  onTextChange: (text: string) => void;
}) {
  const [{ fetching }, update] = useMutation(UpdateDesktopSettingsMutation);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [saved, setSaved] = useState("");

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const problems = noErrors<Field>();
    if (props.text.length > TEXT_MAX_LENGTH) problems.fields.brandingText = `Use at most ${TEXT_MAX_LENGTH} characters`;
    setErrors(problems);
    if (hasErrors(problems)) return;

    const result = await update({ input: { tenantId: props.tenantId, brandingText: props.text } });
    const outcome = result.data?.updateDesktopSettings;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "UpdateDesktopSettingsPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      return;
    }
    setSaved("Login screen text saved.");
  }

  return (
    <section className="card form" aria-labelledby="branding-title">
      <h2 id="branding-title">Branding</h2>
      <form className="form" onSubmit={submit} noValidate>
        <FormProblem message={errors.form} />
        <fieldset className="plain-fieldset" disabled={!props.canEdit}>
          <TextAreaField
            name="brandingText"
            label="Login screen text"
            rows={3}
            maxLength={TEXT_MAX_LENGTH}
            hint={`Shown as plain text under the logo, at most ${TEXT_MAX_LENGTH} characters. Line breaks are kept.`}
            value={props.text}
            error={errors.fields.brandingText}
            onChange={(event) => {
              props.onTextChange(event.target.value);
              setErrors(noErrors);
              setSaved("");
            }}
          />
        </fieldset>
        {props.canEdit && (
          <button type="submit" disabled={fetching}>
            {fetching ? "Saving…" : "Save text"}
          </button>
        )}
        <p className="form-success" role="status">
          {saved}
        </p>
      </form>
      <BrandingImageField
        tenantId={props.tenantId}
        kind="LOGO"
        label="Logo"
        hint="PNG or JPEG, at most 5 MiB; shown above the sign-in."
        current={props.logo}
        canEdit={props.canEdit}
      />
      <BrandingImageField
        tenantId={props.tenantId}
        kind="BACKGROUND"
        label="Background"
        hint="PNG or JPEG, at most 5 MiB and 4096 × 4096 pixels; fills the screen."
        current={props.background}
        canEdit={props.canEdit}
      />
    </section>
  );
}
