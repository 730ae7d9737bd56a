import { Repeater } from "graphql-yoga";
import { builder } from "../../builder.ts";
import type { Context } from "../../context.ts";
import { NotFoundError } from "../../errors.ts";
import { Challenge } from "./challenge.types.ts";
import { isTerminal, readChallenge, watchableChallenge } from "./challenge.service.ts";

/** The slow database poll behind pub/sub: a dropped message delays an outcome by at most this. */
export const CHALLENGE_POLL_MS = 5_000;

/**
 * Wake-ups for one waiting requester: every published change, the moment the
 * challenge expires, a slow poll, and the pub/sub connection coming back
 * (Redis drops what was published while it was down).
 */
function wakeUps(ctx: Context, id: string, expiresAt: Date) {
  return Repeater.merge([
    ctx.pubsub.subscribe("challenge:updated", id),
    new Repeater<"tick">(async (push, stop) => {
      const poll = setInterval(() => void push("tick"), CHALLENGE_POLL_MS);
      const expiry = setTimeout(() => void push("tick"), Math.max(0, expiresAt.getTime() - Date.now()) + 50);
      const resumed = ctx.onPubSubResumed(() => void push("tick"));
      await stop;
      clearInterval(poll);
      clearTimeout(expiry);
      resumed();
    }),
  ]);
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
      const wake = wakeUps(ctx, first.id, first.expiresAt);
      try {
        for await (const _ of wake) {
          const current = await readChallenge(ctx, first.id);
          if (!current) return;
          if (current.status !== last) {
            last = current.status;
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
