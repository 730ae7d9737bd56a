"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import { errorsFromTransport } from "@/forms/form-errors";
import { useResetSession } from "@/urql/UrqlProvider";

const CancelChallengeMutation = graphql(`
  mutation CancelChallenge($input: CancelChallengeInput!) {
    cancelChallenge(input: $input) {
      __typename
    }
  }
`);

const RedeemChallengeMutation = graphql(`
  mutation RedeemChallenge($input: RedeemChallengeInput!) {
    redeemChallenge(input: $input) {
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

export type RedeemProblem = { problem: string; retry: boolean };

/**
 * Holds the redeem secret of the QR sign-in on screen and turns its approval into a
 * session. The secret lives in memory only, for as long as its challenge is on screen:
 * never in React state that devtools or a re-render might spread, never in storage or
 * a URL. Leaving the page withdraws the code, so a relayed copy of it is worthless.
 */
export function useChallengeRedemption(onSignedIn?: (tenant: { slug: string; kind: string }) => void) {
  const router = useRouter();
  const resetSession = useResetSession();
  const [, redeemChallenge] = useMutation(RedeemChallengeMutation);
  const [, cancelChallenge] = useMutation(CancelChallengeMutation);
  const secret = useRef<{ challengeId: string; redeemSecret: string } | null>(null);

  /** Withdraws the code on screen, if any. */
  function withdraw() {
    const held = secret.current;
    secret.current = null;
    if (held) void cancelChallenge({ input: { id: held.challengeId, redeemSecret: held.redeemSecret } });
  }
  const withdrawOnLeave = useRef(withdraw);
  withdrawOnLeave.current = withdraw;
  useEffect(() => () => withdrawOnLeave.current(), []);

  /** Exchanges the approval for a session cookie; returns a problem when that fails. */
  async function redeem(challengeId: string): Promise<RedeemProblem | null> {
    const held = secret.current;
    if (!held || held.challengeId !== challengeId) {
      return { problem: "This sign-in can no longer be completed here. Start again.", retry: false };
    }
    const result = await redeemChallenge({ input: { id: challengeId, redeemSecret: held.redeemSecret, tokenDelivery: "COOKIE" } });
    const outcome = result.data?.redeemChallenge;
    if (result.error || !outcome) {
      // The approval may still be waiting: keep the secret so that "Try again" can use it.
      const problem = result.error ? errorsFromTransport(result.error).form : null;
      return { problem: problem ?? "No answer from the API.", retry: true };
    }
    secret.current = null;
    if (outcome.__typename !== "AuthPayload") return { problem: outcome.message, retry: false };
    onSignedIn?.(outcome.tenant);
    // A new session: fresh cache and WebSocket, then straight in, without a reload.
    resetSession();
    router.replace(outcome.tenant.kind === "MSP" ? "/customers" : "/");
    return null;
  }

  return {
    /** A new code replaces the one on screen. */
    hold(challengeId: string, redeemSecret: string) {
      withdraw();
      secret.current = { challengeId, redeemSecret };
    },
    /** The code was refused or never started: nothing to withdraw. */
    drop() {
      secret.current = null;
    },
    withdraw,
    redeem,
  };
}
