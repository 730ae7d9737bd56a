"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { useResetSession } from "@/urql/UrqlProvider";

const SignUpMspMutation = graphql(`
  mutation SignUpMsp($input: SignUpMspInput!) {
    signUpMsp(input: $input) {
      __typename
      ... on AuthPayload {
        tenant {
          id
          slug
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
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

const FIELDS = ["slug", "displayName", "firstName", "lastName", "email", "password"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

const PASSWORD_MIN_LENGTH = 10;

// The API has the final word (reserved names, password strength); this catches typos before a round trip.
function validate(values: Values): FormErrors<Field> {
  const errors = noErrors<Field>();
  const slug = values.slug.trim().toLowerCase();
  if (slug.length < 3 || slug.length > 30) errors.fields.slug = "Use 3 to 30 characters";
  else if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug)) {
    errors.fields.slug = "Use lowercase letters, digits and single hyphens between them";
  }
  if (!values.displayName.trim()) errors.fields.displayName = "Enter your company's name";
  if (!values.firstName.trim()) errors.fields.firstName = "Enter your first name";
  if (!values.lastName.trim()) errors.fields.lastName = "Enter your last name";
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email.trim())) errors.fields.email = "Enter a valid email address";
  if (values.password.length < PASSWORD_MIN_LENGTH) {
    errors.fields.password = `Use at least ${PASSWORD_MIN_LENGTH} characters`;
  }
  return errors;
}

/**
 * The slug a company name suggests: "Bluefin Managed IT, Inc." → "bluefin-managed-it-inc",
 * accents dropped, at most 30 characters, as the slug's own rules ask.
 */
function suggestedSlug(companyName: string): string {
  return companyName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 30)
    .replace(/-+$/, "");
}

export function SignUpForm() {
  const router = useRouter();
  const resetSession = useResetSession();
  const [{ fetching }, signUpMsp] = useMutation(SignUpMspMutation);
  const [values, setValues] = useState<Values>({
    slug: "",
    displayName: "",
    firstName: "",
    lastName: "",
    email: "",
    password: "",
  });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);

  // The slug follows the company name until it is typed in itself (or emptied again).
  const [slugTyped, setSlugTyped] = useState(false);

  function change(field: Field, value: string) {
    const follows = field === "displayName" && !slugTyped;
    if (field === "slug") setSlugTyped(value !== "");
    setValues((current) => ({ ...current, [field]: value, ...(follows ? { slug: suggestedSlug(value) } : {}) }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined, ...(follows ? { slug: undefined } : {}) } }));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const problems = validate(values);
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);

    const result = await signUpMsp({
      input: {
        slug: values.slug.trim().toLowerCase(),
        displayName: values.displayName.trim(),
        firstName: values.firstName.trim(),
        lastName: values.lastName.trim(),
        email: values.email.trim(),
        password: values.password,
        tokenDelivery: "COOKIE",
      },
    });
    const outcome = result.data?.signUpMsp;
    if (result.error || !outcome) {
      setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
      return;
    }
    if (outcome.__typename !== "AuthPayload") {
      setErrors(errorsFromResult(outcome, FIELDS));
      focusFirstInvalid(form);
      return;
    }
    resetSession();
    router.replace("/customers");
  }

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors.fields[name],
    onChange: (event: { target: { value: string } }) => change(name, event.target.value),
  });

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="signup-title">
      <h1 id="signup-title">Create your MSP account</h1>
      <p className="lead">One tenant for your company; your customers get theirs from here.</p>
      <FormProblem message={errors.form} />
      <TextField
        label="Company name"
        autoComplete="organization"
        required
        {...field("displayName")}
      />
      <TextField
        label="Tenant slug"
        autoComplete="off"
        spellCheck={false}
        required
        hint="Lowercase letters, digits and hyphens. Your customers' subdomains end with it."
        {...field("slug")}
      />
      <div className="field-row">
        <TextField label="First name" autoComplete="given-name" required {...field("firstName")} />
        <TextField label="Last name" autoComplete="family-name" required {...field("lastName")} />
      </div>
      <TextField label="Email" type="email" autoComplete="email" required {...field("email")} />
      <TextField
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        hint={`At least ${PASSWORD_MIN_LENGTH} characters; a passphrase is best.`}
        {...field("password")}
      />
      <button type="submit" disabled={fetching}>
        {fetching ? "Creating account…" : "Create account"}
      </button>
      <p className="form-footer">
        Already have an account? <Link href="/login">Sign in</Link>
      </p>
    </form>
  );
}
