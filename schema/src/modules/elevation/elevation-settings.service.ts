// A customer's elevated-access settings ("Configure shared account") and the
// per-workstation account. Every change is audited with the tenant's other
// settings, and the name rules of elevation-accounts.ts apply.
import { accountNameProblem, accountNameSkeletons, foldAccountName } from "@latchkey/account-names";
import type { ElevationSettings, Prisma } from "@latchkey/db";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { ConflictError, ValidationError } from "../../errors.ts";
import { parseInput } from "../../validation.ts";
import { auditedChange } from "../audit/audit.service.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";
import { findAdministeredWorkstation } from "../workstation/workstation.service.ts";
import {
  dropUnusedWorkstationAccounts,
  MAX_PREFIX_LENGTH,
  sameOrLookalikeElevationAccount,
  setSharedAccount,
  workstationAccount,
} from "./elevation-accounts.ts";
import { sameOrLookalikeUsername } from "../user/user-names.ts";

/** What a tenant without a settings row gets (the row's column defaults). */
export const DEFAULT_ELEVATION_SETTINGS = {
  technicianAccountPrefix: null,
  manageBuiltInAdministrator: false,
  maxSessionMinutes: 10,
  passwordLength: 24,
  passwordCharacters: "ALPHANUMERIC_SYMBOLS",
  restartGraceMinutes: null,
  minimumAgentVersion: null,
} as const satisfies Omit<ElevationSettings, "tenantId" | "updatedAt">;

export const SESSION_MINUTES = { min: 1, max: 480 };
export const PASSWORD_LENGTH = { min: 14, max: 127 };

export async function elevationSettingsOf(db: Prisma.TransactionClient, tenantId: string) {
  const row = await db.elevationSettings.findUnique({ where: { tenantId } });
  return row ?? { tenantId, updatedAt: null, ...DEFAULT_ELEVATION_SETTINGS };
}

export type EffectiveElevationSettings = Awaited<ReturnType<typeof elevationSettingsOf>>;

const semver = /^\d+\.\d+\.\d+$/;

const settingsInput = z.object({
  tenantId: z.string(),
  sharedAccountName: z.string().trim().min(1, "Required").max(40).nullish(),
  // An empty string switches named accounts off.
  technicianAccountPrefix: z
    .string()
    .trim()
    .max(MAX_PREFIX_LENGTH, `Use at most ${MAX_PREFIX_LENGTH} characters, so the number fits in Windows' 20`)
    .refine((value) => value === "" || !/\d$/.test(value), "End the prefix with a letter or symbol, so numbers cannot run into it")
    .refine((value) => value === "" || accountNameProblem(`${value}1`) === null, "Windows would not accept account names with this prefix")
    .nullish(),
  manageBuiltInAdministrator: z.boolean().nullish(),
  maxSessionMinutes: z.number().int().min(SESSION_MINUTES.min, `At least ${SESSION_MINUTES.min}`).max(SESSION_MINUTES.max, `At most ${SESSION_MINUTES.max}`).nullish(),
  passwordLength: z.number().int().min(PASSWORD_LENGTH.min, `At least ${PASSWORD_LENGTH.min}`).max(PASSWORD_LENGTH.max, `At most ${PASSWORD_LENGTH.max}`).nullish(),
  passwordCharacters: z.enum(["ALPHANUMERIC", "ALPHANUMERIC_SYMBOLS"]).nullish(),
  restartAfterSession: z.boolean().nullish(),
  restartGraceMinutes: z.number().int().min(0, "At least 0").max(120, "At most 120").nullish(),
  minimumAgentVersion: z.string().trim().refine((value) => value === "" || semver.test(value), "A version like 1.4.0").nullish(),
});

