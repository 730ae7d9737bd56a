import type { ChallengeStatus } from "@latchkey/db";
import { Repeater } from "graphql-yoga";
import { builder } from "../../builder.ts";
import type { Context } from "../../context.ts";
import { NotFoundError } from "../../errors.ts";
import { Challenge } from "./challenge.types.ts";
import { isTerminal, readChallenge, watchableChallenge } from "./challenge.service.ts";

/**
 * Wake-ups for one waiting requester: every published change, the moment the
 * challenge expires, this instance's shared poll (pub/sub is a hint, the
 * database the record), and one right away, so a change made while the
 * subscription was being set up is not missed.
 */
function wakeUps(ctx: Context, challenge: { id: string; status: ChallengeStatus; expiresAt: Date }) {
  let seen: ((status: ChallengeStatus) => void) | null = null;
  const wake = Repeater.merge([
    ctx.pubsub.subscribe("challenge:updated", challenge.id),
    new Repeater<"tick">(async (push, stop) => {
      void push("tick");
      const expiry = setTimeout(() => void push("tick"), Math.max(0, challenge.expiresAt.getTime() - Date.now()) + 50);
      const polled = ctx.challengeWaiters.watch(challenge.id, challenge.status, () => void push("tick"));
      seen = polled.saw;
      await stop;
      clearTimeout(expiry);
      polled.stop();
    }),
  ]);
  return { wake, saw: (status: ChallengeStatus) => seen?.(status) };
}

builder.queryField("challenge", (t) =>
  t.field({
    type: Challenge,
    nullable: true,
    description: "A challenge's current state, for its requester (the watch token can only watch).",
    args: { id: t.arg.id({ required: true }), watchToken: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => (await watchableChallenge(ctx, String(args.id), args.watchToken)) as never,
  }),
);

builder.subscriptionField("challengeUpdated", (t) =>
  t.field({
    type: Challenge,
    description: "The current state at once, then every transition; completes at a terminal state.",
    args: { id: t.arg.id({ required: true }), watchToken: t.arg.string({ required: true }) },
    subscribe: async function* (_root, args, ctx) {
      const first = await watchableChallenge(ctx, String(args.id), args.watchToken);
      if (!first) throw new NotFoundError("Challenge");
      let last = first.status;
      yield first;
      if (isTerminal(last)) return;
      const { wake, saw } = wakeUps(ctx, first);
      try {
        for await (const _ of wake) {
          const current = await readChallenge(ctx, first.id);
          if (!current) return;
          if (current.status !== last) {
            last = current.status;
            saw(last);
            yield current;
          }
          if (isTerminal(current.status)) return;
        }
      } finally {
        await wake.return();
      }
    },
    resolve: (challenge) => challenge as never,
  }),
);
