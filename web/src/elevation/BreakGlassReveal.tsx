"use client";

import { useEffect, useRef, useState } from "react";
import { useClient, useMutation } from "urql";
import type { ChallengeStatus } from "@/gql/graphql";
import { useChallengeWatch } from "@/challenges/challenge-watch";
import { QrCode } from "@/challenges/QrCode";
import { QrPayloadText } from "@/challenges/QrPayloadText";
import { passwordStep } from "@/passwords/password-worker-client";
import { StartKeyOperationMutation } from "@/master-key/master-key-operations";
import { RevealBreakGlassPasswordMutation, RevealedPasswordQuery, StartBreakGlassRevealMutation } from "./elevation-operations";

type Watched = { id: string; status: ChallengeStatus; expiresAt: string };
type Workstation = { id: string; name: string };

/** A reveal under way: approved on the admin's own phone (escrow), or done on a holder's phone (master key on). */
type Started =
  | { by: "OWN_PHONE"; challenge: Watched; qrPayload: string; watchToken: string; redeemSecret: string }
  | { by: "HOLDER_PHONE"; challenge: Watched; qrPayload: string; watchToken: string; privateKey: Uint8Array };

/**
 * "Reveal break-glass password": a QR code for a phone, then the account's current
 * password, shown once with a copy button. The workstation rotates it at its next
 * contact; the admins are emailed. While the service keeps the customer's key, the MSP
 * admin approves on their own phone and the service opens the box. With the master key
 * on, a phone that holds the key opens it and seals the password to a one-time key made
 * in this browser, whose hash the QR code carries: the service never sees it.
 */
export function BreakGlassReveal(props: { tenantId: string; masterKeyOn: boolean; workstation: Workstation; account: string }) {
  const { tenantId, masterKeyOn, workstation, account } = props;
  const [, startOwnPhone] = useMutation(StartBreakGlassRevealMutation);
  const [, startHolderPhone] = useMutation(StartKeyOperationMutation);
  const [started, setStarted] = useState<Started | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function begin() {
    setProblem(null);
    if (!masterKeyOn) {
      const result = await startOwnPhone({ input: { workstationId: workstation.id, account } });
      const outcome = result.data?.startBreakGlassReveal;
      if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
      if (outcome.__typename !== "StartBreakGlassRevealPayload") return setProblem(outcome.message);
      return setStarted({ by: "OWN_PHONE", challenge: outcome.challenge, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken, redeemSecret: outcome.redeemSecret });
    }
    const key = await passwordStep({ op: "newBrowserKey" });
    const result = await startHolderPhone({
      input: { tenantId, purpose: "REVEAL_BREAK_GLASS_PASSWORD", workstationId: workstation.id, account, browserKey: key.publicKey, browserKeyHash: key.hash },
    });
    const outcome = result.data?.startKeyOperation;
    if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
    if (outcome.__typename !== "StartKeyOperationPayload") return setProblem(outcome.message);
    // The phone seals to whatever key hashes to the QR code's fourth part: it must be this browser's.
    const [, operationId, , hash, ...rest] = outcome.qrPayload.split(".");
    if (operationId !== outcome.keyOperation.id || hash !== key.hash || rest.length) return setProblem("The service's QR code names another browser key: not shown.");
    setStarted({ by: "HOLDER_PHONE", challenge: outcome.keyOperation, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken, privateKey: key.privateKey });
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

/** Once approved, the password: redeemed from the service, or opened here from what the holder's phone sealed to this browser. */
function useRevealedPassword(started: Started, status: ChallengeStatus, workstation: Workstation, account: string) {
  const client = useClient();
  const [, redeem] = useMutation(RevealBreakGlassPasswordMutation);
  const [password, setPassword] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const asked = useRef(false);

  useEffect(() => {
    if (status !== "APPROVED" || asked.current) return;
    asked.current = true;
    void (async () => {
      if (started.by === "OWN_PHONE") {
        const result = await redeem({ input: { workstationId: workstation.id, account, challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
        const outcome = result.data?.revealBreakGlassPassword;
        if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
        if (outcome.__typename !== "RevealBreakGlassPasswordPayload") return setProblem(outcome.message);
        return setPassword(outcome.password);
      }
      const result = await client.query(RevealedPasswordQuery, { id: started.challenge.id, watchToken: started.watchToken }, { requestPolicy: "network-only" }).toPromise();
      const operation = result.data?.keyOperation;
      if (result.error || !operation?.revealedPassword) return setProblem(result.error?.message ?? "The phone's result is not there.");
      try {
        // Bound to this operation, workstation and account: a box meant for another does not open.
        const binding = { operationId: started.challenge.id, workstationId: workstation.id, account, rotation: operation.revealedPassword.rotation };
        setPassword(await passwordStep({ op: "openReveal", binding, privateKey: started.privateKey, sealed: operation.revealedPassword.sealed }));
      } catch {
        setProblem("The phone's result does not open with this browser's key.");
      }
    })();
  }, [status, redeem, client, workstation.id, account, started]);
  return { password, problem, forget: () => setPassword(null) };
}

function Approval(props: { started: Started; workstation: Workstation; account: string; onDone: () => void }) {
  const { started, workstation, account } = props;
  const { status } = useChallengeWatch({ ...started.challenge, watchToken: started.watchToken });
  const { password, problem, forget } = useRevealedPassword(started, status, workstation, account);
  const [copied, setCopied] = useState(false);

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
            forget();
            props.onDone();
          }}
        >
          Done
        </button>
      </div>
    );
  }
  const waiting = status === "PENDING" || status === "SCANNED" || status === "APPROVED";
  const ownPhone = started.by === "OWN_PHONE";
  return (
    <div className="onboarding-code">
      {waiting ? (
        <>
          <p>
            {ownPhone ? (
              <>
                Scan with <strong>your own</strong> Latchkey authenticator to reveal the password of {account} on {workstation.name}.
              </>
            ) : (
              <>
                The master key is on: scan with the Latchkey authenticator of <strong>a phone that holds the key</strong>. It opens the password of {account}{" "}
                on {workstation.name} and seals it to this browser only.
              </>
            )}
          </p>
          <div className="qr-frame">
            <QrCode payload={started.qrPayload} dimmed={status !== "PENDING"} label={`QR code to reveal the break-glass password for ${account} on ${workstation.name}`} />
          </div>
          <QrPayloadText payload={started.qrPayload} />
          <p role="status">
            {status === "SCANNED" ? (ownPhone ? "Scanned: approve on your phone." : "Scanned: the phone is opening the password…") : status === "APPROVED" ? "Approved: opening…" : "Waiting for the phone…"}
          </p>
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
