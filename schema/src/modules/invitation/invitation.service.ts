// Invitations: how a user links their first phone without an admin at their
// elbow. An admin invites a user; the user's email carries a code (valid 7 days,
// single use, kept only as a keyed hash); in the authenticator they verify that
// same email and present the code, and the phone is linked to them. Linking
// signs nobody in: the phone then approves sign-ins like any other, once
// approved where the rules of linkDevice ask for it.
import { randomInt, timingSafeEqual } from "node:crypto";
import type { Prisma } from "@latchkey/db";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { ConflictError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { parseInput } from "../../validation.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { linkDevice } from "../authenticator/authenticator.service.ts";
import { findManagedUser } from "../user/user.service.ts";

export const INVITATION_DAYS = 7;
/** Wrong codes one invitation takes before it is spent: a new one must be sent. */
export const INVITATION_MAX_ATTEMPTS = 5;

/** Crockford's base32: no I, L, O or U, so what is read aloud or retyped survives. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LENGTH = 12;

/** A fresh code, 60 random bits, written XXXX-XXXX-XXXX. */
function newInvitationCode(): string {
  const chars = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]!).join("");
  return chars.match(/.{4}/g)!.join("-");
}

/** What a person may have typed for a code: any case, hyphens or spaces, O for 0, I or L for 1. */
function normalisedCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
}

/** Bound to the invited user, so a code is worth nothing for anyone else. */
function codeHash(ctx: Pick<Context, "config">, userId: string, code: string) {
  return ctx.config.hashEmailCode(`invitation:${userId}`, normalisedCode(code));
}

/**
 * Invites a user the viewer manages: a new code by email, replacing any earlier
 * one. Asking again is how an admin resends it.
 */
export async function inviteUser(ctx: Context, input: { userId: string }) {
  const user = await findManagedUser(ctx, input.userId);
  if (user.status !== "ACTIVE") throw new ConflictError("Enable this user before inviting them");
  const tenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: user.tenantId }, select: { slug: true, displayName: true } });
  const code = newInvitationCode();
  const now = ctx.clock.now();
  const expiresAt = new Date(now + INVITATION_DAYS * 24 * 3600_000);
  const { invitation, event } = await ctx.db.$transaction(async (tx) => {
    await tx.invitation.updateMany({ where: { userId: user.id, usedAt: null, replacedAt: null }, data: { replacedAt: new Date(now) } });
    const invitation = await tx.invitation.create({
      data: { userId: user.id, tenantId: user.tenantId, codeHash: codeHash(ctx, user.id, code), expiresAt, createdById: ctx.viewer?.userId ?? null },
    });
    const signIn = `${ctx.config.portalUrl}/login?tenant=${encodeURIComponent(tenant.slug)}`;
    await ctx.jobs.enqueue(
      "mail.send",
      {
        to: user.email,
        subject: `You are invited to sign in to ${tenant.displayName} with your phone`,
        text:
          `Hello ${user.firstName},\n\n` +
          `${tenant.displayName} uses Latchkey: your phone approves your sign-ins, on the web and at your workstations.\n\n` +
          `1. Install the Latchkey authenticator on your phone.\n` +
          `2. In it, verify this email address (${user.email}).\n` +
          `3. Enter your invitation code: ${code}\n\n` +
          `Your organisation is ${tenant.slug}; sign in at ${signIn}\n\n` +
          `The code works once, until ${expiresAt.toISOString()}. If you did not expect this, tell your IT provider.\n`,
      },
      { tx },
    );
    const event = await recordAudit(tx, ctx, { tenantId: user.tenantId, action: "user.invited", targetType: "User", targetId: user.id, data: { expiresAt } });
    return { invitation, event };
  });
  publishAudit(ctx, [event]);
  return { user, expiresAt: invitation.expiresAt };
}

const redeemInput = z.object({ code: z.string().trim().min(1, "Enter the invitation code").max(40, "Enter the invitation code") });

/**
 * A phone that verified its user's email presents the code from their
 * invitation, and is linked to them. A phone whose address matches no invited
 * user hears so plainly; wrong codes spend the invitation.
 */
export async function redeemInvitation(ctx: Context, input: { code: string }) {
  const device = ctx.device;
  if (!device) throw new UnauthenticatedError("Verify your email on this phone first");
  const data = parseInput(redeemInput, input);
  await ctx.limits.consume("emailVerifyPerIp", ctx.request.ip);
  const now = new Date(ctx.clock.now());
  const invitation = await ctx.db.invitation.findFirst({
    where: {
      usedAt: null,
      replacedAt: null,
      expiresAt: { gt: now },
      attempts: { lt: INVITATION_MAX_ATTEMPTS },
      user: { status: "ACTIVE", OR: [{ emailKey: device.verifiedEmail }, { personalEmail: { equals: device.verifiedEmail, mode: "insensitive" } }] },
    },
    orderBy: { createdAt: "desc" },
    include: { user: true },
  });
  if (!invitation) {
    throw new NotFoundError("Invitation", `No invitation waits for ${device.verifiedEmail}: ask your admin to invite you, or to send a new invitation`);
  }
  if (device.userId && device.userId !== invitation.userId) throw new ConflictError("This phone is already linked to another user");
  // Counted before the comparison, so parallel guesses share one budget.
  const counted = await ctx.db.invitation.updateMany({
    where: { id: invitation.id, usedAt: null, attempts: { lt: INVITATION_MAX_ATTEMPTS } },
    data: { attempts: { increment: 1 } },
  });
  const expected = Buffer.from(invitation.codeHash, "hex");
  const given = Buffer.from(codeHash(ctx, invitation.userId, data.code), "hex");
  if (counted.count !== 1 || expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw ValidationError.field("code", "This invitation code is not right; check the email, or ask for a new invitation");
  }
  const user = invitation.user;
  const result = await ctx.db.$transaction(async (tx: Prisma.TransactionClient) => {
    const used = await tx.invitation.updateMany({ where: { id: invitation.id, usedAt: null }, data: { usedAt: now } });
    if (used.count !== 1) return null;
    return linkDevice(tx, ctx, device.authenticatorId, user, now, { via: "invitation" });
  });
  if (!result) throw new ConflictError("This invitation was already used");
  ctx.device = { ...device, userId: user.id, approved: result.authenticator.approvedAt !== null };
  publishAudit(ctx, [result.event]);
  return result.authenticator;
}
