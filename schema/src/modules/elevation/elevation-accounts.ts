// The local admin accounts technicians are elevated into: the customer's
// shared account, a workstation's own, or a technician's named `<prefix><n>`.
// Each becomes a Windows account on the customer's workstations, beside the
// directory's users, so no two may be the same to Windows or look alike: an
// elevation account is refused when it matches a username or another elevation
// account of the tenant, and createUser refuses a username that matches an
// elevation account (see refuseElevationAccountName).
import { accountNameProblem, accountNameSkeletons, foldAccountName, MAX_ACCOUNT_NAME_LENGTH, quoteAccountName } from "@latchkey/account-names";
import type { ElevationAccount, ElevationAccountKind, Prisma } from "@latchkey/db";
import { ConflictError, ValidationError } from "../../errors.ts";
import { sameOrLookalikeUsername } from "../user/user-names.ts";

type Db = Prisma.TransactionClient;

/** The built-in Administrator (RID 500), as Windows compares names. */
export const BUILT_IN_ADMINISTRATOR_KEY = foldAccountName("Administrator");

export function isBuiltInAdministrator(name: string) {
  return foldAccountName(name.trim()) === BUILT_IN_ADMINISTRATOR_KEY;
}

/** Why `name` cannot be an elevation account at all (Windows' rules, reserved names), or null. */
export function elevationNameProblem(name: string, allowBuiltInAdministrator: boolean): string | null {
  if (allowBuiltInAdministrator && name === "Administrator") return null;
  if (isBuiltInAdministrator(name)) return "The built-in Administrator is used only when the setting to manage it is on, spelled Administrator";
  const problem = accountNameProblem(name);
  return problem ? `${quoteAccountName(name)}: ${problem.message}` : null;
}

/** Elevation accounts of the tenant whose name is `name` to Windows or looks like it. */
export function sameOrLookalikeElevationAccount(tenantId: string, name: string): Prisma.ElevationAccountWhereInput {
  return {
    tenantId,
    OR: [{ nameKey: foldAccountName(name.trim()) }, { skeletons: { some: { tenantId, skeleton: { in: accountNameSkeletons(name) } } } }],
  };
}

/** For createUser and renames: a username may not be, or look like, an elevation account of its tenant. */
export async function refuseElevationAccountName(db: Db, tenantId: string, username: string) {
  const account = await db.elevationAccount.findFirst({ where: sameOrLookalikeElevationAccount(tenantId, username), select: { name: true } });
  if (account) {
    throw new ConflictError(`This username is, or looks like, the local admin account "${account.name}" that technicians use here`, "username");
  }
}

/**
 * Refuses `name` for a new elevation account of the tenant when a user or
 * another elevation account has it or looks like it. `reuse` names an existing
 * account that may be matched exactly (a workstation given the account another
 * workstation already has).
 */
async function refuseTakenName(db: Db, tenantId: string, name: string, path: string, reuse?: (account: ElevationAccount) => boolean) {
  const user = await db.user.findFirst({ where: sameOrLookalikeUsername(tenantId, name), select: { username: true } });
  if (user) throw new ConflictError(`"${name}" is, or looks like, the directory user "${user.username}"`, path);
  const account = await db.elevationAccount.findFirst({ where: sameOrLookalikeElevationAccount(tenantId, name) });
  if (account && !(reuse?.(account) ?? false)) {
    throw new ConflictError(`"${name}" is, or looks like, the local admin account "${account.name}" already used here`, path);
  }
  return account;
}

async function createAccount(db: Db, data: { tenantId: string; kind: ElevationAccountKind; name: string; technicianId?: string; number?: number }) {
  const account = await db.elevationAccount.create({
    data: { ...data, nameKey: foldAccountName(data.name) },
  });
  await db.elevationAccountSkeleton.createMany({
    data: accountNameSkeletons(data.name).map((skeleton) => ({ tenantId: data.tenantId, skeleton, accountId: account.id })),
  });
  return account;
}

/** Makes `name` the tenant's shared account (renaming it when there is one). */
export async function setSharedAccount(db: Db, tenantId: string, name: string, allowBuiltInAdministrator: boolean) {
  const problem = elevationNameProblem(name, allowBuiltInAdministrator);
  if (problem) throw ValidationError.field("sharedAccountName", problem);
  const current = await db.elevationAccount.findFirst({ where: { tenantId, kind: "SHARED" } });
  if (current?.name === name) return current;
  await refuseTakenName(db, tenantId, name, "sharedAccountName", (account) => account.id === current?.id);
  if (current) await db.elevationAccount.delete({ where: { id: current.id } });
  return createAccount(db, { tenantId, kind: "SHARED", name });
}

/** The account a workstation gets instead of the shared one; an exact name already given to another workstation is shared. */
export async function workstationAccount(db: Db, tenantId: string, name: string, allowBuiltInAdministrator: boolean) {
  const problem = elevationNameProblem(name, allowBuiltInAdministrator);
  if (problem) throw ValidationError.field("accountName", problem);
  const existing = await refuseTakenName(db, tenantId, name, "accountName", (account) => account.kind === "WORKSTATION" && account.name === name);
  return existing ?? createAccount(db, { tenantId, kind: "WORKSTATION", name });
}

/** Removes workstation accounts no workstation uses any more, so their names are free again. */
export async function dropUnusedWorkstationAccounts(db: Db, tenantId: string) {
  await db.elevationAccount.deleteMany({ where: { tenantId, kind: "WORKSTATION", workstations: { none: {} } } });
}

export const MAX_PREFIX_LENGTH = MAX_ACCOUNT_NAME_LENGTH - 2;

/**
 * A technician's named account in this tenant: kept once made, so its number
 * stays the same and the workstation's own logs tell technicians apart. The
 * next free number is taken, skipping names a user or another account has.
 */
export async function technicianAccount(db: Db, tenantId: string, technicianId: string, prefix: string) {
  const existing = await db.elevationAccount.findFirst({ where: { tenantId, technicianId } });
  if (existing) return existing;
  const last = await db.elevationAccount.aggregate({ where: { tenantId, kind: "TECHNICIAN" }, _max: { number: true } });
  for (let number = (last._max.number ?? 0) + 1; ; number += 1) {
    const name = `${prefix}${number}`;
    if (name.length > MAX_ACCOUNT_NAME_LENGTH) throw new ConflictError("No more named accounts fit this prefix; choose a shorter one", "technicianAccountPrefix");
    const user = await db.user.findFirst({ where: sameOrLookalikeUsername(tenantId, name), select: { id: true } });
    const account = await db.elevationAccount.findFirst({ where: sameOrLookalikeElevationAccount(tenantId, name), select: { id: true } });
    if (user || account || accountNameProblem(name)) continue;
    return createAccount(db, { tenantId, kind: "TECHNICIAN", name, technicianId, number });
  }
}

/** The account an elevation on this workstation uses, before the technician is known: null means a named account. */
export async function accountForWorkstation(db: Db, tenantId: string, workstationId: string) {
  const assigned = await db.workstationAccount.findUnique({ where: { workstationId }, include: { account: true } });
  if (assigned) return assigned.account;
  return db.elevationAccount.findFirst({ where: { tenantId, kind: "SHARED" } });
}
