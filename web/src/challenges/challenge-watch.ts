"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { useClient } from "urql";
import { graphql } from "@/gql";
import type { ChallengeStatus } from "@/gql/graphql";
import { useWebSocketReconnected } from "@/urql/UrqlProvider";

const ChallengeUpdatedSubscription = graphql(`
  subscription ChallengeUpdated($id: ID!, $watchToken: String!) {
    challengeUpdated(id: $id, watchToken: $watchToken) {
      id
      status
      expiresAt
    }
  }
`);

const ChallengeStateQuery = graphql(`
  query ChallengeState($id: ID!, $watchToken: String!) {
    challenge(id: $id, watchToken: $watchToken) {
      id
      status
      expiresAt
    }
  }
`);

/** Where each status stands in `PENDING -> SCANNED -> APPROVED | DENIED | EXPIRED -> CONSUMED`. */
const STEP: Record<ChallengeStatus, number> = {
  PENDING: 0,
  SCANNED: 1,
  APPROVED: 2,
  DENIED: 2,
  EXPIRED: 2,
  CONSUMED: 3,
};

export function isFinal(status: ChallengeStatus) {
  return STEP[status] >= 2;
}

/**
 * A challenge never moves backwards, but answers can arrive out of order (a re-query
 * sent before a push, answered after it): keep whichever status is further along.
 */
export function laterStatus(current: ChallengeStatus, next: ChallengeStatus): ChallengeStatus {
  return STEP[next] > STEP[current] ? next : current;
}

export type ChallengeWatch = {
  status: ChallengeStatus;
  /** Why the state shown may be stale: the API is unreachable, or no longer knows this code. */
  problem: string | null;
};

/** How often to ask over HTTP while the live feed is down. */
const FALLBACK_POLL_MS = 3_000;

/**
 * Follows one challenge with its watch token: `challengeUpdated` over graphql-ws (the token
 * travels inside the WebSocket message, never in a URL), plus a re-query of
 * `challenge(id, watchToken)` whenever the WebSocket reconnects or the code's time is up,
 * so a final state published while the socket was down is never missed. If the live feed
 * gives up altogether, it asks over HTTP every few seconds instead.
 */
export function useChallengeWatch(challenge: {
  id: string;
  watchToken: string;
  status: ChallengeStatus;
  expiresAt: string;
}): ChallengeWatch {
  const client = useClient();
  const { id, watchToken } = challenge;
  const [status, setStatus] = useState<ChallengeStatus>(challenge.status);
  const [problem, setProblem] = useState<string | null>(null);
  const [feedDown, setFeedDown] = useState(false);
  const [gone, setGone] = useState(false);
  const final = isFinal(status);
  const finalRef = useRef(final);
  useEffect(() => {
    finalRef.current = final;
  }, [final]);

  const recheck = useCallback(() => {
    void client
      .query(ChallengeStateQuery, { id, watchToken }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        const current = result.data?.challenge;
        if (current) {
          setProblem(null);
          setStatus((previous) => laterStatus(previous, current.status));
        } else if (result.error) {
          setProblem(
            result.error.networkError
              ? "Lost the connection to the Latchkey API. Trying again…"
              : `The API could not tell the state of this code: ${result.error.message}`,
          );
        } else {
          setGone(true);
          setProblem("The API no longer knows this code. Start again.");
        }
      });
  }, [client, id, watchToken]);

  useEffect(() => {
    // A final state is final: nothing more to hear (the API completes the subscription too).
    if (final) return;
    const subscription = client
      .subscription(ChallengeUpdatedSubscription, { id, watchToken })
      .subscribe((result) => {
        const current = result.data?.challengeUpdated;
        if (current) {
          setFeedDown(false);
          setProblem(null);
          setStatus((previous) => laterStatus(previous, current.status));
        } else if (result.error) {
          // graphql-ws ran out of retries, or the API refused the subscription: ask over HTTP.
          setFeedDown(true);
          recheck();
        }
      });
    return () => subscription.unsubscribe();
  }, [client, id, watchToken, final, recheck]);

  useWebSocketReconnected(() => {
    if (!finalRef.current) recheck();
  });

  // The API expires codes on every read: one re-query just after the deadline settles it
  // even if the push is lost. A wrong clock in the browser only moves this check.
  useEffect(() => {
    if (final) return;
    const delay = Math.max(0, new Date(challenge.expiresAt).getTime() - Date.now()) + 1_000;
    const timer = setTimeout(recheck, delay);
    return () => clearTimeout(timer);
  }, [final, challenge.expiresAt, recheck]);

  useEffect(() => {
    if (!(feedDown || problem) || final || gone) return;
    const timer = setInterval(recheck, FALLBACK_POLL_MS);
    return () => clearInterval(timer);
  }, [feedDown, problem, final, gone, recheck]);

  return { status, problem };
}
