// A session's end reaches everything it opened: requests after it are refused,
// on this instance and the others, however lookups race with it, and its open
// subscriptions end at its revocation and at its idle or absolute expiry.
// Expiry is driven by a clock the test moves, never by waiting.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { desktopSeed } from "./desktop-seed.ts";
import { Api, ManualClock, subscribe } from "./harness.ts";
import { PASSWORD, seed } from "./seed.ts";

const VIEWER = `{ viewer { user { id } } }`;
const FEED = `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`;
const MINUTE = 60_000;

describe("session expiry", () => {
  const clock = new ManualClock();
  let api: Api;
  beforeAll(async () => {
    api = await Api.start({ SESSION_IDLE_MINUTES: "30", SESSION_MAX_AGE_HOURS: "2" }, { clock });
  });
  afterAll(() => api?.stop());

  it("refuses a session after its idle timeout, and one used all along after its maximum age", async () => {
    const idle = await seed(api).msp();
    const busy = await seed(api).msp();
    expect((await api.gql(VIEWER, {}, { token: idle.token })).viewer).not.toBeNull();
    for (let step = 0; step < 4; step += 1) {
      clock.advance(25 * MINUTE);
      // Used every 25 minutes: its idle window slides, but not past its two hours.
      expect((await api.gql(VIEWER, {}, { token: busy.token })).viewer, `after ${(step + 1) * 25} min`).not.toBeNull();
    }
    expect((await api.gql(VIEWER, {}, { token: idle.token })).viewer).toBeNull();
    clock.advance(25 * MINUTE);
    expect((await api.gql(VIEWER, {}, { token: busy.token })).viewer).toBeNull();
  });

  it("ends a live feed when its session passes its idle expiry", async () => {
    const msp = await seed(api).msp();
    const watcher = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const feed = subscribe(api.ws(watcher), FEED, { id: msp.id });
    await feed.triggerUntilEvent(() => msp.customer());
    clock.advance(31 * MINUTE);
    await api.app.services.sessionDeadlines.sweep();
    await feed.waitForCompletion();
    // Nothing after the end reaches it.
    const seen = feed.events.length;
    const again = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const { createCustomer } = await api.gql(
      `mutation { createCustomer(input: { name: "after${Date.now().toString(36)}", displayName: "After" }) { __typename } }`,
      {},
      { token: again },
    );
    expect(createCustomer.__typename).toBe("CreateCustomerPayload");
    expect(feed.events.length).toBe(seen);
  });

  it("keeps a feed whose idle window another request slid, and ends it at the session's maximum age", async () => {
    const msp = await seed(api).msp();
    const watcher = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const feed = subscribe(api.ws(watcher), FEED, { id: msp.id });
    await feed.triggerUntilEvent(() => msp.customer());
    // Used at 20, 45, 70 and 95 minutes; each sweep finds the deadline it knew passed, re-reads, and keeps the feed.
    for (let step = 0; step < 4; step += 1) {
      clock.advance((step === 0 ? 20 : 10) * MINUTE);
      expect((await api.gql(VIEWER, {}, { token: watcher })).viewer).not.toBeNull();
      clock.advance(15 * MINUTE);
      await api.app.services.sessionDeadlines.sweep();
      expect(feed.completed, `after ${35 + step * 25} min`).toBe(false);
    }
    // 121 minutes in: past the two hours, though the idle window runs to 125.
    clock.advance(11 * MINUTE);
    await api.app.services.sessionDeadlines.sweep();
    await feed.waitForCompletion();
  });

  // Last in this block: it moves the clock a whole day.
  it("serves a workstation's socket, checked once at connect, until a day has passed", async () => {
    const msp = await seed(api).msp();
    const keys = await desktopSeed(api, msp, await msp.customer()).workstation();
    const socket = createClient({
      url: `${api.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${await keys.credential()}` },
    });
    const config = () =>
      new Promise<Record<string, any>>((resolve, reject) => {
        let result: Record<string, any> = {};
        socket.subscribe({ query: `{ desktopConfig { workstation { id } } }` }, { next: (value) => void (result = value), error: reject, complete: () => resolve(result) });
      });
    try {
      expect((await config()).data?.desktopConfig.workstation.id).toBe(keys.workstationId);
      // Long after the credential itself expired, the socket still serves.
      clock.advance(23 * 60 * MINUTE);
      expect((await config()).data?.desktopConfig.workstation.id).toBe(keys.workstationId);
      clock.advance(61 * MINUTE);
      expect((await config()).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    } finally {
      await socket.dispose();
    }
  });
});

