"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { useClient, useMutation } from "urql";
import { graphql } from "@/gql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { PASSWORD_MIN_LENGTH } from "@/directory/user-fields";
import { checkNewPassword, flowErrors, registerPassword } from "@/passwords/password-flows";
import { preparePasswordWorker } from "@/passwords/password-worker-client";
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

// The API has the final word on the rest (reserved names, taken slugs); this catches typos before a
// round trip. The password's rules are the browser's alone: the API never sees it.
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
  if (!values.password) errors.fields.password = "Choose a password";
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
  const client = useClient();
  const [, signUpMsp] = useMutation(SignUpMspMutation);
  const [busy, setBusy] = useState<"checking" | "creating" | null>(null);
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
  useEffect(preparePasswordWorker, []);

  function change(field: Field, value: string) {
    const follows = field === "displayName" && !slugTyped;
    if (field === "slug") setSlugTyped(value !== "");
    setValues((current) => ({ ...current, [field]: value, ...(follows ? { slug: suggestedSlug(value) } : {}) }));
    setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined, ...(follows ? { slug: undefined } : {}) } }));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy("checking");
    try {
      const slug = values.slug.trim().toLowerCase();
      const displayName = values.displayName.trim();
      const firstName = values.firstName.trim();
      const lastName = values.lastName.trim();
      const email = values.email.trim();
      const problems = validate(values);
      if (values.password) await checkNewPassword(problems, "password", values.password, [firstName, lastName, email, slug, displayName]);
      setErrors(problems);
      if (hasErrors(problems)) return focusFirstInvalid(form);

      let passwordRegistrationId;
      try {
        // Registered with OPAQUE: the API keeps a record it cannot recover the password from.
        passwordRegistrationId = await registerPassword(client, { password: values.password });
      } catch (error) {
        setErrors(flowErrors(error, FIELDS));
        return focusFirstInvalid(form);
      }
      setBusy("creating");
      const result = await signUpMsp({
        input: { slug, displayName, firstName, lastName, email, passwordRegistrationId, tokenDelivery: "COOKIE" },
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
    } finally {
      setBusy(null);
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
        hint={`At least ${PASSWORD_MIN_LENGTH} characters, not a common password or your own names; a passphrase is best.`}
        {...field("password")}
      />
      <button type="submit" disabled={busy !== null}>
        {busy === "checking" ? "Checking password…" : busy === "creating" ? "Creating account…" : "Create account"}
      </button>
      <p className="form-footer">
        Already have an account? <Link href="/login">Sign in</Link>
      </p>
    </form>
  );
}
