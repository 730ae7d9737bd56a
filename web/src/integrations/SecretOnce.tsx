"use client";

import { useState } from "react";

/** A secret the API shows only once: displayed with a copy button until dismissed. */
export function SecretOnce({ label, secret, hint, onDismiss }: { label: string; secret: string; hint: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState("");

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Could not copy: select the secret and copy it by hand.");
    }
  }

  return (
    <div className="token-secret" role="region" aria-label={label}>
      <p>
        <strong>Copy this secret now.</strong> It is not shown again.
      </p>
      <code data-testid="integration-secret">{secret}</code>
      <p className="field-hint">{hint}</p>
      <div className="revoke-actions">
        <button type="button" className="button-small" onClick={copy}>
          Copy secret
        </button>
        <button type="button" className="button-secondary button-small" onClick={onDismiss}>
          Done
        </button>
      </div>
      <p className="form-success" role="status">
        {copied}
      </p>
    </div>
  );
}
