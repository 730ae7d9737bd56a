"use client";

import Link from "next/link";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { useSignInTenant } from "@/session/tenant-address";
import { useChallengeRedemption } from "./challenge-redemption";
import { WaitingForPhone, type ShownChallenge } from "./WaitingForPhone";

const StartLoginChallengeMutation = graphql(`
  mutation StartLoginChallenge($input: StartLoginChallengeInput!) {
    startLoginChallenge(input: $input) {
      __typename
      ... on StartLoginChallengePayload {
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
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

const FIELDS = ["tenant"] as const;
type Field = (typeof FIELDS)[number];

export function PhoneLogIn({ initialTenant }: { initialTenant: string }) {
  const [{ fetching: starting }, startChallenge] = useMutation(StartLoginChallengeMutation);
  const redemption = useChallengeRedemption();
  const [tenant, setTenant] = useState(initialTenant);
  // On a tenant's own address the tenant is known; elsewhere a remembered one fills an empty field.
  const signInTenant = useSignInTenant();
  useEffect(() => {
    const known = signInTenant.tenant;
    if (known) setTenant((current) => (known.fixed || !current ? known.slug : current));
  }, [signInTenant.tenant]);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [started, setStarted] = useState<ShownChallenge | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  async function start(slug: string) {
    // A new code replaces the one on screen.
    redemption.withdraw();
    const result = await startChallenge({ input: { tenant: slug, kind: "PORTAL_LOGIN" } });
    const outcome = result.data?.startLoginChallenge;
    let problems: FormErrors<Field> | null = null;
    if (result.error || !outcome) {
      problems = result.error ? errorsFromTransport(result.error) : { fields: {}, form: "No answer from the API." };
    } else if (outcome.__typename === "NotFoundError") {
      problems = { fields: { tenant: "No tenant has this slug. Check the spelling." }, form: null };
    } else if (outcome.__typename !== "StartLoginChallengePayload") {
      problems = errorsFromResult(outcome, FIELDS);
    }
    if (problems || outcome?.__typename !== "StartLoginChallengePayload") {
      // Back to the form (also from "Try again"), with the reason next to the field.
      redemption.drop();
      setStarted(null);
      setErrors(problems ?? { fields: {}, form: "No answer from the API." });
      setTimeout(() => {
        const form = formRef.current;
        if (!form) return;
        if (form.querySelector('[aria-invalid="true"]')) focusFirstInvalid(form);
        else form.querySelector<HTMLButtonElement>('button[type="submit"]')?.focus();
      });
      return;
    }
    redemption.hold(outcome.challenge.id, outcome.redeemSecret);
    setStarted({ tenant: slug, challenge: outcome.challenge, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken });
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const slug = tenant.trim().toLowerCase();
    const problems = noErrors<Field>();
    if (!slug) problems.fields.tenant = "Enter your tenant's slug";
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(form);
    await start(slug);
  }

  if (started) {
    return (
      <WaitingForPhone
        key={started.challenge.id}
        title="Log in with your phone"
        lead={
          <>
            Signing in to <code>{started.tenant}</code>.{" "}
            <button
              type="button"
              className="button-link"
              onClick={() => {
                redemption.withdraw();
                setStarted(null);
              }}
            >
              Change tenant
            </button>
          </>
        }
        started={started}
        restarting={starting}
        onRestart={() => start(started.tenant)}
        redeem={redemption.redeem}
        footer={
          <>
            No phone at hand? <Link href="/login">Sign in with a password</Link>
          </>
        }
      />
    );
  }

  return (
    <form ref={formRef} className="card form" onSubmit={submit} noValidate aria-labelledby="phone-login-title">
      <h1 id="phone-login-title">Log in with your phone</h1>
      <p className="lead">Show a QR code here and approve the sign-in with the Latchkey authenticator.</p>
      <FormProblem message={errors.form} />
      <TextField
        name="tenant"
        label="Tenant"
        autoComplete="organization"
        spellCheck={false}
        required
        hint="Your MSP's slug, or your customer tenant's, e.g. contoso-acme."
        value={tenant}
        error={errors.fields.tenant}
        onChange={(event) => {
          setTenant(event.target.value);
          setErrors(noErrors);
        }}
      />
      <button type="submit" disabled={starting}>
        {starting ? "Creating code…" : "Show QR code"}
      </button>
      <p className="form-footer">
        No phone at hand? <Link href="/login">Sign in with a password</Link>
      </p>
    </form>
  );
}

