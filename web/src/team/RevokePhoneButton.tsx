"use client";

import { useEffect, useRef, useState } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";

const RevokeAuthenticatorMutation = graphql(`
  mutation RevokeAuthenticator($input: RevokeAuthenticatorInput!) {
    revokeAuthenticator(input: $input) {
      __typename
      ... on RevokeAuthenticatorPayload {
        revokedAuthenticatorId
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

/** "Revoke", then a confirmation in place: a revoked phone cannot approve sign-ins any more. */
export function RevokePhoneButton(props: {
  phone: { id: string; name: string };
  ownerName: string;
  onRevoked: () => void;
}) {
  const [{ fetching }, revoke] = useMutation(RevokeAuthenticatorMutation);
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const revokeRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Focus follows the question and comes back when it is dismissed.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) revokeRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  async function confirm() {
    setProblem(null);
    const result = await revoke({ input: { id: props.phone.id } });
    const outcome = result.data?.revokeAuthenticator;
    if (result.error || !outcome) {
      setProblem(`Could not revoke ${props.phone.name}: ${result.error?.message ?? "no answer from the API"}`);
      return;
    }
    if (outcome.__typename !== "RevokeAuthenticatorPayload") {
      setProblem(outcome.message);
      return;
    }
    props.onRevoked();
  }

  if (!confirming) {
    return (
      <button
        ref={revokeRef}
        type="button"
        className="button-secondary button-small"
        aria-label={`Revoke ${props.phone.name}`}
        onClick={() => setConfirming(true)}
      >
        Revoke
      </button>
    );
  }
  return (
    <span className="revoke-confirm" role="group" aria-label={`Revoke ${props.phone.name}?`}>
      <span>
        Revoke {props.phone.name}? {props.ownerName} can no longer approve with it.
      </span>
      <span className="revoke-actions">
        <button ref={confirmRef} type="button" className="button-danger button-small" onClick={confirm} disabled={fetching}>
          {fetching ? "Revoking…" : "Revoke phone"}
        </button>
        <button type="button" className="button-secondary button-small" onClick={() => setConfirming(false)} disabled={fetching}>
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
