// Redis goes away for 30 s while 1,000 requesters wait on two API instances.
//
// Two API processes share a fresh PostgreSQL database and a private
// redis-server. 1,000 browsers (each its own address, through the trusted
// proxy) show sign-in codes, half on each instance, and wait on them over
// graphql-ws, 20 subscriptions to a WebSocket. Then Redis fails for 30 s:
// first it hangs (SIGSTOP: connections stay open, nothing answers) until the
// checks below have their answers (10 to 25 s), then it is killed (SIGKILL)
// for the rest, then a new redis-server starts on the same port, empty.
// Meanwhile staff phones approve 63 codes and deny 63 through the instance the
// browser is not waiting on, scan 31 and leave them, and browsers withdraw 63
// through the other instance; the other 780 are left to expire.
//
// While Redis is away, every rate limit counts per instance in memory: a burst
// of sign-in code starts from one address is cut at its budget (30 pass, the
// 31st is RATE_LIMITED), an account is locked after its 10 failures from
// unknown clients (ACCOUNT_LOCKED, even with the right password), and normal
// password sign-ins still succeed on both instances, in both phases.
// Afterwards every waiter ends in the state its code was taken to (APPROVED,
// DENIED, EXPIRED; a withdrawn code is EXPIRED at its withdrawal), through its
// subscription and on a re-read from the other instance, and the database says
// the same; another MSP's rows are unchanged. Needs DATABASE_URL (a database
// is made on its server and dropped) and redis-server; skipped otherwise.
import type { Authenticator } from "@latchkey/mobile";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiProcess } from "./api-process.ts";
import { passwordLogIn } from "./password-login.ts";
import { PASSWORD, type MspSeed } from "./seed.ts";
import {
  CANCEL, DATABASE_URL, FreshDatabase, PrivateRedis, Tally, watchChallenge, call, chunks, faultTestsEnabled, gql, inBatches, progressMarks, readChallenges, recordHttp,
  samePhoneOn, seedBystanders, seedVia, sharedEnv, showCodes, sleep, staffPhone, startInstances, startPortalLogin, tenantRowsFingerprint, until, viaInstance,
  webSocketWithHeaders, whyDisabled, type Started,
} from "./fault-world.ts";

if (!faultTestsEnabled) console.log(`fault-redis-outage: skipped (${whyDisabled})`);

const WAITERS = 1_000;
const PER_SOCKET = 20;
const PHONES = 12;
/** Redis is away this long: hung at first, until the checks below have their answers (10 to 25 s), then dead. */
const OUTAGE_MS = 30_000;
const HUNG_MIN_MS = 10_000;
const HUNG_MAX_MS = 25_000;
/** Long enough for every action to land before its code expires, short enough that the rest expire soon after Redis is back. */
const TTL_SECONDS = 45;

type Fate = "approve" | "deny" | "cancel" | "scan" | "expire";
const EXPECTED: Record<Fate, string> = { approve: "APPROVED", deny: "DENIED", cancel: "EXPIRED", scan: "EXPIRED", expire: "EXPIRED" };

/**
 * Codes are shown in index order, alternating between the instances: first
 * those left to expire (they expire first), then those a phone only scans, then
 * those approved, denied and withdrawn, interleaved, which so have the most
 * time left when the phones act on them, in the same order.
 */
const LEFT = 780;
const SCANNED_ONLY = 31;
function fateOf(index: number): Fate {
  if (index < LEFT) return "expire";
  if (index < LEFT + SCANNED_ONLY) return "scan";
  return (["approve", "deny", "cancel"] as const)[(index - LEFT - SCANNED_ONLY) % 3]!;
}

type Waiter = {
  index: number;
  fate: Fate;
  /** Where the browser waits; everything done to its code goes through the other instance. */
  home: ApiProcess;
  other: ApiProcess;
  ip: string;
  started: Started;
  statuses: string[];
  completed: boolean;
  failure: unknown;
  actedAt: number | null;
};

