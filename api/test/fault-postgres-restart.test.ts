// PostgreSQL restarted under load. An API process runs against a PostgreSQL
// cluster of this test's own (initdb'd in a temporary directory, on a free
// loopback port: the machine's shared PostgreSQL is never touched); two tenants
// are seeded, a steady stream of reads and writes runs against one of them, and
// the cluster is stopped for some seconds and started again, twice: a clean
// shutdown (pg_ctl -m fast), then a crash (-m immediate, recovered at start).
// While it is down the API answers every operation with a typed UNAVAILABLE
// error and never an HTTP 5xx (only /readyz says 503); once it is back the API
// serves again without a restart of its own, and the database holds every
// write that answered success, none by halves, and the other tenant's rows as
// they were. Skipped only when no PostgreSQL server binaries are installed.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { SessionCache } from "@latchkey/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiProcess } from "./api-process.ts";
import { sharedEnv } from "./fault-world.ts";
import { checkWrites, otherTenantIds, runOp, seedWorld, sleep, tally, tenantHash, until, WRITES, type Answer, type FaultWorld, type OpName, type Sql } from "./fault-load.ts";
import { PrivatePostgres, postgresBinDir } from "./private-postgres.ts";

const bin = postgresBinDir();
if (!bin) console.log("fault-postgres-restart: skipped (no PostgreSQL server binaries: no initdb/pg_ctl under /usr/lib/postgresql/*/bin or `pg_config --bindir`)");

type Phase = "before" | "stopping" | "down" | "starting" | "after";
/** An answer, with the phase of the outage it was sent and answered in (answered in a later outage counts as "after"). */
type Record_ = Answer & { sentPhase: Phase; answeredPhase: Phase; cycle: number };

/** Opens a connection to the cluster for one piece of checking, and closes it. */
async function withSql<T>(url: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(async (text, values) => (await client.query(text, values)).rows);
  } finally {
    await client.end();
  }
}

