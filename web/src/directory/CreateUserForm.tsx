"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useClient, useMutation } from "urql";
import type { UserRole } from "@/gql/graphql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { CheckboxField } from "@/forms/CheckboxField";
import { SelectField } from "@/forms/SelectField";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { emailProblem, nameProblem, passwordLengthProblem, PASSWORD_MIN_LENGTH, usernameFromEmail, usernameProblem, USERNAME_MAX_LENGTH } from "./user-fields";
import { CreateUserMutation } from "./user-operations";
import { checkNewPassword, flowErrors, registerPassword } from "@/passwords/password-flows";
import { preparePasswordWorker } from "@/passwords/password-worker-client";

const FIELDS = ["email", "firstName", "lastName", "username", "personalEmail", "role", "password"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

export const ROLE_LABEL: Record<UserRole, string> = { ADMIN: "Admin", TECHNICIAN: "Technician", USER: "User" };

export type CreateUserFormProps = {
  tenantId: string;
  title: string;
  submitLabel: string;
  /** The roles this tenant's users can have, the default first. */
  roles: readonly UserRole[];
  passwordHint: string;
  /** Called with the new user's name once the API has created them. */
  onCreated?: (name: string) => void;
};

function emptyValues(role: UserRole): Values {
  return { email: "", firstName: "", lastName: "", username: "", personalEmail: "", role, password: "" };
}

function validate(values: Values): FormErrors<Field> {
  const errors = noErrors<Field>();
  const problems: Partial<Record<Field, string | null>> = {
    email: emailProblem(values.email),
    firstName: nameProblem(values.firstName, "first name"),
    lastName: nameProblem(values.lastName, "last name"),
    username: usernameProblem(values.username),
    personalEmail: emailProblem(values.personalEmail, false),
    password: passwordLengthProblem(values.password, false),
  };
  for (const field of FIELDS) {
    const problem = problems[field];
    if (problem) errors.fields[field] = problem;
  }
  return errors;
}

/**
 * Adds a person to a tenant's directory, starting from their email: the username is
 * suggested from it until it is edited by hand.
 */
export function CreateUserForm(props: CreateUserFormProps) {
  const defaultRole = props.roles[0] ?? "USER";
  const client = useClient();
  const [, createUser] = useMutation(CreateUserMutation);
  const [busy, setBusy] = useState<"checking" | "adding" | null>(null);
  const [values, setValues] = useState<Values>(() => emptyValues(defaultRole));
  const [usernameEdited, setUsernameEdited] = useState(false);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [created, setCreated] = useState("");
  const [requirePasswordChange, setRequirePasswordChange] = useState(true);

  useEffect(preparePasswordWorker, []);

  function change(field: Field, value: string) {
    setValues((current) => {
      const next = { ...current, [field]: value };
      if (field === "email" && !usernameEdited) next.username = usernameFromEmail(value);
      return next;
    });
    if (field === "username") setUsernameEdited(true);
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
    setCreated("");
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy("checking");
    try {
      const problems = validate(values);
      const person = [values.firstName, values.lastName, values.username, values.email, values.personalEmail];
      if (values.password) await checkNewPassword(problems, "password", values.password, person);
      setErrors(problems);
      if (hasErrors(problems)) return focusFirstInvalid(form);

      let passwordRegistrationId: string | null = null;
      if (values.password) {
        try {
          // OPAQUE: the API gets a record it cannot recover the password from and, for a
          // customer's user, the password sealed to that customer's key for its workstations.
          passwordRegistrationId = await registerPassword(client, { tenant: props.tenantId, password: values.password });
        } catch (error) {
          setErrors(flowErrors(error, FIELDS));
          return focusFirstInvalid(form);
        }
      }
      setBusy("adding");
      const result = await createUser({
        input: {
          tenantId: props.tenantId,
          email: values.email.trim(),
          firstName: values.firstName.trim(),
          lastName: values.lastName.trim(),
          username: values.username.trim(),
          personalEmail: values.personalEmail.trim() || null,
          role: values.role as UserRole,
          passwordRegistrationId,
          requirePasswordChange: passwordRegistrationId ? requirePasswordChange : null,
        },
      });
      const outcome = result.data?.createUser;
      if (result.error || !outcome) {
        setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
        return;
      }
      if (outcome.__typename !== "CreateUserPayload") {
        setErrors(errorsFromResult(outcome, FIELDS));
        focusFirstInvalid(form);
        return;
      }
      done(outcome.user);
    } finally {
      setBusy(null);
    }
  }

  function done(user: { firstName: string; lastName: string; username: string }) {
    const name = `${user.firstName} ${user.lastName}`;
    setValues(emptyValues(defaultRole));
    setRequirePasswordChange(true);
    setUsernameEdited(false);
    setCreated(`Added ${name} (${user.username}).`);
    props.onCreated?.(name);
  }

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors.fields[name],
    onChange: (event: { target: { value: string } }) => change(name, event.target.value),
  });
  const titleId = `create-user-${props.tenantId}`;

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby={titleId}>
      <h2 id={titleId}>{props.title}</h2>
      <FormProblem message={errors.form} />
      <TextField label="Email" type="email" autoComplete="off" spellCheck={false} required {...field("email")} />
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
        hint={`The Windows account name, at most ${USERNAME_MAX_LENGTH} characters.`}
        {...field("username")}
      />
      {props.roles.length > 1 && (
        <SelectField
          label="Role"
          options={props.roles.map((role) => ({ value: role, label: ROLE_LABEL[role] }))}
          {...field("role")}
        />
      )}
      <TextField
        label="Personal email (optional)"
        type="email"
        autoComplete="off"
        spellCheck={false}
        hint="A second address their phone may prove when it is linked, e.g. before they have a work mailbox."
        {...field("personalEmail")}
      />
      <TextField
        label="Password (optional)"
        type="password"
        autoComplete="new-password"
        hint={`At least ${PASSWORD_MIN_LENGTH} characters, not a common password or the person's names. ${props.passwordHint}`}
        {...field("password")}
      />
      {values.password && (
        <CheckboxField
          name="requirePasswordChange"
          label="Ask them to choose their own password at their first sign-in"
          hint="Until they do, the portal shows them only the form to change it."
          checked={requirePasswordChange}
          onChange={(event) => setRequirePasswordChange(event.target.checked)}
        />
      )}
      <button type="submit" disabled={busy !== null}>
        {busy === "checking" ? "Checking password…" : busy === "adding" ? "Adding…" : props.submitLabel}
      </button>
      <p className="form-success" role="status">
        {created}
      </p>
    </form>
  );
}
