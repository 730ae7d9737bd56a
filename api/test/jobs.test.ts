// The durable job queue: enqueued with the change that causes a job, run once
// by whichever instance gets to it, retried with backoff when it fails, and
// kept across a restart. Embedded PGlite by default, PostgreSQL when
// DATABASE_URL is set; sharing between instances needs PostgreSQL.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, dropSchema, readOutbox, unique, waitForMailIn } from "./harness.ts";

const DATABASE_URL = process.env.DATABASE_URL;

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(async () => {
  await api?.stop();
});

const mailsWith = async (dataDirs: string[], text: string) => (await Promise.all(dataDirs.map(readOutbox))).flat().filter((mail) => mail.includes(text));

/** A loopback port with nothing listening: a mail server that is down. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type JobRow = { state: string; retry_count: number; waiting: boolean };

/** The job's row as the queue keeps it (still queued, or archived once done). */
async function jobRow(server: Api, subject: string): Promise<JobRow | null> {
  const schema = server.app.jobs.schema;
  const rows = await server.db.$queryRawUnsafe<JobRow[]>(
    `SELECT state::text AS state, retry_count, start_after > now() AS waiting FROM ${schema}.job WHERE name = 'mail.send' AND data->>'subject' = $1
     UNION ALL SELECT state::text, retry_count, false FROM ${schema}.archive WHERE name = 'mail.send' AND data->>'subject' = $1`,
    subject,
  );
  return rows[0] ?? null;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the job queue", () => {
  it("enqueues with the transaction of the change: rolled back, there is no job; committed, the job runs", async () => {
    const to = `${unique("tx")}@example.test`;
    const tag = unique("tx");
    await expect(
      api.db.$transaction(async (tx) => {
        await api.app.services.jobs.enqueue("mail.send", { to, subject: `${tag} rolled back`, text: "never sent" }, { tx });
        throw new Error("the change was refused");
      }),
    ).rejects.toThrow("the change was refused");
    await api.db.$transaction(async (tx) => {
      await api.app.services.jobs.enqueue("mail.send", { to, subject: `${tag} committed`, text: "sent" }, { tx });
    });
    await api.waitForMail((mail) => mail.includes(`${tag} committed`), "enqueued in a committed transaction");
    await api.jobsSettled();
    expect(await mailsWith([api.dataDir], tag)).toHaveLength(1);
    expect(await jobRow(api, `${tag} rolled back`)).toBeNull();
  });

  it("retries a failed job with backoff, and a restart loses nothing", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-jobs-"));
    const schema = `jobs_test_${randomBytes(6).toString("hex")}`;
    // Both starts share the data directory (embedded) or the queue's schema (PostgreSQL).
    const shared = { DATA_DIR: dataDir, JOB_QUEUE_SCHEMA: schema };
    const subject = unique("retry");
    let server = await Api.start({ ...shared, SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` });
    try {
      await server.app.services.jobs.enqueue("mail.send", { to: "someone@example.test", subject, text: "it comes through in the end" });
      const failed = await until(() => jobRow(server, subject), (row) => row?.state === "retry", "the first failure");
      // Waiting for its retry, which comes later than now: backoff.
      expect(failed).toMatchObject({ state: "retry", waiting: true });
      expect(server.logs.join("")).toContain('"msg":"job failed"');
      await server.stop();

      // The mail server is back (the outbox here) after a restart: the job is still there and goes out.
      server = await Api.start({ ...shared, SMTP_URL: "" });
      await server.waitForMail((mail) => mail.includes(subject), "after the restart", 30_000);
      await server.jobsSettled();
      expect(await jobRow(server, subject)).toMatchObject({ state: "completed" });
      expect((await jobRow(server, subject))!.retry_count).toBeGreaterThanOrEqual(1);
      expect(await mailsWith([dataDir], subject)).toHaveLength(1);
    } finally {
      await server.stop();
      if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it.runIf(DATABASE_URL)("shares the work of instances on one database, each job once", async () => {
    const shared = { JOB_QUEUE_SCHEMA: `jobs_test_${randomBytes(6).toString("hex")}`, EMAIL_CODE_KEY: randomBytes(32).toString("base64") };
    // Started together on a fresh schema: they race to install the queue's tables.
    const [a, b] = await Promise.all([Api.start(shared), Api.start(shared)]);
    const outboxes = [a.dataDir, b.dataDir];
    try {
      // With A's workers paused, what A enqueues is run by B.
      await a.app.jobs.pauseWorkers();
      const handedOver = unique("handover");
      for (let i = 0; i < 5; i += 1) await a.app.services.jobs.enqueue("mail.send", { to: `n${i}@example.test`, subject: `${handedOver} ${i}`, text: "." });
      await waitForMailIn([b.dataDir], (mail) => mail.includes(`${handedOver} 4`), "run by the other instance");
      await a.jobsSettled();
      expect(await mailsWith(outboxes, handedOver)).toHaveLength(5);
      expect(await mailsWith([a.dataDir], handedOver)).toHaveLength(0);

      // Both working: every job runs exactly once.
      await a.app.jobs.resumeWorkers();
      const burst = unique("burst");
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).app.services.jobs.enqueue("mail.send", { to: `m${i}@example.test`, subject: `${burst} #${i}#`, text: "." })),
      );
      await until(() => mailsWith(outboxes, burst), (mails) => mails.length >= 40, "40 mails");
      await a.jobsSettled();
      const subjects = (await mailsWith(outboxes, burst)).map((mail) => /#(\d+)#/.exec(mail)![1]);
      expect(subjects).toHaveLength(40);
      expect(new Set(subjects).size).toBe(40);
    } finally {
      await a.stop();
      await b.stop();
      await dropSchema(DATABASE_URL!, shared.JOB_QUEUE_SCHEMA);
    }
  }, 120_000);
});
