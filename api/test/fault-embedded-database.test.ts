// The embedded database (PGlite, the default without DATABASE_URL, kept in
// DATA_DIR) killed mid-write: an API process on a DATA_DIR takes a stream of
// writes, gets SIGKILL while some are in flight, and the API is started again
// on the same DATA_DIR. It must start (no corruption) and serve; every write
// that answered success before the kill must be there, none by halves (those
// in flight are there whole or not at all), and the other tenant's rows as
// they were.
//
// Only the victim is a process of its own (it has to be killable); seeding
// before it and the restart after it run in this test's process, which opens
// the same DATA_DIR the same way (buildApp, openDatabase) and lets the checks
// use that instance's own database connection: PGlite takes one user at a time.
// Runs whatever DATABASE_URL/REDIS_URL say: neither is given to the API.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ApiProcess } from "./api-process.ts";
import { checkWrites, otherTenantIds, prismaSql, runOp, seedWorld, tally, tenantHash, until, WRITES, type Answer, type FaultWorld } from "./fault-load.ts";
import { Api } from "./harness.ts";

/**
 * The embedded default whatever the environment says, with every key generated
 * under DATA_DIR, so the in-process instances and the process agree on them.
 */
const settings = (dataDir: string) => ({
  DATA_DIR: dataDir,
  DATABASE_URL: "",
  REDIS_URL: "",
  KEY_ENCRYPTION_KEY: "",
  KEY_ENCRYPTION_KEY_ID: "",
  DEVICE_COOKIE_KEY: "",
  EMAIL_CODE_KEY: "",
  LOGIN_STATE_KEY: "",
  OPAQUE_SERVER_SETUP: "",
  PASSWORD_KSF: "test",
  WEB_ORIGIN: "http://portal.test",
  SIGNUPS_PER_HOUR_PER_IP: "100000",
  PORTAL_DOCUMENTS: "any",
  // The writers start many challenges from one address.
  RATE_LIMIT_OVERRIDES: JSON.stringify({ challengeStartPerIp: { points: 1_000_000, durationSeconds: 60 } }),
});

describe("the embedded database killed mid-write", () => {
  let dataDir: string;
  const running: { stop(): Promise<void> }[] = [];

  afterAll(async () => {
    for (const instance of running) await instance.stop().catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("starts again on the same DATA_DIR with every acknowledged write whole and nothing half-written", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "latchkey-fault-embedded-"));
    const started = Date.now();
    const timings: Record<string, number> = {};
    const mark = (step: string) => void (timings[step] = Date.now() - started);

    // Two tenants, seeded by a first instance that stops cleanly; the other tenant's rows hashed.
    const first = await Api.start(settings(dataDir));
    running.push(first);
    mark("firstStarted");
    const world: FaultWorld = await seedWorld(`${first.url}/graphql`);
    const before = await tenantHash(prismaSql(first.db), otherTenantIds(world));
    await first.stop();
    mark("seeded");

    // A stream of writes from three clients to an API process, killed with SIGKILL while they are under way.
    const victim = await ApiProcess.start("embedded-victim", settings(dataDir));
    running.push(victim);
    mark("victimStarted");
    const answers: Answer[] = [];
    let writing = true;
    const inFlight = new Set<number>();
    let next = 0;
    const writer = async (offset: number) => {
      for (let i = offset; writing; i += 1) {
        const ticket = next++;
        inFlight.add(ticket);
        answers.push(await runOp(victim.graphqlUrl, world, WRITES[i % WRITES.length]!, 20_000));
        inFlight.delete(ticket);
      }
    };
    const writers = Promise.all([0, 1, 2].map(writer));
    let inFlightAtKill = 0;
    try {
      const succeeded = (op: string) => answers.filter((a) => a.op === op && a.outcome === "ok").length;
      await until("30 acknowledged writes, a few of each kind", () => answers.filter((a) => a.outcome === "ok").length >= 30 && WRITES.every((op) => succeeded(op) >= 3), 60_000, 20);
      // Mid-stream: at a moment when writes are waiting on their answers.
      await until("writes in flight", () => inFlight.size >= 2, 10_000, 1);
      inFlightAtKill = inFlight.size;
      victim.signal("SIGKILL");
      expect(await victim.exited).toEqual({ code: null, signal: "SIGKILL" });
    } finally {
      writing = false;
      await writers;
    }
    const acknowledged = answers.filter((a) => a.outcome === "ok");
    mark("killed");

    // It starts again on the same DATA_DIR, and serves reads and writes.
    const restarted = await Api.start(settings(dataDir));
    running.push(restarted);
    mark("restarted");
    expect(await fetch(`${restarted.url}/readyz`).then((response) => response.status)).toBe(200);
    const graphqlUrl = `${restarted.url}/graphql`;
    const afterRestart = [await runOp(graphqlUrl, world, "listUsers"), await runOp(graphqlUrl, world, "createUser"), await runOp(graphqlUrl, world, "listCustomers")];
    expect(afterRestart.map((a) => `${a.op} ${a.outcome} ${a.code ?? ""}`)).toEqual(["listUsers ok ", "createUser ok ", "listCustomers ok "]);

    // Checked by SQL on the database itself.
    const sql = prismaSql(restarted.db);
    const check = await checkWrites(sql, world, [...answers, ...afterRestart]);
    const after = await tenantHash(sql, otherTenantIds(world));
    await restarted.stop();
    mark("checked");
    const counts = tally(answers);
    console.log(
      "fault-embedded-database:",
      JSON.stringify(
        {
          requests: counts.requests,
          faultsInjected: 1,
          fault: "SIGKILL of the API process (PGlite in-process) mid-write, restart on the same DATA_DIR",
          writesInFlightAtKill: inFlightAtKill,
          acknowledgedBeforeKill: acknowledged.length,
          byStatus: counts.byStatus,
          refusalsByCode: counts.refusalsByCode,
          byOutcome: counts.byOutcome,
          rowsChecked: check.rowsChecked,
          writesConfirmed: check.confirmed,
          inDoubtCommitted: check.inDoubtCommitted,
          inDoubtAbsent: check.inDoubtAbsent,
          otherTenantRows: before.rows,
          msSinceStart: timings,
        },
        null,
        1,
      ),
    );

    // Before the kill every write succeeded; the ones cut off got no answer at all.
    expect(answers.filter((a) => a.outcome === "refused").map((a) => `${a.op} ${a.code}: ${a.detail}`)).toEqual([]);
    expect(answers.filter((a) => a.outcome === "no-answer").length).toBeGreaterThan(0);
    // Every acknowledged write is there, whole; nothing is half-written; the other tenant is untouched.
    expect(check.problems).toEqual([]);
    expect(check.confirmed).toBe(acknowledged.length + 1);
    expect(after).toEqual(before);
  }, 240_000);
});