describe.skipIf(!faultTestsEnabled)("a 30 s Redis outage under 1,000 waiting requesters on two instances", () => {
  let db: FreshDatabase;
  let redis: PrivateRedis;
  let a: ApiProcess;
  let b: ApiProcess;
  let msp: MspSeed;
  const phones: { user: { id: string; email: string }; on: Map<ApiProcess, Authenticator> }[] = [];
  let lockable: { email: string };
  let bystanders: string[] = [];
  let bystanderPrint: Awaited<ReturnType<typeof tenantRowsFingerprint>>;
  const sockets: Client[] = [];
  const setupMarks: string[] = [];
  /** Every HTTP answer this file receives after setup, by instance and status. */
  let http: ReturnType<typeof recordHttp>;

  beforeAll(async () => {
    const setupStart = Date.now();
    const stage = (what: string) => setupMarks.push(`${what} ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
    [db, redis] = await Promise.all([FreshDatabase.create(DATABASE_URL!, "fault_redis"), PrivateRedis.start()]);
    const instances = await startInstances(await sharedEnv(db.url, redis.url, { CHALLENGE_TTL_SECONDS: String(TTL_SECONDS) }));
    a = instances[0]!;
    b = instances[1]!;
    stage("instances ready");

    // The MSP whose staff approve (its owner and technicians sign in with passwords), and another MSP beside it.
    let other: MspSeed;
    [msp, other] = await Promise.all([seedVia(a).msp(), seedVia(b).msp()]);
    const staff = await inBatches(Array.from({ length: PHONES + 1 }, (_, i) => i), 4, () => msp.technician());
    lockable = staff.pop()!;
    stage("staff created");
    const enrolling = inBatches(staff, 5, async (user, i) => {
      const phone = await staffPhone([a, b], i % 2 ? b : a, msp, user, `Phone ${i}`);
      phones[i] = { user, on: new Map([[a, await samePhoneOn(phone, a)], [b, await samePhoneOn(phone, b)]]) };
    });
    // The other MSP, its customer, their rows: none of it may change.
    const seedingOther = seedBystanders([a, b], b, other).then((ids) => void (bystanders = ids));
    await Promise.all([enrolling, seedingOther]);
    bystanderPrint = await tenantRowsFingerprint(db, bystanders);
    stage("phones enrolled, bystanders seeded");
    console.log(`fault-redis-outage: setup ${setupMarks.join(", ")}`);

    http = recordHttp([a, b]);
  }, 240_000);

  afterAll(async () => {
    http?.restore();
    await Promise.all(sockets.map((socket) => Promise.resolve(socket.dispose()).catch(() => undefined)));
    await Promise.all([a?.stop(2_000), b?.stop(2_000)]);
    await redis?.stop();
    await db?.drop();
  }, 60_000);

  it("keeps limits per instance and sign-in open while Redis is away, and every waiter ends right once it is back", async () => {
    const refusals = new Tally();
    const actions = new Tally();
    const { marks, mark } = progressMarks("fault-redis-outage");

    // 1. A thousand browsers show codes, half on each instance.
    const waiters: Waiter[] = (await showCodes(a, b, msp.slug, WAITERS, "10.1")).map((shown) => ({
      ...shown,
      fate: fateOf(shown.index),
      statuses: [],
      completed: false,
      failure: null,
      actedAt: null,
    }));
    mark("1,000 codes shown");

    // 2. They wait over graphql-ws, 20 to a socket, each socket its own address.
    const groups = [...chunks(waiters.filter((w) => w.home === a), PER_SOCKET), ...chunks(waiters.filter((w) => w.home === b), PER_SOCKET)];
    for (const [socketIndex, group] of groups.entries()) {
      const home = group[0]!.home;
      const client = createClient({
        url: home.graphqlUrl.replace("http", "ws"),
        webSocketImpl: webSocketWithHeaders({ "x-forwarded-for": `10.2.${socketIndex >> 8}.${socketIndex & 255}` }),
        retryAttempts: 0,
        lazy: true,
      });
      sockets.push(client);
      for (const waiter of group) watchChallenge(client, waiter);
    }
    await until(() => waiters.every((w) => w.statuses[0] === "PENDING"), "every waiter's first PENDING", 60_000, 200);
    // Redis itself counts a subscriber for every waiter: pub/sub is in use when it fails.
    const channels = waiters.map((w) => `challenge:updated:${w.started.challenge.id}`);
    await until(async () => (await redis.subscribers(channels)) === WAITERS, "a Redis subscriber per waiter", 60_000, 250);
    expect(waiters.filter((w) => w.failure)).toEqual([]);
    mark("all waiting and subscribed in Redis");

    // 3. Redis hangs.
    const faults: string[] = [];
    redis.freeze();
    faults.push("SIGSTOP");
    const hungAt = Date.now();
    let killedAt = Number.POSITIVE_INFINITY;

    // Phones and browsers act through the instance the browser is not waiting on.
    const actionErrors: { fate: Fate; index: number; error: string }[] = [];
    const recorded = (waiter: Waiter, work: () => Promise<void>) =>
      work().catch((error: unknown) => {
        actionErrors.push({ fate: waiter.fate, index: waiter.index, error: `${(error as { code?: string }).code ?? ""} ${String(error)}` });
      });
    const acting = (async () => {
      const byPhone = new Map<number, Waiter[]>();
      for (const [i, waiter] of waiters.filter((w) => w.fate === "approve" || w.fate === "deny" || w.fate === "scan").entries()) {
        const lane = i % PHONES;
        byPhone.set(lane, [...(byPhone.get(lane) ?? []), waiter]);
      }
      const phoneWork = [...byPhone.entries()].map(([lane, list]) =>
        inBatches(list, 2, (waiter) => recorded(waiter, async () => {
          const phone = phones[lane]!.on.get(waiter.other)!;
          if (waiter.fate === "scan") {
            const scan = await phone.scan(waiter.started.qrPayload);
            expect(scan.challenge.status).toBe("SCANNED");
          } else {
            const { challenge } = await (waiter.fate === "approve" ? phone.approve(waiter.started.qrPayload) : phone.deny(waiter.started.qrPayload));
            expect(challenge.status).toBe(EXPECTED[waiter.fate]);
          }
          waiter.actedAt = Date.now();
          actions.add(`${waiter.fate}-${waiter.actedAt < killedAt ? "while-hung" : "while-dead"}`);
        })),
      );
      const browserWork = inBatches(
        waiters.filter((w) => w.fate === "cancel"),
        8,
        (waiter) => recorded(waiter, async () => {
          const { body } = await call(waiter.other, CANCEL, { input: { id: waiter.started.challenge.id, redeemSecret: waiter.started.redeemSecret } }, { ip: waiter.ip });
          expect(body.data?.cancelChallenge).toMatchObject({ __typename: "DecideChallengePayload", challenge: { status: "EXPIRED" } });
          waiter.actedAt = Date.now();
          actions.add(`cancel-${waiter.actedAt < killedAt ? "while-hung" : "while-dead"}`);
        }),
      );
      await Promise.all([...phoneWork, browserWork]);
    })();
    // Failures surface at the await below, not as unhandled rejections meanwhile.
    acting.catch(() => undefined);

    // While hung: a burst on A is cut at its budget; password sign-ins go through on both.
    const hungChecking = Promise.all([
      burstOfStarts(a, msp.slug, "10.9.0.1", refusals),
      signIn(b, msp.slug, msp.adminEmail, PASSWORD, "10.7.0.1"),
      signIn(a, msp.slug, phones[0]!.user.email, PASSWORD, "10.7.0.2"),
    ]);
    hungChecking.catch(() => undefined);
    // They must be answered while Redis still hangs, not once it has gone away.
    const hungChecks = await Promise.race([hungChecking, sleep(HUNG_MAX_MS).then(() => null)]);
    if (!hungChecks) {
      throw new Error(`sign-in and its limits did not answer within ${HUNG_MAX_MS / 1000} s of Redis hanging:\n--- A:\n${a.output().slice(-3000)}\n--- B:\n${b.output().slice(-3000)}`);
    }
    mark(`checks answered while hung (sign-ins took ${hungChecks[1].ms} and ${hungChecks[2].ms} ms)`);
    expect(hungChecks[0]).toEqual({ started: 30, refused: 1 });
    expect(hungChecks[1].outcome).toBe("AuthPayload");
    expect(hungChecks[2].outcome).toBe("AuthPayload");
    await sleep(Math.max(0, hungAt + HUNG_MIN_MS - Date.now()));

    // 4. Redis dies; nothing answers on its port.
    await redis.kill();
    faults.push("SIGKILL");
    killedAt = Date.now();
    mark("Redis killed");
    // An account is locked after its failures from unknown clients, on the instance that counted them, right password or not.
    const attempts: string[] = [];
    for (let i = 1; i <= 10; i += 1) attempts.push((await passwordLogIn(viaInstance(b), { tenant: msp.slug, login: lockable.email, password: "wrong-password-123456" }, { headers: { "x-forwarded-for": `10.8.0.${i}` } })).outcome);
    expect(attempts).toEqual(Array(10).fill("INCORRECT"));
    const locked = await passwordLogIn(viaInstance(b), { tenant: msp.slug, login: lockable.email, password: PASSWORD }, { headers: { "x-forwarded-for": "10.8.0.11" } });
    expect(locked.outcome).toBe("REFUSED_AT_START");
    expect(locked.start).toMatchObject({ code: "ACCOUNT_LOCKED" });
    refusals.add(String((locked.start as { code?: string }).code));
    const deadChecks = await Promise.all([
      burstOfStarts(b, msp.slug, "10.9.0.2", refusals),
      signIn(a, msp.slug, msp.adminEmail, PASSWORD, "10.7.0.3"),
      signIn(b, msp.slug, phones[1]!.user.email, PASSWORD, "10.7.0.4"),
    ]);
    expect(deadChecks[0]).toEqual({ started: 30, refused: 1 });
    expect(deadChecks[1].outcome).toBe("AuthPayload");
    expect(deadChecks[2].outcome).toBe("AuthPayload");

    // Every approval, denial, scan and withdrawal was answered while Redis was away.
    await acting;
    mark("every action answered");
    if (actionErrors.length) {
      const serverErrors = [a, b].flatMap((instance) => instance.logLines().filter((line) => Number(line.level) >= 50).map((line) => `${instance.name}: ${String(line.msg)} ${String(line.error ?? "").slice(0, 300)}`));
      throw new Error(`${actionErrors.length} actions failed while Redis was away: ${JSON.stringify(actionErrors.slice(0, 5))}\nserver errors (${serverErrors.length}):\n${serverErrors.slice(0, 10).join("\n")}`);
    }
    const actionsDone = Date.now();
    await sleep(Math.max(0, hungAt + OUTAGE_MS - Date.now()));
    expect(actionsDone).toBeLessThan(Date.now());
    const settledWhileAway = waiters.filter((w) => w.completed).length;

    // 5. Redis is back, empty, on the same port.
    await redis.startServer();
    const backAt = Date.now();
    mark("Redis back");

    // Every waiter ends where its code was taken: through its subscription, then on a re-read from the other instance.
    const lastExpiry = Math.max(...waiters.map((w) => Date.parse(w.started.challenge.expiresAt)));
    await until(() => waiters.every((w) => w.completed), "every subscription to end", Math.max(0, lastExpiry - Date.now()) + 60_000, 250).catch((error: unknown) => {
      const open = waiters.filter((w) => !w.completed);
      throw new Error(`${String(error)}: ${open.length} still open, e.g. ${JSON.stringify(open.slice(0, 3).map((w) => ({ fate: w.fate, statuses: w.statuses })))}`);
    });
    const allEnded = Date.now();
    mark("every subscription ended");
    const viaSubscription = new Tally();
    const wrong: unknown[] = [];
    for (const waiter of waiters) {
      const last = waiter.statuses.at(-1);
      viaSubscription.add(last ?? "none");
      if (waiter.failure || last !== EXPECTED[waiter.fate]) wrong.push({ index: waiter.index, fate: waiter.fate, statuses: waiter.statuses, failure: String(waiter.failure ?? "") });
    }
    expect(wrong).toEqual([]);
    // Re-read, each code from the instance its browser was not waiting on.
    const reread = (
      await Promise.all(
        [a, b].map(async (instance) => {
          const list = waiters.filter((w) => w.other === instance);
          const read = await readChallenges(instance, list.map((w) => ({ id: w.started.challenge.id, watchToken: w.started.watchToken })));
          return list.map((w, i) => (read[i]?.status === EXPECTED[w.fate] ? null : { index: w.index, fate: w.fate, status: read[i]?.status }));
        }),
      )
    ).flat();
    expect(reread).toHaveLength(WAITERS);
    expect(reread.filter(Boolean)).toEqual([]);
    mark("re-read");

    // The rows say the same; a withdrawn code expired at its withdrawal.
    const rows = await db.query<{ id: string; status: string; expiresAt: Date }>(`SELECT id, status, "expiresAt" FROM "Challenge" WHERE id = ANY($1::uuid[])`, [waiters.map((w) => w.started.challenge.id)]);
    expect(rows).toHaveLength(WAITERS);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const rowsWrong = waiters.filter((w) => byId.get(w.started.challenge.id)?.status !== EXPECTED[w.fate]);
    expect(rowsWrong.map((w) => ({ fate: w.fate, row: byId.get(w.started.challenge.id)?.status }))).toEqual([]);
    for (const waiter of waiters.filter((w) => w.fate === "cancel")) {
      expect(byId.get(waiter.started.challenge.id)!.expiresAt.getTime()).toBeLessThanOrEqual(waiter.actedAt!);
    }
    const openPastExpiry = await db.query(`SELECT count(*)::int AS n FROM "Challenge" WHERE status IN ('PENDING', 'SCANNED') AND "expiresAt" < now() AND "tenantId" = $1`, [msp.id]);

    // Another MSP's rows are untouched.
    const bystanderAfter = await tenantRowsFingerprint(db, bystanders);
    expect(bystanderAfter).toEqual(bystanderPrint);

    // Nothing answered with a server error at any point.
    expect(http.serverErrors("a") + http.serverErrors("b"), String(http.tally)).toBe(0);
    // Both instances stayed up and are ready again.
    for (const instance of [a, b]) expect(instance.alive, instance.output().slice(-4000)).toBe(true);
    await until(async () => (await Promise.all([a, b].map((i) => http.realFetch(`${i.url}/readyz`).then((r) => r.status)))).every((s) => s === 200), "both instances ready", 30_000);

    const fates = new Tally();
    for (const waiter of waiters) fates.add(waiter.fate);
    console.log(
      [
        "fault-redis-outage:",
        `  test: ${marks.join(", ")}`,
        `  waiters ${WAITERS} on ${sockets.length} WebSockets (${waiters.filter((w) => w.home === a).length} on A, ${waiters.filter((w) => w.home === b).length} on B); fates: ${fates}`,
        `  faults injected: ${faults.length} (${faults.join(", ")}), then a new redis-server; away ${Math.round((backAt - hungAt) / 1000)} s (hung ${Math.round((killedAt - hungAt) / 1000)} s, dead ${Math.round((backAt - killedAt) / 1000)} s)`,
        `  actions while away: ${actions}`,
        `  HTTP answers received (after setup): ${http.tally}`,
        `  refusals by code: ${refusals}`,
        `  sign-ins while away: ${[hungChecks[1], hungChecks[2], deadChecks[1], deadChecks[2]].filter((s) => s.outcome === "AuthPayload").length} succeeded; lock attempts: ${attempts.length} failures then ${(locked.start as { code?: string }).code}`,
        `  waiters settled while Redis was away: ${settledWhileAway}; all ${WAITERS} ended ${Math.round((allEnded - backAt) / 1000)} s after Redis was back; final states via subscription: ${viaSubscription}`,
        `  rows checked: ${rows.length} challenges (re-read ${reread.length} from the other instance), ${openPastExpiry[0]!.n} of the MSP's rows still open past expiry (settled on read), bystander rows ${bystanderAfter.rows} unchanged (${JSON.stringify(bystanderAfter.perTable)})`,
      ].join("\n"),
    );
  }, 300_000);
});

