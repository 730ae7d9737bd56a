import { builder } from "../../builder.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import { Tenant } from "../tenant/tenant.types.ts";
import { Workstation } from "../workstation/workstation.types.ts";
import { assignWorkstationAccount, updateElevatedAccessSettings } from "./elevation-settings.service.ts";
import { endTechnicianSession, redeemElevation, reportTechnicianSession } from "./elevation.service.ts";
import { ElevationInstruction, ElevationPasswordCharacters, TechnicianSession, TechnicianSessionEndReason, TechnicianSessionEvent, WorkstationCommand } from "./elevation.types.ts";
import { acknowledgeWorkstationCommand } from "./workstation-command.service.ts";

const UpdateElevatedAccessSettingsInput = builder.inputType("UpdateElevatedAccessSettingsInput", {
  description: "A customer's elevated access. Absent fields keep their value; the first update must name the shared account.",
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The customer tenant." }),
    sharedAccountName: t.string({ description: "The default local admin account (at most 20 characters, Windows' rules; not a username of the customer, nor like one)." }),
    technicianAccountPrefix: t.string({ description: "Named accounts `<prefix><n>` per technician; an empty string switches them off." }),
    manageBuiltInAdministrator: t.boolean({ description: "Allow the built-in Administrator (RID 500) as the account." }),
    maxSessionMinutes: t.int({ description: "1–480." }),
    passwordLength: t.int({ description: "14–127." }),
    passwordCharacters: t.field({ type: ElevationPasswordCharacters, description: "The characters of the passwords the agent generates." }),
    restartAfterSession: t.boolean({ description: "Restart the workstation after each session (after `restartGraceMinutes`, default 5)." }),
    restartGraceMinutes: t.int({ description: "0–120." }),
    minimumAgentVersion: t.string({ description: "e.g. 1.2.0; an empty string allows any agent." }),
  }),
});

const UpdateElevatedAccessSettingsPayload = builder.simpleObject("UpdateElevatedAccessSettingsPayload", {
  description: "The customer, with its new settings under `elevatedAccess`.",
  fields: (t) => ({ tenant: t.field({ type: Tenant, description: "The customer tenant." }) }),
});

const AssignWorkstationAccountInput = builder.inputType("AssignWorkstationAccountInput", {
  fields: (t) => ({
    workstationId: t.id({ required: true, description: "The workstation; NOT_FOUND unless the viewer administers its tenant." }),
    accountName: t.string({ description: "The workstation's own local admin account; null or empty: the customer's shared one." }),
  }),
});

const AssignWorkstationAccountPayload = builder.simpleObject("AssignWorkstationAccountPayload", {
  fields: (t) => ({ workstation: t.field({ type: Workstation, description: "The workstation; its account is under `elevationAccount`." }) }),
});

const RedeemElevationInput = builder.inputType("RedeemElevationInput", {
  fields: (t) => ({
    challengeId: t.id({ required: true, description: "The approved ELEVATED_ACCESS challenge this workstation started." }),
    redeemSecret: t.string({ required: true, description: "The `redeemSecret` startLoginChallenge gave this workstation with the challenge." }),
  }),
});

const RedeemElevationPayload = builder.simpleObject("RedeemElevationPayload", {
  fields: (t) => ({ instruction: t.field({ type: ElevationInstruction, description: "What to do; verify its signature before acting." }) }),
});

const ReportTechnicianSessionInput = builder.inputType("ReportTechnicianSessionInput", {
  fields: (t) => ({
    sessionId: t.id({ required: true, description: "The technician session of the instruction; NOT_FOUND for one of another workstation." }),
    event: t.field({ type: TechnicianSessionEvent, required: true, description: "What happened: the account signed in, or the session terminated and its password rotated." }),
    at: t.field({ type: "DateTime", required: true, description: "When it happened, by the workstation's clock." }),
    reason: t.field({ type: TechnicianSessionEndReason, description: "ENDED: why (EXPIRED, ENDED_ON_WORKSTATION, or the reason of the command carried out)." }),
    note: t.string({ description: "A short explanation for the audit log." }),
  }),
});

const TechnicianSessionPayload = (name: string, sessionDescription: string) =>
  builder.simpleObject(name, { fields: (t) => ({ session: t.field({ type: TechnicianSession, description: sessionDescription }) }) });

