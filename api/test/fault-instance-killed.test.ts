// An API instance is killed (SIGKILL) in the middle of phones' approvals.
//
// Two API processes share a fresh PostgreSQL database and a private
// redis-server. 260 browsers (each its own address, through the trusted proxy)
// show sign-in codes, alternately on A and B, and wait on them over graphql-ws
// (20 to a socket), their client reconnecting to the other instance when its
// socket drops, as behind a load balancer. Staff phones scan 20 codes through A
// and leave them; then they approve 200 through A, two at a time per phone, and
// A is killed once a third of those approvals have been answered: some are in
// flight, the rest find A gone. A phone whose request got no answer retries
// through B, as the app does.
//
// Every approval either completed (the code reads APPROVED on B) or is cleanly
// retryable: the retry through B approves it, or answers a typed error that
// says its state (CONFLICT "already approved"); B never answers 5xx. Every
// waiter, those that were on A included, ends in its code's final state; past
// the expiry nothing reads PENDING or SCANNED, on B or in the rows (expiry is
// settled when a challenge is read or its waiter's timer fires, there is no
// sweep that does it); another MSP's rows are unchanged. Needs DATABASE_URL
// (a database is made on its server and dropped) and redis-server; skipped
// otherwise.
import { AuthenticatorError, type Authenticator } from "@latchkey/mobile";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiProcess } from "./api-process.ts";
import type { MspSeed } from "./seed.ts";
import {
  DATABASE_URL, FreshDatabase, PrivateRedis, Tally, watchChallenge, chunks, faultTestsEnabled, inBatches, progressMarks, readChallenges, recordHttp, samePhoneOn,
  seedBystanders, seedVia, sharedEnv, showCodes, sleep, staffPhone, startInstances, tenantRowsFingerprint, until, webSocketWithHeaders,
  whyDisabled, type Started,
} from "./fault-world.ts";

if (!faultTestsEnabled) console.log(`fault-instance-killed: skipped (${whyDisabled})`);

const PHONES = 10;
const PER_SOCKET = 20;
/** Shown first, expire first: nobody acts on them. */
const LEFT = 40;
/** Scanned through A before the approvals, never decided. */
const SCANNED_ONLY = 20;
/** Approved through A, shown last so they have the most time left. */
const APPROVALS = 200;
const CODES = LEFT + SCANNED_ONLY + APPROVALS;
const TTL_SECONDS = 30;

type Fate = "expire" | "scan" | "approve";
const EXPECTED: Record<Fate, string> = { expire: "EXPIRED", scan: "EXPIRED", approve: "APPROVED" };

function fateOf(index: number): Fate {
  if (index < LEFT) return "expire";
  if (index < LEFT + SCANNED_ONLY) return "scan";
  return "approve";
}

type Waiter = {
  index: number;
  fate: Fate;
  home: ApiProcess;
  started: Started;
  statuses: string[];
  completed: boolean;
  failure: unknown;
};

