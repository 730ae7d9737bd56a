// A subscription lives only as long as the access that opened it: when its
// session ends (log out, revocation, disabled user, password change, or its
// idle or absolute expiry), the viewer's access changes (delegation withdrawn,
// role changed) or its workstation is removed, the stream completes at once,
// on whichever instance holds it.
import { Repeater, type Plugin } from "graphql-yoga";
import type { Context } from "@latchkey/schema";

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** Resolves when the first event arrives on any of `streams`, and stops listening when `done` settles. */
function firstEvent(streams: AsyncIterable<unknown>[], done: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const iterators = streams.map((stream) => stream[Symbol.asyncIterator]());
    const stop = () => {
      for (const iterator of iterators) void iterator.return?.();
    };
    void done.then(stop);
    for (const iterator of iterators) {
      iterator.next().then(
        (result) => {
          if (!result.done) {
            stop();
            resolve();
          }
        },
        () => undefined,
      );
    }
  });
}

type Ending = { revocations: AsyncIterable<unknown>[]; deadline?: (end: () => void) => () => void };

function endingOf(ctx: Context): Ending | null {
  const viewer = ctx.viewer;
  if (viewer) {
    return {
      revocations: [ctx.pubsub.subscribe("session:ended", viewer.sessionId), ctx.pubsub.subscribe("user:accessChanged", viewer.userId)],
      deadline: (end) => ctx.sessionDeadlines.track(viewer, end),
    };
  }
  if (ctx.workstation) return { revocations: [ctx.pubsub.subscribe("workstation:removed", ctx.workstation.id)] };
  return null;
}

export function useSubscriptionRevocation(): Plugin<Context> {
  return {
    onSubscribe({ args }) {
      const ending = endingOf(args.contextValue as Context);
      if (!ending) return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          setResult(
            new Repeater(async (push, stop) => {
              const revoked = firstEvent(ending.revocations, stop);
              void revoked.then(() => stop());
              const untrack = ending.deadline?.(() => stop());
              const iterator = result[Symbol.asyncIterator]();
              void stop.then(() => {
                untrack?.();
                return iterator.return?.();
              });
              try {
                while (true) {
                  const next = await Promise.race([iterator.next(), stop.then(() => ({ done: true, value: undefined }))]);
                  if (next.done) break;
                  await push(next.value);
                }
              } finally {
                stop();
              }
            }) as never,
          );
        },
      };
    },
  };
}
