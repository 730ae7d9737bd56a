// A wait with a bound, for checks that must not hang on a server that accepts a
// connection and never answers: /readyz's pings, and the doctor's reach checks.

/** `promise`, or a rejection naming `what` once `ms` have passed without it settling. */
export function answeredWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
