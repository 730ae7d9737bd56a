// The durable job queue: pg-boss on the API's own database, PostgreSQL or the
// embedded PGlite alike. Enqueues go through Prisma, inside the caller's
// transaction when there is one, so a job exists exactly when the change that
// causes it commits. Workers poll with SKIP LOCKED, so instances sharing a
// database share the work and each job runs once at a time; a failed job is
// retried with backoff by whichever instance comes next.
import type { Database, PrismaClient } from "@latchkey/db";
import {
  jobDefinitions,
  jobNames,
  type EnqueueOptions,
  type JobName,
  type JobPayloads,
  type JobQueue,
  type JobServices,
  type Logger,
} from "@latchkey/schema";
import PgBoss from "pg-boss";

/** How often an idle worker looks for new jobs; an enqueue in this instance wakes it at once. */
const POLLING_INTERVAL_SECONDS = 1;
/** Jobs of one kind one instance runs at a time. */
const BATCH_SIZE = 5;
/** How long stop() waits for running jobs before leaving them to be retried. */
const STOP_TIMEOUT_MS = 10_000;

type Sql = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] } | undefined> };

/**
 * Prisma's raw queries take plain values: the payload (an object) goes as its
 * JSON text, which the `::jsonb` cast in pg-boss's statement reads back.
 */
function rawValue(value: unknown) {
  if (value === undefined) return null;
  if (value !== null && typeof value === "object" && !(value instanceof Date) && !Array.isArray(value) && !Buffer.isBuffer(value)) {
    return JSON.stringify(value);
  }
  return value;
}

function throughPrisma(client: Pick<PrismaClient, "$queryRawUnsafe">): Sql {
  return {
    async executeSql(text, values = []) {
      return { rows: await client.$queryRawUnsafe<unknown[]>(text, ...values.map(rawValue)) };
    },
  };
}

export type JobQueueOptions = {
  database: Database;
  /** The client services use: enqueues go through it (and show in its query log). */
  prisma: PrismaClient;
  /** PostgreSQL schema of the queue's tables. */
  schema: string;
  log: Logger;
};

export class DurableJobQueue implements JobQueue {
  private readonly boss: PgBoss;
  /** The queue's own connection to the database, outside Prisma (and its query log). */
  private readonly own: Sql;
  private readonly workerIds = new Map<JobName, string>();
  private services: JobServices | null = null;
  /** Statements of the queue's own in flight, and jobs running: stop() waits for both. */
  private running = { statements: 0, jobs: 0 };
  private closed = false;

  /** PostgreSQL schema of the queue's tables. */
  get schema() {
    return this.options.schema;
  }

  private constructor(private readonly options: JobQueueOptions) {
    const { database } = options;
    const own: Sql = {
      executeSql: async (text: string, values?: unknown[]) => {
        // After stop() a worker loop may still be winding down: like pg-boss's
        // own connection once closed, answer nothing (it reads that as no rows).
        if (this.closed) return undefined;
        this.running.statements += 1;
        try {
          return await database.execute(text, values);
        } catch (error) {
          // pg-boss records a job's outcome (by job ids, the second value)
          // without awaiting it, so a failure there, such as the database gone
          // for a moment, would end the process. The job stays active instead,
          // and is retried once it expires.
          if (Array.isArray(values?.[1])) {
            options.log.warn("job queue could not record a job's outcome", { error: String(error) });
            return undefined;
          }
          throw error;
        } finally {
          this.running.statements -= 1;
        }
      },
    };
    this.own = own;
    this.boss = new PgBoss({
      db: own as PgBoss.Db,
      schema: options.schema,
      // No cron schedules yet; the timekeeper would only poll for them.
      schedule: false,
      // Completed jobs carry addresses and mail texts: archived after an hour,
      // gone a day later. Failed ones stay a week for a look.
      archiveCompletedAfterSeconds: 3600,
      archiveFailedAfterSeconds: 7 * 24 * 3600,
      deleteAfterHours: 24,
    });
    this.boss.on("error", (error: unknown) => options.log.error("job queue error", { error: String(error) }));
  }