describe.skipIf(!faultTestsEnabled)("an instance killed in the middle of approvals", () => {
  let db: FreshDatabase;
  let redis: PrivateRedis;
  let a: ApiProcess;
  let b: ApiProcess;
  let msp: MspSeed;
  const phones: Map<ApiProcess, Authenticator>[] = [];
  let bystanders: string[] = [];
  let bystanderPrint: Awaited<ReturnType<typeof tenantRowsFingerprint>>;
  const sockets: Client[] = [];
  let http: ReturnType<typeof recordHttp>;

  beforeAll(async () => {
    const setupStart = Date.now();
    [db, redis] = await Promise.all([FreshDatabase.create(DATABASE_URL!, "fault_kill"), PrivateRedis.start()]);
    const instances = await startInstances(await sharedEnv(db.url, redis.url, { CHALLENGE_TTL_SECONDS: String(TTL_SECONDS) }));
    a = instances[0]!;
    b = instances[1]!;
    let other: MspSeed;
    [msp, other] = await Promise.all([seedVia(a).msp(), seedVia(b).msp()]);
    const staff = await inBatches(Array.from({ length: PHONES }, (_, i) => i), 4, () => msp.technician());
    const enrolling = inBatches(staff, 5, async (user, i) => {
      const phone = await staffPhone([a, b], i % 2 ? b : a, msp, user, `Phone ${i}`);
      phones[i] = new Map([[a, await samePhoneOn(phone, a)], [b, await samePhoneOn(phone, b)]]);
    });
    const seedingOther = seedBystanders([a, b], b, other).then((ids) => void (bystanders = ids));
    await Promise.all([enrolling, seedingOther]);
    bystanderPrint = await tenantRowsFingerprint(db, bystanders);
    console.log(`fault-instance-killed: setup took ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
    http = recordHttp([a, b]);
  }, 240_000);

  afterAll(async () => {
    http?.restore();
    await Promise.all(sockets.map((socket) => Promise.resolve(socket.dispose()).catch(() => undefined)));
    await Promise.all([a?.stop(2_000), b?.stop(2_000)]);
    await redis?.stop();
    await db?.drop();
  }, 60_000);

  it("leaves every approval completed or cleanly retryable on B, and nothing open past its expiry", async () => {
    const { marks, mark } = progressMarks("fault-instance-killed");

    // 1. Browsers show codes, alternately on A and B.
    const waiters: Waiter[] = (await showCodes(a, b, msp.slug, CODES, "10.3")).map(({ index, home, started }) => ({
      index,
      fate: fateOf(index),
      home,
      started,
      statuses: [],
      completed: false,
      failure: null,
    }));

    // 2. They wait over graphql-ws; a socket that drops reconnects to the other instance and subscribes again.
    const reconnections = new Tally();
    const groups = [...chunks(waiters.filter((w) => w.home === a), PER_SOCKET), ...chunks(waiters.filter((w) => w.home === b), PER_SOCKET)];
    for (const [socketIndex, group] of groups.entries()) {
      const urls = [group[0]!.home, group[0]!.home === a ? b : a].map((instance) => instance.graphqlUrl.replace("http", "ws"));
      let attempt = 0;
      let connections = 0;
      const client = createClient({
        url: () => urls[attempt++ % urls.length]!,
        webSocketImpl: webSocketWithHeaders({ "x-forwarded-for": `10.4.${socketIndex >> 8}.${socketIndex & 255}` }),
        retryAttempts: 10,
        retryWait: async () => void (await sleep(200)),
        shouldRetry: () => true,
        lazy: true,
        on: {
          connected: () => {
            connections += 1;
            if (connections > 1) reconnections.add(group[0]!.home === a ? "from-A-to-B" : "from-B");
          },
        },
      });
      sockets.push(client);
      for (const waiter of group) watchChallenge(client, waiter);
    }
    await until(() => waiters.every((w) => w.statuses[0] === "PENDING"), "every waiter's first PENDING", 60_000, 200);
    mark(`${CODES} codes shown and watched`);

    // 3. Phones scan some codes through A and leave them.
    await inBatches(
      waiters.filter((w) => w.fate === "scan"),
      PHONES,
      async (waiter) => {
        const scan = await phones[waiter.index % PHONES]!.get(a)!.scan(waiter.started.qrPayload);
        expect(scan.challenge.status).toBe("SCANNED");
      },
    );

    // 4. They approve through A; A is killed once a third of the approvals have been answered.
    const outcomes = new Tally();
    const unexpected: unknown[] = [];
    const approving = waiters.filter((w) => w.fate === "approve");
    const killAfter = Math.ceil(APPROVALS / 3);
    let answeredOnA = 0;
    let killedAt: number | null = null;
    const answeredBy = new Map<Waiter, "A" | "B">();
    const lanes = Array.from({ length: PHONES }, (_, lane) => approving.filter((_, i) => i % PHONES === lane));
    await Promise.all(
      lanes.map((list, lane) =>
        inBatches(list, 2, async (waiter) => {
          const phone = phones[lane]!;
          try {
            const { challenge } = await phone.get(a)!.approve(waiter.started.qrPayload);
            expect(challenge.status).toBe("APPROVED");
            outcomes.add("approved-on-A");
            answeredBy.set(waiter, "A");
            answeredOnA += 1;
            if (answeredOnA === killAfter && killedAt === null) {
              a.signal("SIGKILL");
              killedAt = Date.now();
              mark(`A killed after ${answeredOnA} approvals were answered`);
            }
            return;
          } catch (error) {
            if (!(error instanceof AuthenticatorError) || error.code !== "NETWORK_ERROR") {
              unexpected.push({ index: waiter.index, through: "A", error: String(error), code: (error as { code?: string }).code });
              return;
            }
            // No answer from A: cut off in flight, or A already gone.
            outcomes.add(/ECONNREFUSED/.test(error.message) ? "A-gone-refused" : "A-cut-off-in-flight");
          }
          // The phone tries again, and the load balancer sends it to B.
          try {
            const { challenge } = await phone.get(b)!.approve(waiter.started.qrPayload);
            expect(challenge.status).toBe("APPROVED");
            outcomes.add("retry-approved-on-B");
            answeredBy.set(waiter, "B");
          } catch (error) {
            // A typed answer that says the state: the approval had landed on A before it died.
            if (error instanceof AuthenticatorError && error.code === "CONFLICT" && /already approved/.test(error.message)) {
              outcomes.add("retry-told-already-approved");
              answeredBy.set(waiter, "B");
            } else {
              unexpected.push({ index: waiter.index, through: "B", error: String(error), code: (error as { code?: string }).code });
            }
          }
        }),
      ),
    );
    mark("every approval answered");
    expect(killedAt, "A was killed while approvals were still coming").not.toBeNull();
    expect(await a.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(unexpected).toEqual([]);
    expect(answeredBy.size).toBe(APPROVALS);
    expect(outcomes.get("approved-on-A")).toBeGreaterThanOrEqual(killAfter);
    // Two approvals per phone were under way when A died: some were cut off in flight.
    expect(outcomes.get("A-cut-off-in-flight")).toBeGreaterThan(0);

    // Every approved code reads APPROVED on B at once, whichever instance approved it.
    const approvedReads = await readChallenges(b, approving.map((w) => ({ id: w.started.challenge.id, watchToken: w.started.watchToken })));
    expect(approvedReads.filter((read) => read?.status !== "APPROVED")).toEqual([]);

    // 5. Past every expiry, every waiter has ended in its code's final state, those that were on A through B.
    const lastExpiry = Math.max(...waiters.map((w) => Date.parse(w.started.challenge.expiresAt)));
    await until(() => waiters.every((w) => w.completed), "every subscription to end", Math.max(0, lastExpiry - Date.now()) + 60_000, 250).catch((error: unknown) => {
      const open = waiters.filter((w) => !w.completed);
      throw new Error(`${String(error)}: ${open.length} still open, e.g. ${JSON.stringify(open.slice(0, 3).map((w) => ({ fate: w.fate, home: w.home.name, statuses: w.statuses })))}`);
    });
    mark("every subscription ended");
    const wrong = waiters.filter((w) => w.failure || w.statuses.at(-1) !== EXPECTED[w.fate]);
    expect(wrong.map((w) => ({ index: w.index, fate: w.fate, home: w.home.name, statuses: w.statuses, failure: String(w.failure ?? "") }))).toEqual([]);
    const viaSubscription = new Tally();
    for (const waiter of waiters) viaSubscription.add(`${waiter.home.name}:${waiter.statuses.at(-1)}`);

    // What a reader sees on B, and what the rows say: nothing open past its expiry.
    await sleep(Math.max(0, lastExpiry + 1_000 - Date.now()));
    const reads = await readChallenges(b, waiters.map((w) => ({ id: w.started.challenge.id, watchToken: w.started.watchToken })));
    const readWrong = waiters.filter((w, i) => reads[i]?.status !== EXPECTED[w.fate]);
    expect(readWrong.map((w) => ({ index: w.index, fate: w.fate, read: reads[waiters.indexOf(w)]?.status }))).toEqual([]);
    const rows = await db.query<{ id: string; status: string; expiresAt: Date }>(`SELECT id, status, "expiresAt" FROM "Challenge" WHERE id = ANY($1::uuid[])`, [waiters.map((w) => w.started.challenge.id)]);
    expect(rows).toHaveLength(CODES);
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(waiters.filter((w) => byId.get(w.started.challenge.id)!.status !== EXPECTED[w.fate]).map((w) => ({ fate: w.fate, row: byId.get(w.started.challenge.id)!.status }))).toEqual([]);
    const openPastExpiry = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Challenge" WHERE status IN ('PENDING', 'SCANNED') AND "expiresAt" < now() AND "tenantId" = $1`, [msp.id]);
    expect(openPastExpiry[0]!.n).toBe(0);

    // B never answered with a server error; another MSP's rows are untouched.
    expect(http.serverErrors("b"), String(http.tally)).toBe(0);
    const bystanderAfter = await tenantRowsFingerprint(db, bystanders);
    expect(bystanderAfter).toEqual(bystanderPrint);
    expect(b.alive).toBe(true);

    const fates = new Tally();
    for (const waiter of waiters) fates.add(waiter.fate);
    console.log(
      [
        "fault-instance-killed:",
        `  test: ${marks.join(", ")}`,
        `  codes ${CODES} (${waiters.filter((w) => w.home === a).length} waiting on A, ${waiters.filter((w) => w.home === b).length} on B, ${sockets.length} WebSockets); fates: ${fates}`,
        `  faults injected: 1 (SIGKILL of A after ${killAfter} of ${APPROVALS} approvals were answered)`,
        `  approvals: ${outcomes}`,
        `  unexpected answers: ${unexpected.length}; HTTP answers received: ${http.tally}`,
        `  WebSocket reconnections: ${reconnections}; final states via subscription: ${viaSubscription}`,
        `  rows checked: ${rows.length} challenges (read ${reads.length} on B), ${openPastExpiry[0]!.n} of the MSP's rows open past expiry, bystander rows ${bystanderAfter.rows} unchanged (${JSON.stringify(bystanderAfter.perTable)})`,
      ].join("\n"),
    );
  }, 240_000);
});