describe.skipIf(!bin)("PostgreSQL restarted under load", () => {
  let cluster: PrivatePostgres;
  let api: ApiProcess;
  let world: FaultWorld;

  beforeAll(async () => {
    cluster = await PrivatePostgres.create(bin!);
    // One instance, no Redis; its log at info level, as it is shown when the test fails.
    const env = await sharedEnv(cluster.url, "", {
      LOG_LEVEL: "info",
      WEB_ORIGIN: "http://portal.test",
      SIGNUPS_PER_HOUR_PER_IP: "100000",
      PORTAL_DOCUMENTS: "any",
      // The load starts many challenges from one address and spends one admin's budget fast.
      RATE_LIMIT_OVERRIDES: JSON.stringify({
        challengeStartPerIp: { points: 1_000_000, durationSeconds: 60 },
        costPerUser: { points: 100_000_000, durationSeconds: 3600 },
      }),
    });
    api = await ApiProcess.start("pg-restart", env);
    world = await seedWorld(api.graphqlUrl);
  }, 150_000);

  afterAll(async () => {
    await api?.stop();
    await cluster?.destroy();
  });

  it("answers UNAVAILABLE while the database is down, serves again once it is back, and loses or halves nothing", async () => {
    const before = await withSql(cluster.url, (sql) => tenantHash(sql, otherTenantIds(world)));

    // Two outages: a clean shutdown that lasts longer than the API keeps a
    // session it looked up (so requests then fail in the session lookup too,
    // before any field runs), and a crash (recovered when the cluster starts).
    const FAULTS = [
      { mode: "fast", downMs: SessionCache.TTL_MS + 2_000 },
      { mode: "immediate", downMs: 3_000 },
    ] as const;
    let phase: Phase = "before";
    let cycle = 0;
    let running = true;
    const answers: Record_[] = [];
    const readiness: { cycle: number; phase: Phase; status: number | null }[] = [];
    const OPS: OpName[] = ["createUser", "listUsers", "startLoginChallenge", "createCustomer", "listCustomers"];
    const worker = async (offset: number) => {
      for (let i = offset; running; i += 1) {
        const sent = { phase, cycle };
        const answer = await runOp(api.graphqlUrl, world, OPS[i % OPS.length]!);
        answers.push({ ...answer, sentPhase: sent.phase, answeredPhase: sent.cycle === cycle ? phase : "after", cycle: sent.cycle });
        // A steady stream, not a flood: refusals while down come back at once.
        await sleep(answer.outcome === "ok" ? 5 : 40);
      }
    };
    const probe = async () => {
      while (running) {
        const probed = { phase, cycle };
        const status = await fetch(`${api.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then((response) => response.status, () => null);
        if (probed.phase === phase && probed.cycle === cycle) readiness.push({ ...probed, status });
        await sleep(200);
      }
    };
    const load = Promise.all([...[0, 1, 2, 3].map(worker), probe()]);
    /** What a timed-out wait shows: the last probes and answers, and the API's and PostgreSQL's last log lines. */
    const explain = () => {
      const apiLog = join(tmpdir(), `fault-postgres-restart-api-${process.pid}.log`);
      writeFileSync(apiLog, api.output());
      return [
        `phase ${phase} of outage ${cycle}; API alive: ${api.alive}; its whole log: ${apiLog}`,
        `last /readyz: ${JSON.stringify(readiness.slice(-8))}`,
        `last answers: ${JSON.stringify(answers.slice(-8).map((a) => [a.cycle, a.sentPhase, a.answeredPhase, a.op, a.outcome, a.code, a.status, a.answeredAt - a.sentAt]))}`,
        `API log:\n${api.output().split("\n").slice(-40).map((line) => line.slice(0, 400)).join("\n")}`,
        `PostgreSQL log:\n${cluster.logTail(15)}`,
      ].join("\n");
    };
    const okIn = (phase: Phase, op: OpName, inCycle: number) => answers.filter((a) => a.cycle === inCycle && a.sentPhase === phase && a.op === op && a.outcome === "ok").length;
    /** Requests sent and answered while the database was down (after pg_ctl stop returned, before pg_ctl start was run). */
    const inDown = (inCycle: number) => answers.filter((a) => a.cycle === inCycle && a.sentPhase === "down" && a.answeredPhase === "down");
    try {
      // Load under way: every operation has succeeded a few times.
      await until("the load to get going", () => OPS.every((op) => okIn("before", op, 0) >= 3), 60_000, 200, explain);
      for (const [index, fault] of FAULTS.entries()) {
        cycle = index;
        phase = "stopping";
        await cluster.stop(fault.mode);
        phase = "down";
        await sleep(fault.downMs);
        await until(
          "refusals and a failing readiness probe while the database is down",
          () => inDown(cycle).length >= 20 && readiness.some((r) => r.cycle === cycle && r.phase === "down"),
          30_000,
          200,
          explain,
        );
        phase = "starting";
        await cluster.start();
        phase = "after";
        await until("/readyz to answer 200 again", () => readiness.some((r) => r.cycle === cycle && r.phase === "after" && r.status === 200), 60_000, 200, explain);
        await until("every write to succeed again", () => WRITES.every((op) => okIn("after", op, cycle) >= 3), 60_000, 200, explain);
      }
    } finally {
      running = false;
      await load;
    }

    const counts = tally(answers);
    const check = await withSql(cluster.url, (sql) => checkWrites(sql, world, answers));
    const afterHash = await withSql(cluster.url, (sql) => tenantHash(sql, otherTenantIds(world)));
    const readyzCounts: Record<string, number> = {};
    for (const r of readiness) {
      const key = `${FAULTS[r.cycle]!.mode} ${r.phase} ${r.status ?? "none"}`;
      readyzCounts[key] = (readyzCounts[key] ?? 0) + 1;
    }
    // What the API logged as unexpected (by kind), to show what the database's going and coming looked like.
    const unexpectedLogged: Record<string, number> = {};
    for (const line of api.logLines().filter((entry) => entry.msg === "unexpected error")) {
      const kind = `${String(line.code ?? "-")} ${String(line.error ?? "").slice(0, 120)}`;
      unexpectedLogged[kind] = (unexpectedLogged[kind] ?? 0) + 1;
    }
    console.log(
      "fault-postgres-restart:",
      JSON.stringify(
        {
          requests: counts.requests,
          faultsInjected: FAULTS.length,
          faults: FAULTS.map((fault, index) => ({
            fault: `pg_ctl stop -m ${fault.mode}, then start`,
            requestsWhileDown: inDown(index).length,
            refusedWholeRequestWhileDown: inDown(index).filter((a) => a.outcome === "refused" && a.errorPath === null).length,
          })),
          byStatus: counts.byStatus,
          refusalsByCode: counts.refusalsByCode,
          byOutcome: counts.byOutcome,
          readyz: readyzCounts,
          rowsChecked: check.rowsChecked,
          writesConfirmed: check.confirmed,
          inDoubtCommitted: check.inDoubtCommitted,
          inDoubtAbsent: check.inDoubtAbsent,
          otherTenantRows: before.rows,
          unexpectedErrorsLogged: unexpectedLogged,
        },
        null,
        1,
      ),
    );

    // The API process lived through it, and answered every request.
    expect(api.alive).toBe(true);
    expect(answers.filter((a) => a.outcome === "no-answer").map((a) => `${a.op} ${a.detail}`)).toEqual([]);
    // Never a 5xx from /graphql; every refusal is the typed UNAVAILABLE.
    expect(answers.filter((a) => a.status !== null && a.status >= 500).map((a) => `${a.op} ${a.status} ${a.code}`)).toEqual([]);
    expect(answers.filter((a) => a.outcome === "refused" && a.code !== "UNAVAILABLE").map((a) => `${a.sentPhase} ${a.op} ${a.code}: ${a.detail}`)).toEqual([]);
    expect(answers.filter((a) => a.cycle === 0 && a.sentPhase === "before" && a.answeredPhase === "before" && a.outcome !== "ok").map((a) => `${a.op} ${a.code}`)).toEqual([]);
    for (const [index] of FAULTS.entries()) {
      // While the database was down, nothing succeeded and everything was refused as UNAVAILABLE.
      const down = inDown(index);
      expect(down.length).toBeGreaterThanOrEqual(20);
      expect(down.filter((a) => a.outcome !== "refused" || a.code !== "UNAVAILABLE").map((a) => `${a.op} ${a.outcome} ${a.code}`)).toEqual([]);
      // /readyz said 503 all the while, and 200 again once it was back.
      const probes = readiness.filter((r) => r.cycle === index && r.phase === "down").map((r) => r.status);
      expect(probes.length).toBeGreaterThan(0);
      expect(probes).toEqual(probes.map(() => 503));
      expect(readiness.filter((r) => r.cycle === index && r.phase === "after").at(-1)?.status).toBe(200);
    }
    // In the long outage, also requests whose session lookup failed before any field ran.
    expect(inDown(0).filter((a) => a.errorPath === null).length).toBeGreaterThan(0);
    expect(readiness.filter((r) => r.cycle === 0 && r.phase === "before").every((r) => r.status === 200)).toBe(true);
    expect(await fetch(`${api.url}/readyz`).then((response) => response.status)).toBe(200);
    // Every write that answered success is there, nothing is there by halves, the other tenant is untouched.
    expect(check.problems).toEqual([]);
    expect(check.confirmed).toBeGreaterThan(0);
    expect(afterHash).toEqual(before);
  }, 240_000);
});