  /** Installs or upgrades the queue's tables (once across instances, under a lock) and its queues. */
  static async start(options: JobQueueOptions) {
    for (let attempt = 1; ; attempt += 1) {
      const queue = new DurableJobQueue(options);
      try {
        await queue.install();
        return queue;
      } catch (error) {
        await queue.boss.stop({ graceful: false, close: false }).catch(() => undefined);
        // Instances starting together on a fresh database race to create the
        // same tables (pg-boss's install and queue creation are not safe against
        // that): the loser fails, and finds them made when it tries again.
        if (attempt >= 3) throw error;
        options.log.warn("job queue start failed; trying again", { error: String(error), attempt });
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt + Math.random() * 250));
      }
    }
  }

  private async install() {
    await this.boss.start();
    for (const name of jobNames) {
      const { retryLimit, retryDelaySeconds, expireInSeconds } = jobDefinitions[name];
      const settings = { name, retryLimit, retryDelay: retryDelaySeconds, retryBackoff: true, expireInSeconds };
      await this.boss.createQueue(name, settings);
      // An existing queue keeps what an older version set unless told.
      await this.boss.updateQueue(name, settings);
    }
    // Jobs left running by an instance that died are failed (and so retried) now, not at the next round.
    await this.boss.maintain();
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions = {}) {
    const id = await this.boss.send(name, payload as object, {
      // Periodic offers are the queue's own business; every other enqueue goes
      // through Prisma, in the caller's transaction when there is one.
      db: (options.once && !options.tx ? this.own : throughPrisma(options.tx ?? this.options.prisma)) as PgBoss.Db,
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.once ? { singletonKey: options.once.key, singletonSeconds: options.once.perSeconds } : {}),
    });
    // A job offered `once` per slot is dropped when one already holds the slot.
    if (!id && options.once) return;
    if (!id) throw new Error(`job ${name} was not enqueued`);
    // Committed already: no need to wait for the next poll. (A job enqueued in a
    // transaction is found by the next poll, a second at most.)
    if (!options.tx) this.wake(name);
  }

  /** Starts a worker for every kind of job. */
  async work(services: JobServices) {
    this.services = services;
    for (const name of jobNames) await this.startWorker(name);
  }

  /** Stops taking jobs and waits for those running (their statements included) to finish. */
  async pauseWorkers() {
    for (const name of [...this.workerIds.keys()]) await this.boss.offWork(name);
    this.workerIds.clear();
    await this.settle();
  }

  async resumeWorkers() {
    for (const name of jobNames) if (!this.workerIds.has(name)) await this.startWorker(name);
  }

  /** Jobs waiting, waiting for a retry or running. */
  async pending() {
    let count = 0;
    for (const name of jobNames) count += await this.boss.getQueueSize(name, { before: "completed" });
    return count;
  }

  /** Lets running jobs finish (up to a bound), then lets go of the database. */
  async stop() {
    if (this.closed) return;
    this.workerIds.clear();
    await this.boss.stop({ graceful: true, close: false, wait: true, timeout: STOP_TIMEOUT_MS });
    await this.settle();
    this.closed = true;
  }

  private wake(name: JobName) {
    const worker = this.workerIds.get(name);
    if (worker) this.boss.notifyWorker(worker);
  }

  private async startWorker<N extends JobName>(name: N) {
    const definition = jobDefinitions[name];
    const id = await this.boss.work<JobPayloads[N]>(
      name,
      { batchSize: BATCH_SIZE, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS },
      async (jobs) => {
        this.running.jobs += 1;
        try {
          // Each job succeeds or fails on its own; pg-boss completes the rest of the batch.
          await Promise.all(
            jobs.map(async (job) => {
              try {
                await definition.run(this.services!, job.data);
              } catch (error) {
                // Retried with backoff until its retries run out; then it stays failed, for a look.
                this.options.log.warn("job failed", { job: name, id: job.id, error: String(error) });
                await this.boss.fail(name, job.id, { message: String(error) });
              }
            }),
          );
          // A full batch suggests more are waiting.
          if (jobs.length === BATCH_SIZE) this.wake(name);
        } finally {
          this.running.jobs -= 1;
        }
      },
    );
    this.workerIds.set(name, id);
  }

  /**
   * Waits until no job runs and no statement of the queue is in flight. Checked
   * on timers, so a fetch that just returned jobs has started running them.
   */
  private async settle() {
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while ((this.running.jobs > 0 || this.running.statements > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
