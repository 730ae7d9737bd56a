// Every desktop login attempt is recorded, then pushed to the tenant's live
// feeds. The row is the record; the published id is only a hint to re-read it.
import type { LoginMethod, LoginOutcome, PrismaClient } from "@latchkey/db";
import type { Context, Services } from "../../context.ts";
import { publishHint } from "../../pubsub.ts";
import { enqueueWebhookEvent } from "../webhook/webhook-events.ts";
import type { LoginFailureReason } from "./login-failure-reasons.ts";

type Db = PrismaClient;

export type LoginAttempt = {
  tenantId: string;
  userId: string | null;
  /** The directory user's username; null for an unknown login. */
  username: string | null;
  /** An unknown login as a keyed hash: never as typed, which may be a password typed in the wrong box. */
  loginPseudonym?: string | null;
  workstation: { id: string; name: string } | null;
  method: LoginMethod;
  outcome: LoginOutcome;
  reason?: LoginFailureReason | null;
  /** QR login with the master key on, when the phone had no copy of the password: false. */
  passwordSynced?: boolean | null;
};

/** Writes the attempt, with its webhook deliveries in the same transaction. */
export async function recordLoginEvent(db: Db, ctx: Pick<Context, "request" | "jobs" | "clock">, attempt: LoginAttempt) {
  return db.$transaction(async (tx) => {
    const event = await tx.loginEvent.create({
      data: {
        tenantId: attempt.tenantId,
        userId: attempt.userId,
        username: attempt.username,
        loginPseudonym: attempt.loginPseudonym ?? null,
        workstationId: attempt.workstation?.id ?? null,
        workstationName: attempt.workstation?.name ?? null,
        method: attempt.method,
        outcome: attempt.outcome,
        reason: attempt.reason ?? null,
        passwordSynced: attempt.passwordSynced ?? null,
        ip: ctx.request.ip,
      },
    });
    await enqueueWebhookEvent(tx, ctx, {
      tenantId: event.tenantId,
      type: "LOGIN_EVENT",
      data: {
        id: event.id,
        userId: event.userId,
        username: event.username,
        workstationId: event.workstationId,
        workstationName: event.workstationName,
        method: event.method,
        outcome: event.outcome,
        reason: event.reason,
        ip: event.ip,
        createdAt: event.createdAt.toISOString(),
      },
    });
    return event;
  });
}

export function publishLoginEvent(ctx: Pick<Services, "pubsub" | "log">, event: { id: string; tenantId: string }) {
  publishHint(ctx.log, "loginEvent:changed", () => ctx.pubsub.publish("loginEvent:changed", event.tenantId, { id: event.id }));
}

/** Records a failed attempt and tells the live feeds, outside any other transaction. */
export async function recordFailedLogin(ctx: Context, attempt: Omit<LoginAttempt, "outcome">) {
  const event = await recordLoginEvent(ctx.db, ctx, { ...attempt, outcome: "FAILED" });
  publishLoginEvent(ctx, event);
  return event;
}
