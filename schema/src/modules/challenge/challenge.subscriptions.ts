import type { Challenge as ChallengeRow } from "@latchkey/db";
import { builder } from "../../builder.ts";
import type { Context } from "../../context.ts";
import { NotFoundError } from "../../errors.ts";
import type { ChallengeWaiter } from "./challenge-waiters.ts";
import { Challenge } from "./challenge.types.ts";
import { isTerminal, readChallenge, watchableChallenge } from "./challenge.service.ts";

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A requester watching one challenge: its current state at once, then every
 * change of status, until a terminal one. An iterator rather than an async
 * generator: a generator cannot be stopped while it waits, so a requester that
 * leaves would stay registered until its challenge changed or expired.
 */
export class ChallengeWatch implements AsyncIterableIterator<ChallengeRow> {
  private waiter: ChallengeWaiter | null = null;
  private started = false;
  private finished = false;

  constructor(
    private readonly ctx: Context,
    private readonly id: string,
    private readonly watchToken: string,
    /** Only a challenge of this kind is watched; any other looks like none. */
    private readonly kind: ChallengeRow["kind"] | null = null,
  ) {}

  [Symbol.asyncIterator]() {
    return this;
  }

  async next(): Promise<IteratorResult<ChallengeRow>> {
    if (this.finished) return DONE;
    if (!this.started) {
      this.started = true;
      const first = await watchableChallenge(this.ctx, this.id, this.watchToken);
      if (!first || (this.kind && first.kind !== this.kind)) {
        this.finished = true;
        throw new NotFoundError("Challenge");
      }
      // return() may have come while the first read was under way.
      if (isTerminal(first.status)) this.finished = true;
      else if (!this.finished) this.waiter = this.ctx.challengeWaiters.watch(this.ctx.pubsub, first);
      return { value: first, done: false };
    }
    const waiter = this.waiter!;
    while (await waiter.next()) {
      const current = await readChallenge(this.ctx, waiter.challengeId);
      if (!current) break;
      if (current.status === waiter.status) continue;
      waiter.status = current.status;
      if (isTerminal(current.status)) this.stop();
      return { value: current, done: false };
    }
    this.stop();
    return DONE;
  }

  async return(): Promise<IteratorResult<ChallengeRow>> {
    this.stop();
    return DONE;
  }

  private stop() {
    this.finished = true;
    this.waiter?.stop();
  }
}

builder.queryField("challenge", (t) =>
  t.field({
    type: Challenge,
    nullable: true,
    description: "A challenge's current state, for its requester (the watch token can only watch).",
    args: {
      id: t.arg.id({ required: true, description: "The challenge's id." }),
      watchToken: t.arg.string({ required: true, description: "The watch token handed out with the code (by `startLoginChallenge`, say)." }),
    },
    resolve: async (_root, args, ctx) => (await watchableChallenge(ctx, String(args.id), args.watchToken)) as never,
  }),
);

builder.subscriptionField("challengeUpdated", (t) =>
  t.field({
    type: Challenge,
    description: "The current state at once, then every transition; completes at a terminal state.",
    args: {
      id: t.arg.id({ required: true, description: "The challenge's id." }),
      watchToken: t.arg.string({ required: true, description: "The watch token handed out with the code (by `startLoginChallenge`, say)." }),
    },
    subscribe: (_root, args, ctx) => new ChallengeWatch(ctx, String(args.id), args.watchToken),
    resolve: (challenge) => challenge as never,
  }),
);
