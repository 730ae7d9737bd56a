"use client";

import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import type { DirectoryUserFieldsFragment } from "@/gql/graphql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { emailProblem, nameProblem, usernameProblem, USERNAME_MAX_LENGTH } from "./user-fields";
import { UpdateUserMutation } from "./user-operations";

const FIELDS = ["firstName", "lastName", "username", "email", "personalEmail"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

function validate(values: Values): FormErrors<Field> {
  const errors = noErrors<Field>();
  const problems: Record<Field, string | null> = {
    firstName: nameProblem(values.firstName, "first name"),
    lastName: nameProblem(values.lastName, "last name"),
    username: usernameProblem(values.username),
    email: emailProblem(values.email),
    personalEmail: emailProblem(values.personalEmail, false),
  };
  for (const field of FIELDS) {
    const problem = problems[field];
    if (problem) errors.fields[field] = problem;
  }
  return errors;
}

/** Edits a user's names and addresses; only what changed is sent. Shown inside a dialog. */
export function EditUserForm({ user, onSaved }: { user: DirectoryUserFieldsFragment; onSaved: () => void }) {
  const [{ fetching }, updateUser] = useMutation(UpdateUserMutation);
  const initial: Values = {
    firstName: user.firstName,
    lastName: user.lastName,
    username: user.username,
    email: user.email,
    personalEmail: user.personalEmail ?? "",
  };
  const [values, setValues] = useState<Values>(initial);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);

  function change(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = validate(values);
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);

    const changes: Partial<Values> = {};
    for (const field of FIELDS) {
      const value = values[field].trim();
      // An empty personal email is a change too: the API clears it.
      if (value !== initial[field]) changes[field] = value;
    }
    if (Object.keys(changes).length === 0) return onSaved();

    const result = await updateUser({ input: { userId: user.id, ...changes } });
    const outcome = result.data?.updateUser;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "UpdateUserPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    onSaved();
  }

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors.fields[name],
    onChange: (event: { target: { value: string } }) => change(name, event.target.value),
  });

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={`Edit ${user.firstName} ${user.lastName}`}>
      <FormProblem message={errors.form} />
      <div className="field-row">
        <TextField label="First name" autoComplete="off" required {...field("firstName")} />
        <TextField label="Last name" autoComplete="off" required {...field("lastName")} />
      </div>
      <TextField
        label="Username"
        autoComplete="off"
        spellCheck={false}
        required
        maxLength={USERNAME_MAX_LENGTH}
        hint="The Windows account name."
        {...field("username")}
      />
      <TextField label="Email" type="email" autoComplete="off" spellCheck={false} required {...field("email")} />
      <TextField
        label="Personal email (optional)"
        type="email"
        autoComplete="off"
        spellCheck={false}
        hint="Leave empty to remove it."
        {...field("personalEmail")}
      />
      <button type="submit" disabled={fetching}>
        {fetching ? "Saving…" : "Save changes"}
      </button>
    </form>
  );
}
