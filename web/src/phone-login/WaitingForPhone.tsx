"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";
import type { ChallengeStatus } from "@/gql/graphql";
import { Countdown } from "@/challenges/Countdown";
import { useChallengeWatch } from "@/challenges/challenge-watch";
import { QrCode } from "@/challenges/QrCode";
import { QrPayloadText } from "@/challenges/QrPayloadText";
import type { RedeemProblem } from "./challenge-redemption";

/** A QR sign-in on screen. Its redeem secret is not here: see useChallengeRedemption. */
export type ShownChallenge = {
  tenant: string;
  challenge: { id: string; status: ChallengeStatus; expiresAt: string };
  qrPayload: string;
  watchToken: string;
};

const STATUS_TEXT: Record<ChallengeStatus, string> = {
  PENDING: "Scan with the Latchkey authenticator",
  SCANNED: "Approve on your phone",
  APPROVED: "Approved. Signing you in…",
  DENIED: "Sign-in was denied",
  EXPIRED: "The code expired",
  CONSUMED: "This code was already used",
};

/**
 * The QR code of a sign-in, its live status and countdown, and the way forward when it
 * ends: a phone sign-in, or the phone step after a password.
 */
export function WaitingForPhone(props: {
  title: string;
  /** What is being signed in to, and any way to change it. */
  lead: ReactNode;
  started: ShownChallenge;
  restarting: boolean;
  /** Denied, expired or refused: start over. */
  onRestart: () => void;
  /** Overrides "Try again" and "Show a new code" where starting over means more than a new code. */
  restartLabel?: string;
  redeem: (challengeId: string) => Promise<RedeemProblem | null>;
  footer: ReactNode;
}) {
  const { started, redeem } = props;
  const { status, problem } = useChallengeWatch({ ...started.challenge, watchToken: started.watchToken });
  const [redeemProblem, setRedeemProblem] = useState<RedeemProblem | null>(null);
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
  else if (status === "DENIED" || redeemProblem) action = { label: props.restartLabel ?? "Try again", onClick: props.onRestart };
  else if (status === "EXPIRED" || status === "CONSUMED") action = { label: props.restartLabel ?? "Show a new code", onClick: props.onRestart };

  return (
    <section className="card qr-login" aria-labelledby="phone-login-title">
      <h1 id="phone-login-title">{props.title}</h1>
      <p className="lead">{props.lead}</p>
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
      <p className="form-footer">{props.footer}</p>
    </section>
  );
}
