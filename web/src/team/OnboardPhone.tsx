"use client";

import { useEffect, useId, useRef, useState } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import type { ChallengeStatus } from "@/gql/graphql";
import { Countdown } from "@/challenges/Countdown";
import { useChallengeWatch } from "@/challenges/challenge-watch";
import { QrCode } from "@/challenges/QrCode";
import { QrPayloadText } from "@/challenges/QrPayloadText";

const StartDeviceOnboardingMutation = graphql(`
  mutation StartDeviceOnboarding($input: StartDeviceOnboardingInput!) {
    startDeviceOnboarding(input: $input) {
      __typename
      ... on StartDeviceOnboardingPayload {
        challenge {
          id
          status
          expiresAt
        }
        qrPayload
        watchToken
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

type Started = {
  challenge: { id: string; status: ChallengeStatus; expiresAt: string };
  qrPayload: string;
  watchToken: string;
};

type Person = { id: string; name: string; email: string };

/**
 * "Onboard phone" and its dialog: a single-use QR code that links the phone which verified
 * this person's email to them. The dialog waits for the phone and says when it is linked.
 */
export function OnboardPhone({ user, onLinked }: { user: Person; onLinked: () => void }) {
  const titleId = useId();
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const [{ fetching }, startOnboarding] = useMutation(StartDeviceOnboardingMutation);
  const [open, setOpen] = useState(false);
  const [started, setStarted] = useState<Started | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function start() {
    setProblem(null);
    setStarted(null);
    const result = await startOnboarding({ input: { userId: user.id } });
    const outcome = result.data?.startDeviceOnboarding;
    if (result.error || !outcome) {
      setProblem(
        result.error?.networkError
          ? "Could not reach the Latchkey API. Check your connection and try again."
          : `Could not create a code: ${result.error?.message ?? "no answer from the API"}`,
      );
      return;
    }
    if (outcome.__typename !== "StartDeviceOnboardingPayload") {
      setProblem(outcome.message);
      return;
    }
    setStarted({ challenge: outcome.challenge, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken });
  }

  function openDialog() {
    setOpen(true);
    dialogRef.current?.showModal();
    void start();
  }

  return (
    <>
      <button
        ref={openerRef}
        type="button"
        className="button-secondary button-small"
        aria-haspopup="dialog"
        onClick={openDialog}
      >
        Onboard phone
      </button>
      <dialog
        ref={dialogRef}
        className="dialog"
        aria-labelledby={titleId}
        onClose={() => {
          // Esc, the close button or "Done": the code stops being watched.
          setOpen(false);
          setStarted(null);
          setProblem(null);
          openerRef.current?.focus();
        }}
      >
        <div className="dialog-head">
          <h2 id={titleId}>Onboard a phone for {user.name}</h2>
          <button
            type="button"
            className="button-secondary button-small"
            aria-label="Close"
            onClick={() => dialogRef.current?.close()}
          >
            ✕
          </button>
        </div>
        {open && (
          <>
            <ol className="dialog-steps">
              <li>
                In the Latchkey authenticator on {user.name.split(" ")[0]}&apos;s phone, verify <strong>{user.email}</strong>.
              </li>
              <li>Scan this code with it. The code works once.</li>
            </ol>
            {problem && (
              <>
                <p className="form-problem" role="alert">
                  {problem}
                </p>
                <button type="button" onClick={start} disabled={fetching}>
                  Try again
                </button>
              </>
            )}
            {!started && !problem && (
              <p className="table-status" role="status">
                Creating a code…
              </p>
            )}
            {started && (
              <OnboardingCode
                key={started.challenge.id}
                started={started}
                user={user}
                restarting={fetching}
                onNewCode={start}
                onLinked={onLinked}
                onDone={() => dialogRef.current?.close()}
              />
            )}
          </>
        )}
      </dialog>
    </>
  );
}

const STATUS_TEXT: Record<ChallengeStatus, string> = {
  PENDING: "Waiting for the phone to scan the code",
  SCANNED: "Scanned. Linking the phone…",
  APPROVED: "Scanned. Linking the phone…",
  CONSUMED: "Phone linked",
  DENIED: "The phone turned the code down",
  EXPIRED: "The code expired",
};

function OnboardingCode(props: {
  started: Started;
  user: Person;
  restarting: boolean;
  onNewCode: () => void;
  onLinked: () => void;
  onDone: () => void;
}) {
  const { started, onLinked } = props;
  const { status, problem } = useChallengeWatch({ ...started.challenge, watchToken: started.watchToken });
  const reported = useRef(false);
  const actionRef = useRef<HTMLButtonElement>(null);
  const waiting = status === "PENDING" || status === "SCANNED" || status === "APPROVED";
  const linked = status === "CONSUMED";

  useEffect(() => {
    if (!linked || reported.current) return;
    reported.current = true;
    onLinked();
  }, [linked, onLinked]);

  useEffect(() => {
    if (!waiting) actionRef.current?.focus();
  }, [waiting]);

  return (
    <div className="onboarding-code">
      <div className="qr-frame">
        {waiting ? (
          <QrCode
            payload={started.qrPayload}
            dimmed={status !== "PENDING"}
            label={`QR code to link a phone to ${props.user.name}. Scan it with the Latchkey authenticator app.`}
          />
        ) : (
          <div className={`qr-placeholder${linked ? "" : " qr-placeholder-failed"}`} aria-hidden="true">
            {linked ? "✓" : "✕"}
          </div>
        )}
      </div>
      <p
        className={`qr-status${linked ? " qr-status-done" : waiting ? "" : " qr-status-failed"}`}
        role="status"
        data-status={status}
      >
        {STATUS_TEXT[status]}
      </p>
      {waiting && <Countdown expiresAt={started.challenge.expiresAt} />}
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      {status === "PENDING" && <QrPayloadText payload={started.qrPayload} />}
      {linked ? (
        <button ref={actionRef} type="button" onClick={props.onDone}>
          Done
        </button>
      ) : (
        !waiting && (
          <button ref={actionRef} type="button" onClick={props.onNewCode} disabled={props.restarting}>
            {props.restarting ? "Creating code…" : "Show a new code"}
          </button>
        )
      )}
    </div>
  );
}
