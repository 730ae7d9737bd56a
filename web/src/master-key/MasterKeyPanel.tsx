"use client";

import { useCallback, useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import type { ChallengeStatus, KeyOperationPurpose } from "@/gql/graphql";
import { useChallengeWatch } from "@/challenges/challenge-watch";
import { QrCode } from "@/challenges/QrCode";
import { QrPayloadText } from "@/challenges/QrPayloadText";
import { MasterKeyQuery, MspMayHoldMasterKeyMutation, RequirePasswordChangesMutation, StartKeyOperationMutation } from "./master-key-operations";

export type Started = { purpose: KeyOperationPurpose; keyOperation: { id: string; status: ChallengeStatus; expiresAt: string }; qrPayload: string; watchToken: string };

/**
 * Settings → Desktop login → Master key: who holds the customer's key,
 * "Enable master key" and "Rotate key", each a QR code for a customer admin's
 * phone. The phone makes the new key and re-seals every password; this page
 * only watches.
 */
export function MasterKeyPanel({ tenantId, tenantName }: { tenantId: string; tenantName: string }) {
  const [{ data, error }, refetch] = useQuery({ query: MasterKeyQuery, variables: { id: tenantId } });
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  const [, start] = useMutation(StartKeyOperationMutation);
  const [started, setStarted] = useState<Started | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const state = data?.tenant?.masterKey;
  if (error || (data && !state)) return null;

  async function begin(purpose: KeyOperationPurpose) {
    setProblem(null);
    const result = await start({ input: { tenantId, purpose } });
    const outcome = result.data?.startKeyOperation;
    if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
    if (outcome.__typename !== "StartKeyOperationPayload") return setProblem(outcome.message);
    setStarted({ purpose, keyOperation: outcome.keyOperation, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken });
  }
  const done = () => {
    setStarted(null);
    reload();
  };
  const canEdit = data?.tenant?.viewerCanEditSettings ?? false;

  return (
    <section className="card" aria-labelledby="master-key-title">
      <h2 id="master-key-title">Master key</h2>
      {!state ? (
        <p role="status">Loading…</p>
      ) : state.on ? (
        <>
          <p role="status">
            The master key is on (epoch {state.epoch}): only the holders below can open {tenantName}&apos;s passwords. The service cannot.
          </p>
          <ul aria-label="Master key holders">
            {state.holders.map((holder) => (
              <li key={holder.id}>
                {holder.name}
                {holder.lastActedAt ? `, last used the key ${new Date(holder.lastActedAt).toLocaleString()}` : ", has not used the key yet"}
              </li>
            ))}
          </ul>
          {state.awaitingAdmission.length > 0 && (
            <div>
              <p>
                Waiting to be admitted as holders (they may hold the key, and do not yet). A holder admits each one: open the authenticator&apos;s
                fingerprint on the new phone, press Rotate key, and type that fingerprint on the holder&apos;s phone. The fingerprint is read off the new
                phone itself, so a phone this page cannot vouch for never gets the key.
              </p>
              <ul aria-label="Phones waiting to be admitted">
                {state.awaitingAdmission.map((phone) => (
                  <li key={phone.id}>{phone.name}</li>
                ))}
              </ul>
            </div>
          )}
          {state.rotationDue && (
            <p role="alert">
              Rotation due: a phone that held the key was removed or may no longer hold it. Until a holder rotates the key, that phone can still open
              every password. Passwords it could already read stay known to whoever has it: ask those users to choose new ones.
            </p>
          )}
          <p className="hint">
            Passwords set before the master key was turned on can still be opened by anyone holding an older backup of the database together with the
            service&apos;s key-encryption key. Ask users to choose new passwords to close that.
          </p>
          {canEdit && <AskForNewPasswords tenantId={tenantId} />}
          {!state.holders.some((holder) => holder.kind === "RECOVERY_KIT") && (
            <p className="hint">No recovery kit yet: if every phone that holds the key is lost, every password is lost with it. Create one and keep its code offline.</p>
          )}
          {started ? (
            <KeyOperation started={started} onDone={done} />
          ) : (
            canEdit && (
              <div>
                <button type="button" onClick={() => begin("ROTATE_TENANT_KEY")}>
                  Rotate key
                </button>{" "}
                <button type="button" className="button-secondary" onClick={() => begin("CREATE_RECOVERY_KIT")}>
                  New recovery kit
                </button>{" "}
                <button type="button" className="button-secondary" onClick={() => begin("RECOVER_TENANT_KEY")}>
                  Recover with a kit
                </button>
              </div>
            )
          )}
        </>
      ) : (
        <>
          <p>
            The master key is off: the service keeps a copy of {tenantName}&apos;s key to hand passwords to workstations. Turn it on and only the phones of{" "}
            {tenantName}&apos;s admins hold the key; the service can no longer read any password.
          </p>
          {started ? (
            <KeyOperation started={started} onDone={done} />
          ) : (
            canEdit && (
              <button type="button" onClick={() => begin("ENABLE_MASTER_KEY")}>
                Enable master key
              </button>
            )
          )}
        </>
      )}
      {data?.tenant?.viewerCanChooseMasterKeyHolders && <MspMayHold tenantId={tenantId} tenantName={tenantName} value={data.tenant.mspMayHoldMasterKey} onSaved={reload} />}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** Asks every user of the customer for a new password, at their next sign-in. */
function AskForNewPasswords({ tenantId }: { tenantId: string }) {
  const [{ fetching }, ask] = useMutation(RequirePasswordChangesMutation);
  const [outcome, setOutcome] = useState<string | null>(null);
  async function submit() {
    if (!window.confirm("Ask every user of this customer to choose a new password at their next sign-in?")) return;
    const result = await ask({ input: { tenantId } });
    const answer = result.data?.requirePasswordChanges;
    if (result.error || !answer) return setOutcome(result.error?.message ?? "No answer from the API.");
    setOutcome(answer.__typename === "RequirePasswordChangesPayload" ? `${answer.usersAsked} user(s) must choose a new password at their next sign-in.` : answer.message);
  }
  return (
    <p>
      <button type="button" className="button-secondary" onClick={submit} disabled={fetching}>
        Ask every user for a new password
      </button>{" "}
      {outcome && <span role="status">{outcome}</span>}
    </p>
  );
}

/** The customer's own choice whether its MSP's staff may hold its key: never the MSP's. */
function MspMayHold(props: { tenantId: string; tenantName: string; value: boolean; onSaved: () => void }) {
  const [{ fetching }, save] = useMutation(MspMayHoldMasterKeyMutation);
  const [problem, setProblem] = useState<string | null>(null);
  async function change(value: boolean) {
    setProblem(null);
    const result = await save({ input: { tenantId: props.tenantId, mspMayHoldMasterKey: value } });
    const answer = result.data?.updateTenantSettings;
    if (result.error || !answer) return setProblem(result.error?.message ?? "No answer from the API.");
    if (answer.__typename !== "UpdateTenantSettingsPayload") return setProblem(answer.message);
    props.onSaved();
  }
  return (
    <div>
      <label>
        <input type="checkbox" checked={props.value} disabled={fetching} onChange={(event) => change(event.target.checked)} /> Let our MSP&apos;s admins and the
        technicians delegated to {props.tenantName} hold the master key
      </label>
      <p className="hint">
        Off, only {props.tenantName}&apos;s own admins&apos; phones hold it. Switching it off later makes a rotation due, so that their copies open nothing
        set afterwards.
      </p>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

/** What each operation asks of whoever holds the phone, and its QR code's name. */
const INSTRUCTIONS: Record<KeyOperationPurpose, { text: string; label: string }> = {
  ENABLE_MASTER_KEY: {
    text:
      "Scan with the Latchkey authenticator of one of the customer's admins: the new key is made on that phone. To make other admins' phones holders too, " +
      "type on it the fingerprint each of them shows.",
    label: "QR code to turn the master key on",
  },
  ROTATE_TENANT_KEY: {
    text: "Scan with the Latchkey authenticator of a phone that holds the key: the next key is made on that phone. Admit a waiting phone by typing the fingerprint it shows.",
    label: "QR code to rotate the key",
  },
  CREATE_RECOVERY_KIT: {
    text: "Scan with the Latchkey authenticator of a phone that holds the key: it shows the kit's code once. Write it down and keep it offline.",
    label: "QR code to create a recovery kit",
  },
  REVEAL_BREAK_GLASS_PASSWORD: {
    text: "Scan with the Latchkey authenticator of a phone that holds the key: it opens the password and seals it to this browser only.",
    label: "QR code to reveal a break-glass password",
  },
  RECOVER_TENANT_KEY: {
    text: "Scan with the Latchkey authenticator of the admin's new phone, then type the recovery kit's code on that phone. Every admin is emailed.",
    label: "QR code to recover the key with a recovery kit",
  },
};

export function KeyOperation({ started, onDone }: { started: Started; onDone: () => void }) {
  const { status, problem } = useChallengeWatch({ ...started.keyOperation, watchToken: started.watchToken });
  useEffect(() => {
    if (status === "APPROVED") onDone();
  }, [status, onDone]);
  const waiting = status === "PENDING" || status === "SCANNED";
  return (
    <div className="onboarding-code">
      {waiting ? (
        <>
          <p>{INSTRUCTIONS[started.purpose].text}</p>
          <div className="qr-frame">
            <QrCode payload={started.qrPayload} dimmed={status !== "PENDING"} label={INSTRUCTIONS[started.purpose].label} />
          </div>
          <QrPayloadText payload={started.qrPayload} />
          <p role="status">{status === "SCANNED" ? "Scanned: the phone is re-sealing every password…" : "Waiting for an admin's phone…"}</p>
        </>
      ) : (
        <p role="alert">The request was {status.toLowerCase()}.</p>
      )}
      {problem && <p className="field-error">{problem}</p>}
      {!waiting && (
        <button type="button" className="button-small" onClick={onDone}>
          Close
        </button>
      )}
    </div>
  );
}
