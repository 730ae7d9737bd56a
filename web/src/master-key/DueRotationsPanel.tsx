"use client";

import { useState } from "react";
import { useMutation } from "urql";
import { KeyOperation, type Started } from "./MasterKeyPanel";
import { StartKeyOperationMutation } from "./master-key-operations";

/**
 * On the MSP's settings: customers whose master key a lost phone (say, a
 * technician's) still holds. One QR code, one approval on a phone that holds
 * their keys, and the phone rotates each of them.
 */
export function DueRotationsPanel({ mspId, due, onDone }: { mspId: string; due: number; onDone: () => void }) {
  const [, start] = useMutation(StartKeyOperationMutation);
  const [started, setStarted] = useState<Started | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function begin() {
    setProblem(null);
    const result = await start({ input: { tenantId: mspId, purpose: "ROTATE_TENANT_KEY" } });
    const outcome = result.data?.startKeyOperation;
    if (result.error || !outcome) return setProblem(result.error?.message ?? "No answer from the API.");
    if (outcome.__typename !== "StartKeyOperationPayload") return setProblem(outcome.message);
    setStarted({ purpose: "ROTATE_TENANT_KEY", keyOperation: outcome.keyOperation, qrPayload: outcome.qrPayload, watchToken: outcome.watchToken });
  }

  return (
    <section className="card" aria-labelledby="due-rotations-title">
      <h2 id="due-rotations-title">Master keys to rotate</h2>
      <p role="alert">
        {due} customer(s) have a master key holder that may no longer hold it (a lost phone, a technician who left). Until their keys are rotated, that
        phone can still open their passwords. The phone that scans rotates every one of them whose key it holds; another holder does the rest.
      </p>
      {started ? (
        <KeyOperation
          started={started}
          onDone={() => {
            setStarted(null);
            onDone();
          }}
        />
      ) : (
        <button type="button" onClick={begin}>
          Rotate them all with one approval
        </button>
      )}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