const ReportTechnicianSessionPayload = TechnicianSessionPayload(
  "ReportTechnicianSessionPayload",
  "The session as the server has it now; ENDED in answer to STARTED means terminate it now.",
);
const EndTechnicianSessionPayload = TechnicianSessionPayload("EndTechnicianSessionPayload", "The session, now ENDED.");

const EndTechnicianSessionInput = builder.inputType("EndTechnicianSessionInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: "The technician session." }),
    reason: t.string({ description: "Why, for the audit log and the feed." }),
  }),
});

const AcknowledgeWorkstationCommandInput = builder.inputType("AcknowledgeWorkstationCommandInput", {
  fields: (t) => ({ id: t.id({ required: true, description: "The command carried out; NOT_FOUND for another workstation's." }) }),
});

const AcknowledgeWorkstationCommandPayload = builder.simpleObject("AcknowledgeWorkstationCommandPayload", {
  fields: (t) => ({ command: t.field({ type: WorkstationCommand, description: "The command, acknowledged; acknowledging it again changes nothing." }) }),
});

builder.mutationFields((t) => ({
  updateElevatedAccessSettings: t.field({
    type: UpdateElevatedAccessSettingsPayload,
    description: "Configures a customer's elevated access (shared account, named accounts, session length, passwords, restart). For those who administer the customer.",
    authScopes: { authenticated: true },
    errors: { types: [...signedInErrors, ConflictError], union: { name: "UpdateElevatedAccessSettingsResult" } },
    args: { input: t.arg({ type: UpdateElevatedAccessSettingsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const settings = await updateElevatedAccessSettings(ctx, { ...input, tenantId: String(input.tenantId) });
      return { tenant: (await ctx.db.tenant.findUniqueOrThrow({ where: { id: settings.tenantId } })) as never };
    },
  }),
  assignWorkstationAccount: t.field({
    type: AssignWorkstationAccountPayload,
    description: "Gives a workstation its own local admin account for elevations, or returns it to the shared one.",
    authScopes: { authenticated: true },
    errors: { types: [...signedInErrors, ConflictError], union: { name: "AssignWorkstationAccountResult" } },
    args: { input: t.arg({ type: AssignWorkstationAccountInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      workstation: (await assignWorkstationAccount(ctx, { workstationId: String(input.workstationId), accountName: input.accountName })) as never,
    }),
  }),
  redeemElevation: t.field({
    type: RedeemElevationPayload,
    description: "The workstation that started an approved ELEVATED_ACCESS challenge exchanges it, once, for its instruction (workstation credential).",
    errors: { types: [UnauthenticatedError, ValidationError, NotFoundError, ConflictError, ForbiddenError], union: { name: "RedeemElevationResult" } },
    args: { input: t.arg({ type: RedeemElevationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      instruction: await redeemElevation(ctx, { challengeId: String(input.challengeId), redeemSecret: input.redeemSecret }),
    }),
  }),
  reportTechnicianSession: t.field({
    type: ReportTechnicianSessionPayload,
    description: "The agent reports a technician session STARTED (account signed in) or ENDED (terminated and rotated). Answers the session's state: ENDED means terminate now.",
    errors: { types: [UnauthenticatedError, ValidationError, NotFoundError, ConflictError], union: { name: "ReportTechnicianSessionResult" } },
    args: { input: t.arg({ type: ReportTechnicianSessionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      session: (await reportTechnicianSession(ctx, { ...input, sessionId: String(input.sessionId) })) as never,
    }),
  }),
  endTechnicianSession: t.field({
    type: EndTechnicianSessionPayload,
    description: "Ends a technician session now: the technician's own, or any of a customer the viewer administers. The workstation is told at once and terminates it.",
    authScopes: { authenticated: true },
    errors: { types: [...signedInErrors, ConflictError], union: { name: "EndTechnicianSessionResult" } },
    args: { input: t.arg({ type: EndTechnicianSessionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ session: (await endTechnicianSession(ctx, { id: String(input.id), reason: input.reason })) as never }),
  }),
  acknowledgeWorkstationCommand: t.field({
    type: AcknowledgeWorkstationCommandPayload,
    description: "The agent carried out a command (workstation credential); it is no longer pending.",
    errors: { types: [UnauthenticatedError, NotFoundError], union: { name: "AcknowledgeWorkstationCommandResult" } },
    args: { input: t.arg({ type: AcknowledgeWorkstationCommandInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ command: (await acknowledgeWorkstationCommand(ctx, String(input.id))) as never }),
  }),
}));
