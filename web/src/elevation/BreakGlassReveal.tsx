"use client";

import { useEffect, useRef, useState } from "react";
import { useMutation } from "urql";
import type { ChallengeStatus } from "@/gql/graphql";
import { useChallengeWatch } from "@/challenges/challenge-watch";
import { QrCode } from "@/challenges/QrCode";
import { QrPayloadText } from "@/challenges/QrPayloadText";
import { RevealBreakGlassPasswordMutation, StartBreakGlassRevealMutation } from "./elevation-operations";

type Started = {
  challenge: { id: string; status: ChallengeStatus; expiresAt: string };
  qrPayload: string;
  watchToken: string;
  redeemSecret: string;
};

/**
 * "Reveal break-glass password" for an MSP admin: a QR code for the admin's own phone,
 * then, once the phone approves, the account's current password, shown once with a copy
 * button. The workstation rotates it at its next contact; every admin is emailed.
 */
export function BreakGlassReveal({ workstation, account }: { workstation: { id: string; name: string }; account: string }) {
  const [, start] = useMutation(StartBreakGlassRevealMutation);
  const [started, setStarted] = useState<Started | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function begin() {
    setProblem(null);
    const result = await start({ input: { workstationId: workstation.id, account } });
    const outcome = result.data?.startBreakGlassReveal;
    if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
    if (outcome.__typename !== "StartBreakGlassRevealPayload") return setProblem(outcome.message);
    setStarted({ challenge: outcome.challenge, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken, redeemSecret: outcome.redeemSecret });
  }

  return (
    <div className="break-glass">
      {!started && (
        <button type="button" className="button-small" onClick={begin}>
          Reveal break-glass password
        </button>
      )}
      {started && <Approval started={started} workstation={workstation} account={account} onDone={() => setStarted(null)} />}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

function Approval(props: { started: Started; workstation: { id: string; name: string }; account: string; onDone: () => void }) {
  const { started, workstation, account } = props;
  const { status } = useChallengeWatch({ ...started.challenge, watchToken: started.watchToken });
  const [, reveal] = useMutation(RevealBreakGlassPasswordMutation);
  const [password, setPassword] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const asked = useRef(false);

  useEffect(() => {
    if (status !== "APPROVED" || asked.current) return;
    asked.current = true;
    void (async () => {
      const result = await reveal({ input: { workstationId: workstation.id, account, challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
      const outcome = result.data?.revealBreakGlassPassword;
      if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
      if (outcome.__typename !== "RevealBreakGlassPasswordPayload") return setProblem(outcome.message);
      setPassword(outcome.password);
    })();
  }, [status, reveal, workstation.id, account, started]);

  if (password !== null) {
    return (
      <div className="break-glass-password" role="region" aria-label={`Break-glass password for ${account}`}>
        <p>
          Password of <strong>{account}</strong> on <strong>{workstation.name}</strong>, shown once. The workstation rotates it at its next contact.
        </p>
        <code className="secret" data-testid="break-glass-password">
          {password}
        </code>{" "}
        <button
          type="button"
          className="button-small"
          onClick={async () => {
            await navigator.clipboard?.writeText(password).catch(() => undefined);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>{" "}
        <button
          type="button"
          className="button-small"
          onClick={() => {
            setPassword(null);
            props.onDone();
          }}
        >
          Done
        </button>
      </div>
    );
  }
  const waiting = status === "PENDING" || status === "SCANNED" || status === "APPROVED";
  return (
    <div className="onboarding-code">
      {waiting ? (
        <>
          <p>
            Scan with <strong>your own</strong> Latchkey authenticator to reveal the password of {account} on {workstation.name}.
          </p>
          <div className="qr-frame">
            <QrCode payload={started.qrPayload} dimmed={status !== "PENDING"} label={`QR code to reveal the break-glass password for ${account} on ${workstation.name}`} />
          </div>
          <QrPayloadText payload={started.qrPayload} />
          <p role="status">{status === "SCANNED" ? "Scanned: approve on your phone." : status === "APPROVED" ? "Approved: opening…" : "Waiting for your phone…"}</p>
        </>
      ) : (
        <p role="alert">The request was {status.toLowerCase()}.</p>
      )}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <button type="button" className="button-small" onClick={props.onDone}>
        Close
      </button>
    </div>
  );
}
