// Work that outlives a request: every kind of job, its payload and how it runs.
// Requests enqueue (in the transaction of the change that causes the job, where
// there is one) and answer; a worker of any API instance runs the job later,
// and retries it with backoff when it fails. Payloads are stored in the
// database as they are: ids, addresses and texts, never a secret.
import type { Prisma } from "@latchkey/db";
import type { Mail, Mailer, Services } from "./context.ts";
import { deliverWebhook, type WebhookDeliveryJob } from "./modules/webhook/webhook-delivery.ts";
import { sendEmailVerificationCode, type EmailVerificationJob } from "./modules/authenticator/authenticator.service.ts";
import { tracePasswordFailure, type PasswordFailureJob } from "./modules/session/sign-in.ts";
import { applyAuditRetention } from "./modules/audit/audit.service.ts";
import { extendAuditChains } from "./modules/audit/audit-chain.ts";
import { sweepExpired } from "./housekeeping.ts";

export type JobPayloads = {
  /** One email, sent through the configured mailer (SMTP or the outbox). */
  "mail.send": Mail;
  /** A verification code for an address, if it belongs to a user: generated, stored hashed and sent by the worker. */
  "emailVerification.send": EmailVerificationJob;
  /** A wrong password's audit event and lock, for a known account; a log line for an unknown one. */
  "signIn.failed": PasswordFailureJob;
  /** Rows nobody can use any more (challenges and codes long past their expiry) go. */
  "housekeeping.sweep": Record<string, never>;
  /** Each tenant's audit events older than its retention period go, through the purge function. */
  "audit.retention": Record<string, never>;
  /** One attempt at one webhook delivery; a failed attempt schedules the next itself (see webhook-delivery.ts). */
  "webhook.deliver": WebhookDeliveryJob;
  /** Each tenant's audit events not chained yet are hash-chained. */
  "audit.chain": Record<string, never>;
};

export type JobName = keyof JobPayloads;

export type EnqueueOptions = {
  /** The transaction of the change that causes the job: the job exists exactly when the change commits. */
  tx?: Prisma.TransactionClient;
  /** Not before this time. */
  startAfter?: Date;
  /**
   * At most one such job per `perSeconds` across every instance: further
   * enqueues within that slot are dropped. For periodic work each instance
   * offers on its own timer.
   */
  once?: { key: string; perSeconds: number };
};

export type JobQueue = {
  /**
   * The queue's name (its PostgreSQL schema): instances sharing it share its
   * work. Rows whose later work a queue schedules (webhook retries) name it.
   */
  readonly schema: string;
  /**
   * Stores a job for a worker to run. Without `tx` it is committed on its own,
   * before this resolves; never call it without `tx` inside a transaction (the
   * embedded database has one connection, which the transaction holds).
   */
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options?: EnqueueOptions): Promise<void>;
};

/** What a job runs with: the instance's services, and the mailer, which only jobs use. */
export type JobServices = Services & { mailer: Mailer };

export type JobDefinition<P> = {
  run(services: JobServices, payload: P): Promise<void>;
  /** Retries after the first failure, each after about twice as long as the one before. */
  retryLimit: number;
  /** Wait before the first retry (then doubled each time, with jitter). */
  retryDelaySeconds: number;
  /** A run taking longer than this counts as failed (and is retried). */
  expireInSeconds: number;
};

export const jobDefinitions: { [N in JobName]: JobDefinition<JobPayloads[N]> } = {
  "mail.send": {
    run: (services, mail) => services.mailer.send(mail),
    // A mail server that is down for a few hours still gets the mail: ~2 s, 4 s, 8 s ... about 4 hours in all.
    retryLimit: 12,
    retryDelaySeconds: 2,
    expireInSeconds: 120,
  },
  "emailVerification.send": {
    run: sendEmailVerificationCode,
    // The code is worth sending only while it is valid (minutes); the job gives up once it is not.
    retryLimit: 5,
    retryDelaySeconds: 2,
    expireInSeconds: 120,
  },
  "signIn.failed": {
    run: tracePasswordFailure,
    // The trail matters for as long as anyone reads the audit log: retried for about an hour.
    retryLimit: 10,
    retryDelaySeconds: 2,
    expireInSeconds: 60,
  },
  "housekeeping.sweep": {
    run: (services) => sweepExpired(services),
    // The next round comes within a minute anyway.
    retryLimit: 0,
    retryDelaySeconds: 1,
    expireInSeconds: 300,
  },
  "audit.retention": {
    run: (services) => applyAuditRetention(services),
    retryLimit: 3,
    retryDelaySeconds: 60,
    expireInSeconds: 3600,
  },
  "audit.chain": {
    run: (services) => extendAuditChains(services),
    // The next round comes within a minute anyway, and a check chains before it looks.
    retryLimit: 0,
    retryDelaySeconds: 1,
    expireInSeconds: 300,
  },
  "webhook.deliver": {
    run: deliverWebhook,
    // A receiver that fails is retried by the delivery's own schedule (a day of
    // backoff, on the injectable clock); the queue retries only a job that
    // could not run at all (the database away).
    retryLimit: 5,
    retryDelaySeconds: 5,
    expireInSeconds: 120,
  },
};

export const jobNames = Object.keys(jobDefinitions) as JobName[];
