// A username becomes a Windows local account on every workstation of the
// tenant, so it follows @latchkey/account-names: the rules the desktop agent
// applies too, Windows' comparison (each code point upper-cased on its own)
// and Unicode's look-alike skeletons.
import { accountNameProblem, accountNameSkeletons, foldAccountName } from "@latchkey/account-names";
import type { Prisma } from "@latchkey/db";
import { z } from "zod";

export const username = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = accountNameProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem.message });
  });

/** What username lookups compare: the name as Windows compares account names. */
export function usernameKey(value: string) {
  return foldAccountName(value.trim());
}

/** The rows that claim `name`'s look of the tenant (see the UsernameSkeleton model). */
export function usernameSkeletonRows(tenantId: string, userId: string, name: string): Prisma.UsernameSkeletonCreateManyInput[] {
  return accountNameSkeletons(name).map((skeleton) => ({ tenantId, userId, skeleton }));
}

/**
 * A condition for the users of `tenantId` whose username is `name` to Windows
 * or looks like it: what a new account name of that tenant must not match.
 */
export function sameOrLookalikeUsername(tenantId: string, name: string): Prisma.UserWhereInput {
  return {
    tenantId,
    OR: [
      { usernameKey: usernameKey(name) },
      { usernameSkeletons: { some: { tenantId, skeleton: { in: accountNameSkeletons(name) } } } },
    ],
  };
}

export function emailKey(value: string) {
  return value.trim().toLowerCase();
}
