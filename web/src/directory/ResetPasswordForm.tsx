"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { passwordProblem, PASSWORD_MIN_LENGTH } from "./user-fields";
import { SetUserPasswordMutation } from "./user-operations";

const FIELDS = ["password", "confirmation"] as const;
type Field = (typeof FIELDS)[number];

/**
 * Sets a new password for someone else (the API refuses this for yourself without your
 * current password). Their sessions end; workstations get the new password at next login.
 */
export function ResetPasswordForm({ user, onDone }: { user: { id: string; name: string }; onDone: () => void }) {
  const [{ fetching }, setUserPassword] = useMutation(SetUserPasswordMutation);
  const [values, setValues] = useState<Record<Field, string>>({ password: "", confirmation: "" });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);

  function change(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = noErrors<Field>();
    const problem = passwordProblem(values.password, true);
    if (problem) problems.fields.password = problem;
    else if (values.confirmation !== values.password) problems.fields.confirmation = "The two passwords differ";
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);

    const result = await setUserPassword({ input: { userId: user.id, password: values.password } });
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
        hint={`At least ${PASSWORD_MIN_LENGTH} characters; a passphrase is best.`}
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
      <button type="submit" disabled={fetching}>
        {fetching ? "Setting password…" : "Set password"}
      </button>
    </form>
  );
}
