"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";

const CreateCustomerMutation = graphql(`
  mutation CreateCustomer($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      __typename
      ... on CreateCustomerPayload {
        customer {
          id
          slug
          name
          displayName
          userCount
          adminCount
          technicianCount
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
      ... on ConflictError {
        field
      }
    }
  }
`);

const FIELDS = ["name", "displayName"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

const NAME_MAX_LENGTH = 30;

function validate(values: Values): FormErrors<Field> {
  const errors = noErrors<Field>();
  if (!values.name) errors.fields.name = "Enter a name";
  else if (!/^[a-z0-9]+$/.test(values.name)) errors.fields.name = "Use lowercase letters and digits only";
  else if (values.name.length > NAME_MAX_LENGTH) errors.fields.name = `Use at most ${NAME_MAX_LENGTH} characters`;
  if (!values.displayName.trim()) errors.fields.displayName = "Enter the customer's display name";
  return errors;
}

/** A customer's slug, which is also its subdomain. */
function customerSlug(name: string, mspSlug: string) {
  return `${name}-${mspSlug}`;
}

export function CreateCustomerForm({ mspSlug }: { mspSlug: string }) {
  const [{ fetching }, createCustomer] = useMutation(CreateCustomerMutation);
  const [values, setValues] = useState<Values>({ name: "", displayName: "" });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [created, setCreated] = useState<{ id: string; slug: string; displayName: string } | null>(null);

  function change(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
    setCreated(null);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = validate(values);
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);

    const result = await createCustomer({ input: { name: values.name, displayName: values.displayName.trim() } });
    const outcome = result.data?.createCustomer;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "CreateCustomerPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    setValues({ name: "", displayName: "" });
    setCreated(outcome.customer);
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="create-customer-title">
      <h2 id="create-customer-title">New customer</h2>
      <FormProblem message={errors.form} />
      <TextField
        name="name"
        label="Name"
        autoComplete="off"
        spellCheck={false}
        required
        maxLength={NAME_MAX_LENGTH}
        value={values.name}
        // Names are lowercase by rule; folding as the user types beats an error for "Contoso".
        onChange={(event) => change("name", event.target.value.toLowerCase())}
        error={errors.fields.name}
        hint={
          <>
            Lowercase letters and digits. Subdomain:{" "}
            <output className="slug-preview" aria-live="polite">
              {customerSlug(values.name || "name", mspSlug)}
            </output>
          </>
        }
      />
      <TextField
        name="displayName"
        label="Display name"
        autoComplete="off"
        required
        value={values.displayName}
        onChange={(event) => change("displayName", event.target.value)}
        error={errors.fields.displayName}
      />
      <button type="submit" disabled={fetching}>
        {fetching ? "Creating…" : "Create customer"}
      </button>
      <p className="form-success" role="status">
        {created && (
          <>
            Created {created.slug}. <Link href={`/customers/${created.id}`}>Open {created.displayName}</Link>
          </>
        )}
      </p>
    </form>
  );
}
