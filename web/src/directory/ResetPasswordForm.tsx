"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useClient, useMutation } from "urql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { CheckboxField } from "@/forms/CheckboxField";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { checkNewPassword, flowErrors, registerPassword } from "@/passwords/password-flows";
import { preparePasswordWorker } from "@/passwords/password-worker-client";
import { PASSWORD_MIN_LENGTH } from "./user-fields";
import { SetUserPasswordMutation } from "./user-operations";

const FIELDS = ["password", "confirmation"] as const;
type Field = (typeof FIELDS)[number];

/**
 * Sets a new password for someone else (the API refuses this for yourself without your
 * current password). Their sessions end; workstations get the new password at next login.
 * `context`: the person's names, username and emails, which make easy guesses.
 */
export function ResetPasswordForm({
  user,
  context = [],
  onDone,
}: {
  user: { id: string; name: string };
  context?: string[];
  onDone: () => void;
}) {
  const client = useClient();
  const [, setUserPassword] = useMutation(SetUserPasswordMutation);
  const [busy, setBusy] = useState<"checking" | "setting" | null>(null);
  const [values, setValues] = useState<Record<Field, string>>({ password: "", confirmation: "" });
  const [requireChange, setRequireChange] = useState(true);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);

  useEffect(preparePasswordWorker, []);

  function change(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy("checking");
    try {
      const problems = noErrors<Field>();
      if (!values.password) problems.fields.password = "Enter a password";
      else await checkNewPassword(problems, "password", values.password, [...user.name.split(" "), ...context]);
      if (!problems.fields.password && values.confirmation !== values.password) problems.fields.confirmation = "The two passwords differ";
      setErrors(problems);
      if (hasErrors(problems)) return focusFirstInvalid(form);

      let passwordRegistrationId;
      try {
        passwordRegistrationId = await registerPassword(client, { userId: user.id, password: values.password });
      } catch (error) {
        setErrors(flowErrors(error, FIELDS));
        return focusFirstInvalid(form);
      }
      setBusy("setting");
      const result = await setUserPassword({ input: { userId: user.id, passwordRegistrationId, requireChange } });
      const outcome = result.data?.setUserPassword;
      if (result.error || !outcome) {
        setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
        return;
      }
      if (outcome.__typename !== "SetUserPasswordPayload") {
        setErrors(errorsFromResult(outcome, FIELDS));
        focusFirstInvalid(form);
        return;
      }
    } finally {
      setBusy(null);
    }
    onDone();
  }

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={`New password for ${user.name}`}>
      <p className="muted">{user.name} is signed out everywhere and uses the new password from now on.</p>
      <FormProblem message={errors.form} />
      <TextField
        name="password"
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${PASSWORD_MIN_LENGTH} characters, not a common password or their names; a passphrase is best.`}
        value={values.password}
        error={errors.fields.password}
        onChange={(event) => change("password", event.target.value)}
      />
      <TextField
        name="confirmation"
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        required
        value={values.confirmation}
        error={errors.fields.confirmation}
        onChange={(event) => change("confirmation", event.target.value)}
      />
      <CheckboxField
        name="requireChange"
        label="Ask them to choose their own password at their next sign-in"
        hint="Until they do, the portal shows them only the form to change it."
        checked={requireChange}
        onChange={(event) => setRequireChange(event.target.checked)}
      />
      <button type="submit" disabled={busy !== null}>
        {busy === "checking" ? "Checking password…" : busy === "setting" ? "Setting password…" : "Set password"}
      </button>
    </form>
  );
}
