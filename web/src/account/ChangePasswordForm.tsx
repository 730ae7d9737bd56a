"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useClient, useMutation } from "urql";
import { SetUserPasswordMutation } from "@/directory/user-operations";
import { PASSWORD_MIN_LENGTH } from "@/directory/user-fields";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { checkNewPassword, flowErrors, provePassword, registerPassword } from "@/passwords/password-flows";
import { preparePasswordWorker } from "@/passwords/password-worker-client";
import type { Viewer } from "@/session/SignedIn";

const FIELDS = ["currentPassword", "password", "confirmation"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

const EMPTY: Values = { currentPassword: "", password: "", confirmation: "" };

/**
 * The signed-in person changes their own password. The current one is proved with an OPAQUE
 * log in and the new one registered with OPAQUE: neither leaves the browser. Every other
 * session of theirs ends; this one stays. Someone who signs in with their phone only sets a
 * first password instead, within minutes of a phone sign-in (the API checks).
 */
export function ChangePasswordForm({ viewer, onChanged }: { viewer: Viewer; onChanged?: () => void }) {
  const client = useClient();
  const [, setUserPassword] = useMutation(SetUserPasswordMutation);
  const [values, setValues] = useState<Values>(EMPTY);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [busy, setBusy] = useState<"checking" | "saving" | null>(null);
  const [changed, setChanged] = useState("");
  const first = !viewer.user.hasPassword;

  useEffect(preparePasswordWorker, []);

  function change(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
    setChanged("");
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const { user, tenant } = viewer;
    setBusy("checking");
    try {
      const problems = noErrors<Field>();
      if (!values.currentPassword && !first) problems.fields.currentPassword = "Enter your current password";
      if (!values.password) problems.fields.password = "Enter a new password";
      else if (!first && values.password === values.currentPassword) problems.fields.password = "Choose a password other than your current one";
      else await checkNewPassword(problems, "password", values.password, [user.firstName, user.lastName, user.username, user.email, tenant.slug]);
      if (!problems.fields.password && values.confirmation !== values.password) problems.fields.confirmation = "The two passwords differ";
      setErrors(problems);
      if (hasErrors(problems)) return focusFirstInvalid(form);

      let currentPasswordLogin;
      let passwordRegistrationId;
      try {
        currentPasswordLogin = first
          ? null
          : await provePassword(
              client,
              { tenant: tenant.slug, login: user.username, password: values.currentPassword },
              { field: "currentPassword", message: "Your current password is not correct" },
            );
        passwordRegistrationId = await registerPassword(client, { userId: user.id, password: values.password });
      } catch (error) {
        setErrors(flowErrors(error, FIELDS));
        setValues((current) => ({ ...current, currentPassword: "" }));
        return focusFirstInvalid(form);
      }
      setBusy("saving");
      const result = await setUserPassword({ input: { userId: user.id, passwordRegistrationId, currentPasswordLogin } });
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
      setValues(EMPTY);
      setChanged(first ? "Password set. Your other sessions were signed out." : "Password changed. Your other sessions were signed out.");
      onChanged?.();
    } finally {
      setBusy(null);
    }
  }

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors.fields[name],
    onChange: (event: { target: { value: string } }) => change(name, event.target.value),
  });

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="change-password-title">
      <h2 id="change-password-title">{first ? "Set a password" : "Change your password"}</h2>
      <p className="muted">
        {first
          ? "You sign in with your phone. To set a password too, sign in with your phone again and set it within five minutes."
          : "Your other sessions end; this one stays signed in."}
      </p>
      <FormProblem message={errors.form} />
      {/* For password managers: the account whose password this is. */}
      <input type="text" name="username" autoComplete="username" value={viewer.user.username} readOnly hidden />
      {!first && <TextField label="Current password" type="password" autoComplete="current-password" required {...field("currentPassword")} />}
      <TextField
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${PASSWORD_MIN_LENGTH} characters, not a common password or your own names; a passphrase is best.`}
        {...field("password")}
      />
      <TextField label="Repeat the new password" type="password" autoComplete="new-password" required {...field("confirmation")} />
      <button type="submit" disabled={busy !== null}>
        {busy === "checking" ? "Checking password…" : busy === "saving" ? "Saving password…" : first ? "Set password" : "Change password"}
      </button>
      <p className="form-success" role="status">
        {changed}
      </p>
    </form>
  );
}
