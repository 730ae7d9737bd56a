"use client";

import { useEffect, useRef, useState } from "react";

/**
 * A button that asks in place before doing something that cannot be undone (delete,
 * revoke, remove). Focus follows the question and comes back when it is dismissed.
 * `run` returns a problem to show, or null when it worked.
 */
export function ConfirmAction(props: {
  /** The button's visible text, e.g. "Delete". */
  label: string;
  /** What a screen reader hears for the button, e.g. "Delete Jane Doe". */
  accessibleLabel: string;
  question: string;
  confirmLabel: string;
  busyLabel: string;
  run: () => Promise<string | null>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) openRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  async function confirm() {
    setBusy(true);
    setProblem(null);
    const outcome = await props.run();
    setBusy(false);
    if (outcome) setProblem(outcome);
    else setConfirming(false);
  }

  if (!confirming) {
    return (
      <button
        ref={openRef}
        type="button"
        className="button-secondary button-small"
        aria-label={props.accessibleLabel}
        onClick={() => setConfirming(true)}
      >
        {props.label}
      </button>
    );
  }
  return (
    <span className="revoke-confirm" role="group" aria-label={`${props.accessibleLabel}?`}>
      <span>{props.question}</span>
      <span className="revoke-actions">
        <button ref={confirmRef} type="button" className="button-danger button-small" onClick={confirm} disabled={busy}>
          {busy ? props.busyLabel : props.confirmLabel}
        </button>
        <button type="button" className="button-secondary button-small" onClick={() => setConfirming(false)} disabled={busy}>
          Cancel
        </button>
      </span>
      {problem && (
        <span className="field-error" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}