/** 31 code starts at once from one new address: its budget is 30 a minute, whichever counter holds it. */
async function burstOfStarts(instance: ApiProcess, tenant: string, ip: string, refusals: Tally) {
  const answers = await Promise.all(Array.from({ length: 31 }, () => startPortalLogin(instance, tenant, ip).catch((error: unknown) => ({ errors: [{ message: String(error) }] }))));
  let started = 0;
  let refused = 0;
  for (const answer of answers) {
    const result = (answer as { data?: { startLoginChallenge: { __typename: string; code?: string } } }).data?.startLoginChallenge;
    if (result?.__typename === "StartLoginChallengePayload") started += 1;
    else if (result?.code) {
      refusals.add(result.code);
      if (result.code === "RATE_LIMITED") refused += 1;
    } else refusals.add(`untyped:${JSON.stringify(answer).slice(0, 200)}`);
  }
  return { started, refused };
}

async function signIn(instance: ApiProcess, tenant: string, login: string, password: string, ip: string) {
  const began = Date.now();
  const attempt = await passwordLogIn(viaInstance(instance), { tenant, login, password }, { headers: { "x-forwarded-for": ip } });
  if (attempt.outcome === "AuthPayload") {
    // The session works on its instance, its cost budget counted wherever it can be.
    const token = (attempt.finish as { token: string }).token;
    const { viewer } = await gql(instance, `{ viewer { user { id } } }`, {}, { token, ip });
    expect(viewer.user.id).toBeTruthy();
  }
  return { ...attempt, ms: Date.now() - began };
}
