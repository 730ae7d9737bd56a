// Durable commands for a workstation's agent: a row it acknowledges. A
// connected agent hears of a new one at once through its subscription; it also
// asks for pending ones at every (re)connect and every minute, so a command
// published while its socket was down is never lost.
import type { Prisma } from "@latchkey/db";
import type { Context, Services } from "../../context.ts";
import { NotFoundError } from "../../errors.ts";
import { publishHint } from "../../pubsub.ts";
import { isUuid } from "../../validation.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";

/** After commit: the agent's subscription, on whichever instance holds its socket, is told. */
export function publishWorkstationCommand(ctx: Pick<Services, "pubsub" | "log">, command: { id: string; workstationId: string }) {
  publishHint(ctx.log, "workstationCommand:added", () => ctx.pubsub.publish("workstationCommand:added", command.workstationId, { id: command.id }));
}

/** A workstation's commands its agent has not acknowledged. */
export function pendingCommandsOf(workstationId: string): Prisma.WorkstationCommandWhereInput {
  return { workstationId, acknowledgedAt: null };
}

/** The agent carried a command out; acknowledging twice is harmless. */
export async function acknowledgeWorkstationCommand(ctx: Context, id: string) {
  const workstation = requireWorkstation(ctx);
  if (!isUuid(id)) throw new NotFoundError("Workstation command");
  const command = await ctx.db.workstationCommand.findFirst({ where: { id, workstationId: workstation.id } });
  if (!command) throw new NotFoundError("Workstation command");
  if (command.acknowledgedAt) return command;
  return ctx.db.workstationCommand.update({ where: { id }, data: { acknowledgedAt: new Date(ctx.clock.now()) } });
}