/** Creates or changes a customer's settings; absent fields keep their value. The first call must name the shared account. */
export async function updateElevatedAccessSettings(ctx: Context, input: z.input<typeof settingsInput>) {
  const data = parseInput(settingsInput, input);
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  if (tenant.kind !== "CUSTOMER") throw ValidationError.field("tenantId", "Elevated access is set per customer tenant");
  return auditedChange(ctx, async (tx) => {
    const current = await elevationSettingsOf(tx, tenant.id);
    const shared = await tx.elevationAccount.findFirst({ where: { tenantId: tenant.id, kind: "SHARED" } });
    if (!shared && !data.sharedAccountName) throw ValidationError.field("sharedAccountName", "Choose the shared local admin account first");
    const manageBuiltIn = data.manageBuiltInAdministrator ?? current.manageBuiltInAdministrator;
    const sharedName = data.sharedAccountName ?? shared!.name;
    if (!manageBuiltIn && foldAccountName(sharedName) === foldAccountName("Administrator")) {
      throw ValidationError.field("sharedAccountName", "The built-in Administrator may be used only with manageBuiltInAdministrator on");
    }
    await setSharedAccount(tx, tenant.id, sharedName, manageBuiltIn);
    const prefix = data.technicianAccountPrefix === undefined || data.technicianAccountPrefix === null ? current.technicianAccountPrefix : data.technicianAccountPrefix || null;
    if (prefix !== current.technicianAccountPrefix && prefix !== null) await renameTechnicianAccounts(tx, tenant.id, prefix);
    const restartGraceMinutes =
      data.restartAfterSession === false ? null : data.restartAfterSession === true ? (data.restartGraceMinutes ?? current.restartGraceMinutes ?? 5) : (data.restartGraceMinutes ?? current.restartGraceMinutes);
    const values = {
      technicianAccountPrefix: prefix,
      manageBuiltInAdministrator: manageBuiltIn,
      maxSessionMinutes: data.maxSessionMinutes ?? current.maxSessionMinutes,
      passwordLength: data.passwordLength ?? current.passwordLength,
      passwordCharacters: data.passwordCharacters ?? current.passwordCharacters,
      restartGraceMinutes,
      minimumAgentVersion: data.minimumAgentVersion === undefined || data.minimumAgentVersion === null ? current.minimumAgentVersion : data.minimumAgentVersion || null,
    };
    const settings = await tx.elevationSettings.upsert({ where: { tenantId: tenant.id }, create: { tenantId: tenant.id, ...values }, update: values });
    return {
      result: settings,
      audit: {
        tenantId: tenant.id,
        action: "elevation.settingsChanged",
        targetType: "Tenant",
        targetId: tenant.id,
        data: { sharedAccountName: sharedName, ...values },
      },
    };
  });
}

/** Named accounts keep their numbers under a new prefix; a new name must be free like any other. */
async function renameTechnicianAccounts(tx: Prisma.TransactionClient, tenantId: string, prefix: string) {
  const accounts = await tx.elevationAccount.findMany({ where: { tenantId, kind: "TECHNICIAN" } });
  for (const account of accounts) {
    const name = `${prefix}${account.number}`;
    const user = await tx.user.findFirst({ where: sameOrLookalikeUsername(tenantId, name), select: { username: true } });
    const other = await tx.elevationAccount.findFirst({ where: { AND: [sameOrLookalikeElevationAccount(tenantId, name), { id: { not: account.id } }] }, select: { name: true } });
    if (user || other) throw new ConflictError(`"${name}" is, or looks like, "${user?.username ?? other?.name}" already used here`, "technicianAccountPrefix");
    await tx.elevationAccountSkeleton.deleteMany({ where: { accountId: account.id } });
    await tx.elevationAccount.update({ where: { id: account.id }, data: { name, nameKey: foldAccountName(name) } });
    await tx.elevationAccountSkeleton.createMany({ data: accountNameSkeletons(name).map((skeleton) => ({ tenantId, skeleton, accountId: account.id })) });
  }
}

const assignInput = z.object({ workstationId: z.string(), accountName: z.string().trim().max(40).nullish() });

/** Gives one workstation its own account, or (null or empty) back to the customer's shared one. */
export async function assignWorkstationAccount(ctx: Context, input: z.input<typeof assignInput>) {
  const data = parseInput(assignInput, input);
  const workstation = await findAdministeredWorkstation(ctx, data.workstationId);
  return auditedChange(ctx, async (tx) => {
    const settings = await elevationSettingsOf(tx, workstation.tenantId);
    await tx.workstationAccount.deleteMany({ where: { workstationId: workstation.id } });
    if (data.accountName) {
      const account = await workstationAccount(tx, workstation.tenantId, data.accountName, settings.manageBuiltInAdministrator);
      await tx.workstationAccount.create({ data: { workstationId: workstation.id, tenantId: workstation.tenantId, accountId: account.id } });
    }
    await dropUnusedWorkstationAccounts(tx, workstation.tenantId);
    return {
      result: workstation,
      audit: {
        tenantId: workstation.tenantId,
        action: "elevation.workstationAccountAssigned",
        targetType: "Workstation",
        targetId: workstation.id,
        data: { accountName: data.accountName || null },
      },
    };
  });
}
