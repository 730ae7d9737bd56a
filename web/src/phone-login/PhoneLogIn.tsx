"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import type { ChallengeStatus } from "@/gql/graphql";
import { Countdown } from "@/challenges/Countdown";
import { useChallengeWatch } from "@/challenges/challenge-watch";
import { QrCode } from "@/challenges/QrCode";
import { QrPayloadText } from "@/challenges/QrPayloadText";
import { errorsFromResult, errorsFromTransport, hasErrors, noErrors, type FormErrors } from "@/forms/form-errors";
import { focusFirstInvalid, FormProblem, TextField } from "@/forms/TextField";
import { useSignInTenant } from "@/session/tenant-address";
import { useResetSession } from "@/urql/UrqlProvider";

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

const CancelChallengeMutation = graphql(`
  mutation CancelChallenge($id: ID!, $redeemSecret: String!) {
    cancelChallenge(id: $id, redeemSecret: $redeemSecret) {
      __typename
    }
  }
`);

const RedeemChallengeMutation = graphql(`
  mutation RedeemChallenge($id: ID!, $redeemSecret: String!) {
    redeemChallenge(id: $id, redeemSecret: $redeemSecret, tokenDelivery: COOKIE) {
      __typename
      ... on AuthPayload {
        tenant {
          id
          slug
          kind
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const FIELDS = ["tenant"] as const;
type Field = (typeof FIELDS)[number];

/** What the page shows while waiting. The redeem secret is not here: see `secret` below. */
type Started = {
  tenant: string;
  challenge: { id: string; status: ChallengeStatus; expiresAt: string };
  qrPayload: string;
  watchToken: string;
};

export function PhoneLogIn({ initialTenant }: { initialTenant: string }) {
  const router = useRouter();
  const resetSession = useResetSession();
  const [{ fetching: starting }, startChallenge] = useMutation(StartLoginChallengeMutation);
  const [, redeemChallenge] = useMutation(RedeemChallengeMutation);
  const [, cancelChallenge] = useMutation(CancelChallengeMutation);
  const [tenant, setTenant] = useState(initialTenant);
  // On a tenant's own address the tenant is known; elsewhere a remembered one fills an empty field.
  const signInTenant = useSignInTenant();
  useEffect(() => {
    const known = signInTenant.tenant;
    if (known) setTenant((current) => (known.fixed || !current ? known.slug : current));
  }, [signInTenant.tenant]);
  const [errors, setErrors] = useState<FormErrors<Field>>(noErrors);
  const [started, setStarted] = useState<Started | null>(null);
  // The redeem secret lives in memory only, for as long as its challenge is on screen: never
  // in React state that devtools or a re-render might spread, never in storage or a URL.
  const secret = useRef<{ challengeId: string; redeemSecret: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  /** Withdraws the code on screen, if any: a copy of it relayed elsewhere is then worthless. */
  function withdraw() {
    const held = secret.current;
    secret.current = null;
    if (held) void cancelChallenge({ id: held.challengeId, redeemSecret: held.redeemSecret });
  }
  // Leaving the page withdraws its code too.
  const withdrawOnLeave = useRef(withdraw);
  withdrawOnLeave.current = withdraw;
  useEffect(() => () => withdrawOnLeave.current(), []);

  async function start(slug: string) {
    // A new code replaces the one on screen.
    withdraw();
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
      secret.current = null;
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
    secret.current = { challengeId: outcome.challenge.id, redeemSecret: outcome.redeemSecret };
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

  /** Exchanges the approval for a session cookie; returns a message when that fails. */
  async function redeem(challengeId: string): Promise<{ problem: string; retry: boolean } | null> {
    const held = secret.current;
    if (!held || held.challengeId !== challengeId) {
      return { problem: "This sign-in can no longer be completed here. Show a new code.", retry: false };
    }
    const result = await redeemChallenge({ id: challengeId, redeemSecret: held.redeemSecret });
    const outcome = result.data?.redeemChallenge;
    if (result.error || !outcome) {
      // The approval may still be waiting: keep the secret so that "Try again" can use it.
      const problem = result.error ? errorsFromTransport(result.error).form : null;
      return { problem: problem ?? "No answer from the API.", retry: true };
    }
    secret.current = null;
    if (outcome.__typename !== "AuthPayload") return { problem: outcome.message, retry: false };
    // A new session: fresh cache and WebSocket, then straight in, without a reload.
    resetSession();
    router.replace(outcome.tenant.kind === "MSP" ? "/customers" : "/");
    return null;
  }

  if (started) {
    return (
      <WaitingForPhone
        key={started.challenge.id}
        started={started}
        restarting={starting}
        onRestart={() => start(started.tenant)}
        onChangeTenant={() => {
          withdraw();
          setStarted(null);
        }}
        redeem={redeem}
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

const STATUS_TEXT: Record<ChallengeStatus, string> = {
  PENDING: "Scan with the Latchkey authenticator",
  SCANNED: "Approve on your phone",
  APPROVED: "Approved. Signing you in…",
  DENIED: "Sign-in was denied",
  EXPIRED: "The code expired",
  CONSUMED: "This code was already used",
};

function WaitingForPhone(props: {
  started: Started;
  restarting: boolean;
  onRestart: () => void;
  onChangeTenant: () => void;
  redeem: (challengeId: string) => Promise<{ problem: string; retry: boolean } | null>;
}) {
  const { started, redeem } = props;
  const { status, problem } = useChallengeWatch({ ...started.challenge, watchToken: started.watchToken });
  const [redeemProblem, setRedeemProblem] = useState<{ problem: string; retry: boolean } | null>(null);
  const [redeemAttempt, setRedeemAttempt] = useState(0);
  const redeemedAttempt = useRef(-1);
  const actionRef = useRef<HTMLButtonElement>(null);
  const statusRef = useRef<HTMLParagraphElement>(null);

  // The form (or the "Try again" button) that had the focus is gone: start from the instruction.
  useEffect(() => {
    statusRef.current?.focus();
  }, []);

  // Redeem as soon as the phone approves: once per attempt, whichever of the live feed or a
  // re-query reported it first.
  useEffect(() => {
    if (status !== "APPROVED" || redeemedAttempt.current === redeemAttempt) return;
    redeemedAttempt.current = redeemAttempt;
    setRedeemProblem(null);
    void redeem(started.challenge.id).then(setRedeemProblem);
  }, [status, redeemAttempt, redeem, started.challenge.id]);

  const waiting = status === "PENDING" || status === "SCANNED";
  const failed = status === "DENIED" || status === "EXPIRED" || status === "CONSUMED" || (redeemProblem && !redeemProblem.retry);

  // Keyboard and screen-reader users land on the way forward.
  useEffect(() => {
    if (failed || redeemProblem) actionRef.current?.focus();
  }, [failed, redeemProblem]);

  let action: { label: string; onClick: () => void } | null = null;
  if (redeemProblem?.retry) action = { label: "Try again", onClick: () => setRedeemAttempt((n) => n + 1) };
  else if (status === "DENIED" || redeemProblem) action = { label: "Try again", onClick: props.onRestart };
  else if (status === "EXPIRED" || status === "CONSUMED") action = { label: "Show a new code", onClick: props.onRestart };

  return (
    <section className="card qr-login" aria-labelledby="phone-login-title">
      <h1 id="phone-login-title">Log in with your phone</h1>
      <p className="lead">
        Signing in to <code>{started.tenant}</code>.{" "}
        <button type="button" className="button-link" onClick={props.onChangeTenant}>
          Change tenant
        </button>
      </p>
      <div className="qr-frame">
        {waiting ? (
          <QrCode
            payload={started.qrPayload}
            dimmed={status === "SCANNED"}
            label={`QR code to sign in to ${started.tenant}. Scan it with the Latchkey authenticator app.`}
          />
        ) : (
          <div className={`qr-placeholder${failed ? " qr-placeholder-failed" : ""}`} aria-hidden="true">
            {failed ? "✕" : "✓"}
          </div>
        )}
      </div>
      <p
        ref={statusRef}
        tabIndex={-1}
        className={`qr-status${failed ? " qr-status-failed" : ""}`}
        role="status"
        data-status={status}
      >
        {STATUS_TEXT[status]}
      </p>
      {status === "SCANNED" && (
        <p className="muted qr-hint">Check that your phone names this browser and {started.tenant} before you approve.</p>
      )}
      {waiting && <Countdown expiresAt={started.challenge.expiresAt} />}
      {(problem || redeemProblem) && (
        <p className="form-problem" role="alert">
          {redeemProblem?.problem ?? problem}
        </p>
      )}
      {status === "PENDING" && <QrPayloadText payload={started.qrPayload} />}
      {action && (
        <button ref={actionRef} type="button" className="qr-action" onClick={action.onClick} disabled={props.restarting}>
          {props.restarting ? "Creating code…" : action.label}
        </button>
      )}
      <p className="form-footer">
        No phone at hand? <Link href="/login">Sign in with a password</Link>
      </p>
    </section>
  );
}