/**
 * Signs in afresh, keeps `lanes` request loops looking the token up on `askOn`,
 * revokes it on `revokedOn` while they run, and returns how many requests that
 * started after `askOn` had heard of the revocation were still accepted. Until
 * then each request first moves the clock past the memory's lifetime (and the
 * idle window's slide), so every lookup reads and writes the database: the race
 * is between such a lookup and the revocation. Afterwards the clock stands
 * still, so anything a late lookup put back in memory would be served from there.
 */
async function revokeDuringLookups(clock: ManualClock, revokedOn: Api, askOn: Api, lanes = 6) {
  const msp = await seed(revokedOn).msp();
  const victim = await seed(revokedOn).logIn(msp.slug, msp.adminEmail, PASSWORD);
  const { sessions } = await revokedOn.gql(`{ sessions { id current } }`, {}, { token: victim });
  const sessionId = sessions.find((s: { current: boolean }) => s.current).id as string;
  await askOn.gql(VIEWER, {}, { token: victim });

  const memory = askOn.app.services.sessionCache;
  // Heard of this revocation: the instance that revoked forgets before it answers; another
  // instance once its generation has moved since the revocation was sent. Not any generation
  // change before that: other sessions ending on a shared Redis move it too, while the victim's
  // session is still valid.
  let sentAt: number | null = null;
  let answered = false;
  const heard = () => answered && (revokedOn === askOn || memory.generation !== sentAt);
  let stop = false;
  let acceptedAfter = 0;
  const lane = async () => {
    while (!stop) {
      if (!heard()) clock.advance(61_000);
      const startedAfter = heard();
      const { viewer } = await askOn.gql(VIEWER, {}, { token: victim });
      if (viewer && startedAfter) acceptedAfter += 1;
    }
  };
  const running = Array.from({ length: lanes }, lane);
  await new Promise((resolve) => setTimeout(resolve, 20));
  sentAt = memory.generation;
  const revoke = await revokedOn.gql(
    `mutation($id: ID!) { revokeSession(id: $id) { __typename } }`,
    { id: sessionId },
    { token: msp.token },
  );
  expect(revoke.revokeSession.__typename).toBe("RevokeSessionPayload");
  answered = true;
  for (let waited = 0; !heard(); waited += 10) {
    if (waited > 5_000) throw new Error("the instance never heard of the revocation");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Keep asking well past the moment the last racing lookup could have finished.
  for (let i = 0; i < 10; i += 1) await askOn.gql(VIEWER, {}, { token: victim });
  stop = true;
  await Promise.all(running);
  return acceptedAfter;
}

// Sessions that outlive the clock's travel: only the revocation may end them.
const LONG_SESSIONS = { SESSION_IDLE_MINUTES: "600", SESSION_MAX_AGE_HOURS: "100000" };

// On the embedded database every statement runs in turn, so lookups cannot
// overlap a revocation's commit; on PostgreSQL they do.
const concurrent = Boolean(process.env.DATABASE_URL);

describe.runIf(concurrent)("revocation racing lookups", () => {
  const clock = new ManualClock();
  let api: Api;
  beforeAll(async () => {
    api = await Api.start(LONG_SESSIONS, { clock });
  });
  afterAll(() => api?.stop());

  it("never lets a revoked session back into this instance's memory", async () => {
    for (let round = 0; round < 8; round += 1) {
      expect(await revokeDuringLookups(clock, api, api), `round ${round}`).toBe(0);
    }
  });
});

describe.runIf(concurrent && process.env.REDIS_URL)("revocation racing lookups on another instance", () => {
  const clock = new ManualClock();
  let a: Api;
  let b: Api;
  beforeAll(async () => {
    // Two instances of one deployment: one database, one Redis, one key.
    const env = {
      ...LONG_SESSIONS,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      KEY_ENCRYPTION_KEY_ID: `race-${randomBytes(4).toString("hex")}`,
      DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
      RATE_LIMIT_NAMESPACE: `race-${randomBytes(6).toString("hex")}`,
    };
    [a, b] = await Promise.all([Api.start(env, { clock }), Api.start(env, { clock })]);
  });
  afterAll(() => Promise.all([a?.stop(), b?.stop()]));

  it("never lets a revoked session back into the other instance's memory", async () => {
    for (let round = 0; round < 8; round += 1) {
      expect(await revokeDuringLookups(clock, a, b), `round ${round}`).toBe(0);
    }
  });
});
