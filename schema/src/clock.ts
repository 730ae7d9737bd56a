// The time sessions and deadlines are measured by. The system clock in
// production; tests pass one they move by hand, so nothing waits on the wall
// clock to see a session expire.
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };
