"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { useClient, useMutation } from "urql";
import { graphql } from "@/gql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { flowErrors, provePassword } from "@/passwords/password-flows";
import { preparePasswordWorker } from "@/passwords/password-worker-client";
import { useChallengeRedemption } from "@/phone-login/challenge-redemption";
import { WaitingForPhone, type ShownChallenge } from "@/phone-login/WaitingForPhone";
import { useSignInTenant } from "@/session/tenant-address";
import { useResetSession } from "@/urql/UrqlProvider";

const FinishPasswordLogInMutation = graphql(`
  mutation FinishPasswordLogIn($input: FinishPasswordLogInInput!) {
    finishPasswordLogIn(input: $input) {
      __typename
      ... on AuthPayload {
        tenant {
          id
          slug
        }
      }
      ... on PhoneApprovalRequiredError {
        challenge {
          id
          status
          expiresAt
        }
        qrPayload
        watchToken
        redeemSecret
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
    }
  }
`);

const FIELDS = ["tenant", "login", "password"] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

function validate(values: Values): FormErrors<Field> {
  const errors = noErrors<Field>();
  if (!values.tenant.trim()) errors.fields.tenant = "Enter your tenant's slug";
  if (!values.login.trim()) errors.fields.login = "Enter your email or username";
  if (!values.password) errors.fields.password = "Enter your password";
  return errors;
}

export function LogInForm() {
  const router = useRouter();
  const resetSession = useResetSession();
  const client = useClient();
  const [, finishLogIn] = useMutation(FinishPasswordLogInMutation);
  const [values, setValues] = useState<Values>({ tenant: "", login: "", password: "" });
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [busy, setBusy] = useState<"checking" | "signing-in" | null>(null);
  // The tenant asks for the phone after the password: its QR code, until approved.
  const [phoneStep, setPhoneStep] = useState<ShownChallenge | null>(null);

  useEffect(preparePasswordWorker, []);
  const signInTenant = useSignInTenant();
  const fixedTenant = signInTenant.tenant?.fixed ? signInTenant.tenant.slug : null;
  const rememberTenant = (slug: string) => {
    if (!fixedTenant) signInTenant.remember(slug);
  };
  const redemption = useChallengeRedemption((tenant) => rememberTenant(tenant.slug));
  // The tenant its address names, or the last one used here; never over what was typed.
  useEffect(() => {
    const slug = signInTenant.tenant?.slug;
    if (slug) setValues((current) => (current.tenant && !signInTenant.tenant?.fixed ? current : { ...current, tenant: slug }));
  }, [signInTenant.tenant]);

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

    // A failed attempt should not leave the password around for the next person at the keyboard.
    const failed = (problems: FormErrors<Field>) => {
      setErrors(problems);
      focusFirstInvalid(form);
      setValues((current) => ({ ...current, password: "" }));
    };
    setBusy("checking");
    try {
      let proof;
      try {
        // The password is checked here, with OPAQUE: it never leaves the browser.
        proof = await provePassword(client, { tenant: values.tenant.trim().toLowerCase(), login: values.login.trim(), password: values.password });
      } catch (error) {
        return failed(flowErrors(error, FIELDS));
      }
      setBusy("signing-in");
      const result = await finishLogIn({ input: { loginId: proof.loginId, finish: proof.finish, tokenDelivery: "COOKIE" } });
      const outcome = result.data?.finishPasswordLogIn;
      if (result.error || !outcome) {
        setErrors(result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." });
        return;
      }
      if (outcome.__typename === "PhoneApprovalRequiredError") {
        // The password was right; the session waits for the user's own phone.
        redemption.hold(outcome.challenge.id, outcome.redeemSecret);
        setValues((current) => ({ ...current, password: "" }));
        setPhoneStep({ tenant: values.tenant.trim().toLowerCase(), challenge: outcome.challenge, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken });
        return;
      }
      if (outcome.__typename !== "AuthPayload") return failed(errorsFromResult(outcome, FIELDS));
    } finally {
      setBusy(null);
    }
    rememberTenant(values.tenant.trim().toLowerCase());
    resetSession();
    router.replace("/customers");
  }

  if (phoneStep) {
    const backToPassword = () => {
      redemption.withdraw();
      setPhoneStep(null);
    };
    return (
      <WaitingForPhone
        key={phoneStep.challenge.id}
        title="Approve on your phone"
        lead={
          <>
            Your password was right. <code>{phoneStep.tenant}</code> also asks for your phone: scan this code with the
            Latchkey authenticator and approve.
          </>
        }
        started={phoneStep}
        restarting={false}
        onRestart={backToPassword}
        restartLabel="Sign in again"
        redeem={redemption.redeem}
        footer={
          <button type="button" className="button-link" onClick={backToPassword}>
            Cancel
          </button>
        }
      />
    );
  }

  const field = (name: Field) => ({
    name,
    value: values[name],
    error: errors.fields[name],
    onChange: (event: { target: { value: string } }) => change(name, event.target.value),
  });

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Latchkey</h1>
      <FormProblem message={errors.form} />
      <TextField
        label="Tenant"
        autoComplete="organization"
        spellCheck={false}
        required
        readOnly={fixedTenant !== null}
        hint={
          fixedTenant
            ? `This is ${fixedTenant}'s sign-in page.`
            : "Your MSP's slug, or your customer tenant's, e.g. contoso-acme."
        }
        {...field("tenant")}
      />
      <TextField label="Email or username" autoComplete="username" spellCheck={false} required {...field("login")} />
      <TextField label="Password" type="password" autoComplete="current-password" required {...field("password")} />
      <button type="submit" disabled={busy !== null}>
        {busy === "checking" ? "Checking password…" : busy === "signing-in" ? "Signing in…" : "Sign in"}
      </button>
      <p className="form-footer">
        Have the Latchkey authenticator?{" "}
        <Link href={values.tenant.trim() ? `/login/phone?tenant=${encodeURIComponent(values.tenant.trim().toLowerCase())}` : "/login/phone"}>
          Log in with your phone
        </Link>
      </p>
      <p className="form-footer">
        New MSP? <Link href="/signup">Create an account</Link>
      </p>
    </form>
  );
}
