import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { DeviceKeyAlgorithm } from "../authenticator/authenticator.types.ts";
import { ErrorInterface } from "../errors/errors.types.ts";
import { ChallengeScan } from "../challenge/challenge.types.ts";
import { Workstation } from "../workstation/workstation.types.ts";
import { ElevationBusyError, ElevationRefusedError } from "./elevation-errors.ts";
import { elevationSettingsOf, type EffectiveElevationSettings } from "./elevation-settings.service.ts";
import { actualSeconds, OPEN_STATUSES, type ElevationInstructionShape, type ElevationScan as ElevationScanShape } from "./elevation.service.ts";

builder.objectType(ElevationBusyError, {
  name: "ElevationBusyError",
  description: "Another technician's session holds this workstation's account (code ELEVATION_BUSY): who, and until when.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    holder: t.exposeString("holder", { description: "The technician holding the account." }),
    endsAt: t.expose("endsAt", { type: "DateTime", nullable: true, description: "When their session ends at the latest." }),
    sessionId: t.exposeID("sessionId", { description: "The holding technician session." }),
  }),
});

builder.objectType(ElevationRefusedError, {
  name: "ElevationRefusedError",
  description: "`code` says why: ELEVATION_NOT_CONFIGURED, WORKSTATION_PENDING, AGENT_OUTDATED or MINUTES_NOT_ALLOWED.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

export const ElevationMode = builder.enumType("ElevationMode", {
  description: "Where the technician is elevated.",
  values: {
    SIGN_IN: { description: "At the login screen: the technician is signed in as the local admin account." },
    IN_SESSION: { description: "Inside a running Windows session, like a UAC prompt: an elevated logon of the account beside the signed-in user." },
  },
});

export const TechnicianSessionStatus = builder.enumType("TechnicianSessionStatus", {
  description: "requested -> approved -> started -> ended.",
  values: {
    REQUESTED: { description: "The workstation shows its QR code; nobody approved yet." },
    APPROVED: { description: "A technician approved on their phone; the workstation has not signed the account in yet." },
    STARTED: { description: "The workstation signed the account in." },
    ENDED: { description: "Over; `endReason` says why." },
  },
});

export const TechnicianSessionEndReason = builder.enumType("TechnicianSessionEndReason", {
  description: "Why a technician session ended.",
  values: {
    EXPIRED: { description: "Its minutes ran out." },
    ENDED_BY_TECHNICIAN: { description: "The technician ended it from the portal." },
    ENDED_BY_ADMIN: { description: "An admin of the customer or the MSP ended it." },
    REVOKED: { description: "The technician lost access: delegation revoked, role lowered, user disabled or phone revoked." },
    ENDED_ON_WORKSTATION: { description: "Ended at the workstation itself (signed out, cancelled)." },
    NOT_APPROVED: { description: "The request was denied, withdrawn, or expired before anyone approved it." },
  },
});

export const TechnicianSessionEvent = builder.enumType("TechnicianSessionEvent", {
  description: "What an agent reports about a technician session.",
  values: {
    STARTED: { description: "The account is signed in." },
    ENDED: { description: "The session is terminated and the account's password rotated." },
  },
});

const ElevationAccountKind = builder.enumType("ElevationAccountKind", {
  description: "Where an elevation account comes from.",
  values: {
    SHARED: { description: "The customer's default shared admin account." },
    WORKSTATION: { description: "A workstation's own account, instead of the shared one." },
    TECHNICIAN: { description: "A technician's named account, `<prefix><n>`." },
  },
});

export const ElevationPasswordCharacters = builder.enumType("ElevationPasswordCharacters", {
  description: "The characters the agent draws an account's passwords from.",
  values: {
    ALPHANUMERIC: { description: "Letters and digits without look-alikes." },
    ALPHANUMERIC_SYMBOLS: { description: "Letters, digits and symbols, with every class Windows' complexity rule asks for." },
  },
});

const WorkstationCommandKind = builder.enumType("WorkstationCommandKind", {
  description: "What a workstation's agent is told to do.",
  values: {
    END_TECHNICIAN_SESSION: { description: "Terminate the technician session `sessionId` now and rotate its account's password." },
    ROTATE_ACCOUNT_PASSWORD: { description: "Rotate the password of `accountName` now (its break-glass password was revealed), then seal and upload the new one." },
  },
});

export const ElevationAccount = builder.prismaObject("ElevationAccount", {
  description: "A local admin account technicians are elevated into on a customer's workstations.",
  authScopes: (account) => ({ tenantAdmin: account.tenantId }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The elevation account's id." }),
    kind: t.expose("kind", { type: ElevationAccountKind, description: "Whether it is the customer's shared account, a workstation's own, or a technician's named one." }),
    name: t.exposeString("name", { description: "The Windows local account name." }),
    number: t.exposeInt("number", { nullable: true, description: "TECHNICIAN: the technician's stable number in this customer." }),
    technicianId: t.exposeID("technicianId", { nullable: true, description: "TECHNICIAN: whose account it is." }),
    workstationCount: t.relationCount("workstations", { description: "WORKSTATION: how many workstations use it." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was added; for the shared account, when it got its current name." }),
  }),
});

type SettingsShape = EffectiveElevationSettings & { sharedAccountName: string | null };

const ElevatedAccessSettings = builder.objectRef<SettingsShape>("ElevatedAccessSettings").implement({
  description: "A customer's elevated access: the account technicians get, and how long and how safely they keep it.",
  fields: (t) => ({
    configured: t.boolean({ description: "Whether a shared account is chosen: without one, nobody can elevate here.", resolve: (settings) => settings.sharedAccountName !== null }),
    sharedAccountName: t.exposeString("sharedAccountName", { nullable: true, description: "The default local admin account, e.g. `LatchkeyAdmin`." }),
    technicianAccountPrefix: t.exposeString("technicianAccountPrefix", {
      nullable: true,
      description: "When set, each technician gets a named account `<prefix><n>` instead (n stable per technician), so the workstation's own logs tell them apart.",
    }),
    manageBuiltInAdministrator: t.exposeBoolean("manageBuiltInAdministrator", { description: "Whether the built-in Administrator (RID 500) may be the account. Off by default." }),
    maxSessionMinutes: t.exposeInt("maxSessionMinutes", { description: "The longest session, 1–480 minutes (default 10)." }),
    passwordLength: t.exposeInt("passwordLength", { description: "Length of the passwords the agent generates, 14–127." }),
    passwordCharacters: t.expose("passwordCharacters", { type: ElevationPasswordCharacters, description: "The characters of the passwords the agent generates (default ALPHANUMERIC_SYMBOLS)." }),
    restartAfterSession: t.boolean({ description: "Whether the workstation restarts after a session ends.", resolve: (settings) => settings.restartGraceMinutes !== null }),
    restartGraceMinutes: t.exposeInt("restartGraceMinutes", { nullable: true, description: "Minutes between a session's end and the restart." }),
    minimumAgentVersion: t.exposeString("minimumAgentVersion", { nullable: true, description: "Agents older than this may not start elevations." }),
    accounts: t.prismaField({
      type: ["ElevationAccount"],
      description: "Every elevation account of the customer: shared, per workstation, named.",
      resolve: (query, settings, _args, ctx) =>
        ctx.db.elevationAccount.findMany({ ...query, where: { tenantId: settings.tenantId }, orderBy: [{ kind: "asc" }, { number: "asc" }, { name: "asc" }] }),
    }),
  }),
});

export async function loadElevatedAccessSettings(db: Parameters<typeof elevationSettingsOf>[0], tenantId: string): Promise<SettingsShape> {
  const [settings, shared] = await Promise.all([
    elevationSettingsOf(db, tenantId),
    db.elevationAccount.findFirst({ where: { tenantId, kind: "SHARED" }, select: { name: true } }),
  ]);
  return { ...settings, sharedAccountName: shared?.name ?? null };
}

builder.prismaObjectFields("Tenant", (t) => ({
  elevatedAccess: t.field({
    type: ElevatedAccessSettings,
    nullable: true,
    description: "A customer's elevated-access settings; null for an MSP and unless the viewer administers the customer.",
    resolve: async (tenant, _args, ctx) => {
      if (tenant.kind !== "CUSTOMER" || !(await ctx.access.canAdministerTenant(tenant.id))) return null;
      return loadElevatedAccessSettings(ctx.db, tenant.id);
    },
  }),
}));

export const TechnicianSession = builder.prismaObject("TechnicianSession", {
  interfaces: [NodeInterface],
  description: "One elevation of a technician on a customer's workstation, from request to end.",
  authScopes: (session) => ({ $any: { tenantAdmin: session.tenantId, workstation: session.workstationId } }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "The technician session's id." }),
    status: t.expose("status", { type: TechnicianSessionStatus, description: "Where it is: REQUESTED, APPROVED, STARTED or ENDED." }),
    active: t.boolean({ description: "Approved or started, and not past its end.", resolve: (session) => (OPEN_STATUSES as readonly string[]).includes(session.status) }),
    customer: t.prismaField({
      type: "Tenant",
      description: "The customer tenant of the workstation.",
      resolve: (query, session, _args, ctx) => ctx.db.tenant.findUniqueOrThrow({ ...query, where: { id: session.tenantId } }),
    }),
    workstationId: t.exposeID("workstationId", { description: "The workstation the technician is elevated on." }),
    workstationName: t.exposeString("workstationName", { description: "The workstation's admin-given name when the request was made." }),
    mode: t.expose("mode", { type: ElevationMode, description: "At the login screen or inside a running Windows session." }),
    accountName: t.exposeString("accountName", { nullable: true, description: "The local admin account; for a named account, set once a technician scanned." }),
    requestedMinutes: t.exposeInt("requestedMinutes", { description: "The session's length in minutes, fixed when the workstation asked." }),
    actualSeconds: t.int({ nullable: true, description: "How long it really lasted (or has lasted so far, once ended).", resolve: (session) => actualSeconds(session) }),
    sessionUser: t.exposeString("sessionUser", { nullable: true, description: "IN_SESSION: the Windows user signed in where the technician elevated." }),
    sessionRemote: t.exposeBoolean("sessionRemote", { nullable: true, description: "IN_SESSION: whether that Windows session is remote (RDP) rather than at the console." }),
    technicianId: t.exposeID("technicianId", {
      nullable: true,
      description: "The approving technician's user id; null until one approves (with named accounts, set when one scans).",
    }),
    technicianName: t.exposeString("technicianLabel", { nullable: true, description: "The approving technician, as `First Last <email>`." }),
    agentVersion: t.exposeString("agentVersion", { nullable: true, description: "The agent's version as it reported it when asking; null when it did not say." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the workstation asked." }),
    approvedAt: t.expose("approvedAt", { type: "DateTime", nullable: true, description: "When a technician approved on their phone; null until then, and for a request nobody approved." }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true, description: "When the workstation signed the account in, by its clock." }),
    endsAt: t.expose("endsAt", { type: "DateTime", nullable: true, description: "When it ends at the latest." }),
    endedAt: t.expose("endedAt", {
      type: "DateTime",
      nullable: true,
      description: "When it ended, by the server's clock (for EXPIRED, the end it was due); null while it has not ended.",
    }),
    endReason: t.expose("endReason", { type: TechnicianSessionEndReason, nullable: true, description: "Why it ended; null until ENDED." }),
    endedByName: t.exposeString("endedByLabel", { nullable: true, description: "Who ended it, when a person did." }),
    endNote: t.exposeString("endNote", { nullable: true, description: "The reason given by whoever ended it." }),
    terminatedAt: t.expose("terminatedAt", { type: "DateTime", nullable: true, description: "When the workstation reported it had terminated the session, by its clock." }),
  }),
});

export type { ElevationScanShape };

const ElevationScan = builder.objectRef<ElevationScanShape>("ElevationScan").implement({
  description: "The elevation a scanned code asks for, shown on the technician's phone; the approval signs all of it (latchkey-elevation-v1).",
  fields: (t) => ({
    workstationId: t.exposeID("workstationId", { description: "The workstation asking." }),
    workstationName: t.exposeString("workstationName", { description: "The workstation's admin-given name." }),
    mode: t.expose("mode", { type: ElevationMode, description: "At the login screen or inside a running Windows session." }),
    account: t.exposeString("account", { description: "The local admin account the technician will be." }),
    minutes: t.exposeInt("minutes", { description: "How long the session lasts, in minutes." }),
    sessionUser: t.exposeString("sessionUser", { nullable: true, description: "IN_SESSION: the Windows user signed in there." }),
    sessionRemote: t.exposeBoolean("sessionRemote", { nullable: true, description: "IN_SESSION: whether that session is remote or at the console." }),
  }),
});

builder.objectFields(ChallengeScan, (t) => ({
  elevation: t.field({
    type: ElevationScan,
    nullable: true,
    description: "ELEVATED_ACCESS: what is asked for.",
    resolve: (scan) => (scan as { elevation?: ElevationScanShape | null }).elevation ?? null,
  }),
}));

export const ElevationRequestInput = builder.inputType("ElevationRequestInput", {
  description: "ELEVATED_ACCESS: what the workstation asks for, fixed for the whole elevation.",
  fields: (t) => ({
    mode: t.field({ type: ElevationMode, required: true, description: "At the login screen (SIGN_IN) or inside the running Windows session (IN_SESSION, which needs `sessionUser` and `sessionRemote`)." }),
    minutes: t.int({ description: "Session length; at most the customer's maximum, which is also the default." }),
    sessionUser: t.string({ description: "IN_SESSION: the Windows user signed in." }),
    sessionRemote: t.boolean({ description: "IN_SESSION: whether that session is remote (RDP)." }),
    agentVersion: t.string({ description: "The agent's version; the customer may require a minimum." }),
  }),
});

export const ElevationInstruction = builder.objectRef<ElevationInstructionShape>("ElevationInstruction").implement({
  description:
    "What the workstation must do: ensure local admin account `accountName` and run technician session `sessionId` of `minutes` for `technicianId`. " +
    "Verify `signature` with `devicePublicKey` over the latchkey-elevation-v1 bytes before acting. The agent generates the account's password itself.",
  fields: (t) => ({
    sessionId: t.exposeID("sessionId", { description: "The technician session to run; report it with reportTechnicianSession." }),
    challengeId: t.exposeID("challengeId", { description: "The approved ELEVATED_ACCESS challenge; part of the signed bytes." }),
    tenantId: t.exposeID("tenantId", { description: "The customer tenant; part of the signed bytes." }),
    workstationId: t.exposeID("workstationId", { description: "This workstation; part of the signed bytes." }),
    mode: t.expose("mode", { type: ElevationMode, description: "Where to elevate, as the workstation asked; part of the signed bytes." }),
    accountName: t.exposeString("accountName", { description: "The local admin account to ensure and sign in; part of the signed bytes." }),
    accountKind: t.expose("accountKind", { type: ElevationAccountKind, description: "Whether the account is the customer's shared one, this workstation's own, or the technician's named one." }),
    builtInAdministrator: t.exposeBoolean("builtInAdministrator", { description: "Whether the account is the built-in Administrator, which the customer allowed." }),
    minutes: t.exposeInt("minutes", { description: "The session's length in minutes; part of the signed bytes." }),
    technicianId: t.exposeID("technicianId", { description: "The approving technician's user id; part of the signed bytes." }),
    technicianName: t.exposeString("technicianName", { description: "The approving technician, as `First Last <email>`, for the workstation's logs." }),
    deviceId: t.exposeID("deviceId", { description: "The approving phone (authenticator)." }),
    deviceAlgorithm: t.expose("deviceAlgorithm", { type: DeviceKeyAlgorithm, description: "The phone key's algorithm." }),
    devicePublicKey: t.exposeString("devicePublicKey", { description: "The phone's public key, SPKI DER in base64." }),
    signature: t.exposeString("signature", { description: "The phone's signature over the latchkey-elevation-v1 bytes, base64url." }),
    secretHash: t.exposeString("secretHash", { description: "base64url(SHA-256(QR secret)), as signed; the agent recomputes it from the code it showed." }),
    passwordLength: t.exposeInt("passwordLength", { description: "Length of the passwords the agent generates for the account, 14–127." }),
    passwordCharacters: t.expose("passwordCharacters", { type: ElevationPasswordCharacters, description: "The characters the agent draws those passwords from." }),
    restartGraceMinutes: t.exposeInt("restartGraceMinutes", { nullable: true, description: "Restart this long after the session ends; null: no restart." }),
    endsAt: t.expose("endsAt", { type: "DateTime", description: "The server's end of the session; the agent times it from its own start." }),
  }),
});

export const WorkstationCommand = builder.prismaObject("WorkstationCommand", {
  description: "Something a workstation's agent must do, kept until it acknowledges it.",
  authScopes: (command) => ({ $any: { workstation: command.workstationId, tenantAdmin: command.tenantId } }),
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id", { description: "The command's id, to acknowledge it with acknowledgeWorkstationCommand." }),
    kind: t.expose("kind", { type: WorkstationCommandKind, description: "What to do." }),
    sessionId: t.exposeID("sessionId", { nullable: true, description: "END_TECHNICIAN_SESSION: the technician session to terminate; null for other kinds." }),
    reason: t.field({
      type: TechnicianSessionEndReason,
      nullable: true,
      description: "END_TECHNICIAN_SESSION: why it ends.",
      resolve: (command) => (command.kind === "END_TECHNICIAN_SESSION" ? (command.reason as never) : null),
    }),
    accountName: t.exposeString("accountName", { nullable: true, description: "ROTATE_ACCOUNT_PASSWORD: the local admin account." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was issued." }),
    acknowledgedAt: t.expose("acknowledgedAt", { type: "DateTime", nullable: true, description: "When the agent acknowledged it; null while pending." }),
  }),
});

builder.prismaObjectFields("Workstation", (t) => ({
  elevationAccount: t.prismaField({
    type: "ElevationAccount",
    nullable: true,
    description: "The account technicians get here: its own, else the customer's shared one (null when none is set). Named accounts, when on, take precedence.",
    resolve: async (query, workstation, _args, ctx) => {
      const own = await ctx.db.workstationAccount.findUnique({ where: { workstationId: workstation.id }, select: { accountId: true } });
      if (own) return ctx.db.elevationAccount.findUnique({ ...query, where: { id: own.accountId } });
      return ctx.db.elevationAccount.findFirst({ ...query, where: { tenantId: workstation.tenantId, kind: "SHARED" } });
    },
  }),
  hasOwnElevationAccount: t.boolean({
    description: "Whether the workstation has an account of its own rather than the shared one.",
    resolve: async (workstation, _args, ctx) => (await ctx.db.workstationAccount.count({ where: { workstationId: workstation.id } })) > 0,
  }),
  activeTechnicianSession: t.prismaField({
    type: "TechnicianSession",
    nullable: true,
    description: "The technician session open here now, if any.",
    resolve: (query, workstation, _args, ctx) =>
      ctx.db.technicianSession.findFirst({
        ...query,
        where: { workstationId: workstation.id, status: { in: [...OPEN_STATUSES] }, endsAt: { gt: new Date(ctx.clock.now()) } },
        orderBy: { createdAt: "desc" },
      }),
  }),
}));

export { Workstation };
