// Break-glass passwords: after every new password of a local admin account it
// manages, the desktop agent seals it to its tenant's public key and uploads
// the box (one current per workstation and account). The server cannot read
// it until an MSP admin of the owning MSP asks, approves on their own phone
// (a BREAK_GLASS_REVEAL challenge), and redeems the approval once: the box is
// opened with the escrowed tenant key, the reveal is audited and emailed to
// every admin of the MSP, and the workstation is told to rotate the password
// at its next contact.
//
// With the customer's master key on the server cannot open a box: the reveal
// is a key operation (REVEAL_BREAK_GLASS_PASSWORD) done on a holder's phone,
// which opens the box with its copy of the key and seals the password to a
// one-time key the browser made, whose SHA-256 the QR code carries. The
// server only carries the sealed result; the rest (audit, emails, rotation)
// is as above.
import type { Challenge, Prisma } from "@latchkey/db";
import { foldAccountName, MAX_ACCOUNT_NAME_LENGTH } from "@latchkey/account-names";
import { browserKeyHash, openBreakGlass, revealSubject, TENANT_PASSWORD_SUITE } from "@latchkey/passwords";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../errors.ts";
import { hashToken } from "../../security/tokens.ts";
import { base64urlText, isUuid, parseInput } from "../../validation.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { createChallenge, publishChallenge, readChallenge, sameHash } from "../challenge/challenge.service.ts";
import { requireWorkstation } from "../workstation/workstation.service.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";
import { viewerLabel } from "../session/session.service.ts";
import { publishWorkstationCommand } from "./workstation-command.service.ts";
import {
  checkKeyUseEvidence,
  holderCopy,
  requireDevice,
  scannedOperation,
  sealedInput,
  startKeyOperation,
  tenantKeyCustody,
} from "../tenant-key/master-key.service.ts";
import { holdEpoch, MasterKeyOnError } from "../../security/tenant-keys.ts";

type Db = Prisma.TransactionClient;

const wire = base64urlText;
const accountName = z
  .string()
  .trim()
  .min(1, "Name the account")
  .max(MAX_ACCOUNT_NAME_LENGTH, `Use at most ${MAX_ACCOUNT_NAME_LENGTH} characters`)
  .refine((name) => !name.includes("|"), "An account name has no '|'");

/** The workstation's tenant public key to seal to (a customer tenant's; made at the first call). */
export async function breakGlassSealingKey(ctx: Context) {
  const workstation = requireWorkstation(ctx);
  const tenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: workstation.tenantId }, select: { id: true, kind: true } });
  if (tenant.kind !== "CUSTOMER") throw new ForbiddenError("Only a customer's workstations keep break-glass passwords");
  const tenantKey = await ctx.tenantKeys.statementFor(ctx.db, tenant.id);
  return { tenantId: tenant.id, workstationId: workstation.id, publicKey: tenantKey.publicKey, tenantKey };
}

const uploadInput = z.object({
  account: accountName,
  rotation: z.number().int().min(1).max(2_000_000_000),
  // The tenant key epoch the agent sealed to (from the statement it verified).
  epoch: z.number().int().min(1).max(2_000_000_000).nullish(),
  sealed: z.object({
    suite: z.string().refine((suite) => suite === TENANT_PASSWORD_SUITE, `Seal with ${TENANT_PASSWORD_SUITE}`),
    enc: wire(64),
    ciphertext: wire(1024),
  }),
});

/**
 * Stores the box the calling workstation sealed for one of its accounts,
 * replacing the one before; an older rotation than the stored one is refused
 * (CONFLICT), so a replayed box never replaces a newer password.
 */
export async function uploadBreakGlassPassword(ctx: Context, input: unknown) {
  const workstation = requireWorkstation(ctx);
  const data = parseInput(uploadInput, input);
  const accountKey = foldAccountName(data.account);
  return ctx.db.$transaction(async (tx) => {
    const current = await tx.breakGlassPassword.findUnique({ where: { workstationId_accountKey: { workstationId: workstation.id, accountKey } } });
    if (current && current.rotation >= data.rotation) {
      throw new ConflictError(`Rotation ${data.rotation} is not newer than the stored rotation ${current.rotation}`);
    }
    // Stored only for the epoch it was sealed to: a switch of epoch meanwhile either waits for this box
    // (and re-seals it) or refuses it, never a box under the wrong epoch.
    const key = await tx.tenantKeyPair.findUnique({ where: { tenantId: workstation.tenantId }, select: { epoch: true } });
    const epoch = data.epoch ?? key?.epoch ?? null;
    if (epoch !== null && !(await holdEpoch(tx, workstation.tenantId, epoch))) {
      throw new ConflictError(`The tenant key is no longer at epoch ${epoch}: seal the next password to the current key`);
    }
    const fields = { accountName: data.account, rotation: data.rotation, epoch, ...data.sealed };
    return current
      ? tx.breakGlassPassword.update({ where: { id: current.id }, data: fields })
      : tx.breakGlassPassword.create({ data: { tenantId: workstation.tenantId, workstationId: workstation.id, accountKey, ...fields } });
  });
}

/**
 * The workstation, if the viewer is an admin of the MSP that owns its customer.
 * A technician of that MSP delegated to the customer gets FORBIDDEN; anyone
 * else NOT_FOUND, exactly as for a workstation that does not exist.
 */
async function revealableWorkstation(ctx: Context, workstationId: string) {
  const viewer = ctx.viewer!;
  const workstation = isUuid(workstationId)
    ? await ctx.db.workstation.findUnique({ where: { id: workstationId }, include: { tenant: { select: { id: true, parentId: true, kind: true } } } })
    : null;
  if (!workstation || workstation.tenant.kind !== "CUSTOMER" || viewer.tenantKind !== "MSP" || workstation.tenant.parentId !== viewer.tenantId) {
    throw new NotFoundError("Workstation");
  }
  if (viewer.role !== "ADMIN") {
    const delegated = await ctx.db.delegation.findFirst({ where: { technicianId: viewer.userId, customerId: workstation.tenantId }, select: { id: true } });
    if (!delegated) throw new NotFoundError("Workstation");
    throw new ForbiddenError("Only the MSP's admins reveal break-glass passwords");
  }
  return workstation;
}

async function storedBox(db: Db, workstationId: string, account: string) {
  const box = await db.breakGlassPassword.findUnique({ where: { workstationId_accountKey: { workstationId, accountKey: foldAccountName(account) } } });
  if (!box) throw new NotFoundError("Break-glass password");
  return box;
}

const startInput = z.object({ workstationId: z.string(), account: accountName });

/** What the phone shows and signs over. */
export function breakGlassRequest(account: string, workstationName: string) {
  return `reveal break-glass password for ${account} on ${workstationName}`;
}

/** Starts the phone approval of a reveal: a challenge only the asking admin's own linked phone may approve. */
export async function startBreakGlassReveal(ctx: Context, input: unknown) {
  const data = parseInput(startInput, input);
  const workstation = await revealableWorkstation(ctx, data.workstationId);
  const box = await storedBox(ctx.db, workstation.id, data.account);
  if ((await tenantKeyCustody(ctx.db, workstation.tenantId)) === "MASTER_KEY") {
    throw new ForbiddenError("The customer's master key is on: the server cannot open its break-glass passwords. Reveal it on a holder's phone (a key operation)");
  }
  await ctx.limits.consume("challengeStartPerIp", ctx.request.ip);
  return createChallenge(ctx.db, ctx.clock, ctx.config.challengeTtlSeconds, {
    tenantId: workstation.tenantId,
    kind: "BREAK_GLASS_REVEAL",
    requesterKind: "BROWSER",
    requesterName: breakGlassRequest(box.accountName, workstation.name),
    requesterIp: ctx.request.ip,
    requesterUserAgent: ctx.request.userAgent,
    targetUserId: ctx.viewer!.userId,
    workstationId: workstation.id,
    accountName: box.accountName,
  });
}

/** Only the admin who asked, still an active admin of the MSP that owns the customer. */
export async function mayRevealBreakGlass(db: Db, userId: string, challenge: Pick<Challenge, "targetUserId" | "tenantId">) {
  if (!challenge.targetUserId || challenge.targetUserId !== userId) return false;
  const user = await db.user.findUnique({ where: { id: userId }, include: { tenant: { select: { kind: true } } } });
  if (!user || user.status !== "ACTIVE" || user.role !== "ADMIN" || user.tenant.kind !== "MSP") return false;
  const customer = await db.tenant.findFirst({ where: { id: challenge.tenantId, kind: "CUSTOMER", parentId: user.tenantId }, select: { id: true } });
  return customer !== null;
}

const revealInput = z.object({ workstationId: z.string(), account: accountName, challengeId: z.string(), redeemSecret: z.string().max(200) });

/**
 * Redeems the admin's phone approval, once, for the account's current
 * password: opened with the escrowed tenant key, audited, emailed to all the
 * MSP's admins, and a ROTATE_ACCOUNT_PASSWORD command queued for the agent.
 */
export async function revealBreakGlassPassword(ctx: Context, input: unknown) {
  const data = parseInput(revealInput, input);
  const viewer = ctx.viewer!;
  const workstation = await revealableWorkstation(ctx, data.workstationId);
  const challenge = await readChallenge(ctx, data.challengeId);
  if (
    !challenge ||
    challenge.kind !== "BREAK_GLASS_REVEAL" ||
    !sameHash(challenge.redeemSecretHash, hashToken(data.redeemSecret)) ||
    challenge.targetUserId !== viewer.userId ||
    challenge.workstationId !== workstation.id ||
    foldAccountName(challenge.accountName ?? "") !== foldAccountName(data.account)
  ) {
    throw new NotFoundError("Challenge");
  }
  if (challenge.status !== "APPROVED") {
    throw new ConflictError(
      challenge.status === "CONSUMED" ? "This approval was already used" : `Approve the reveal on your phone first (the request is ${challenge.status.toLowerCase()})`,
    );
  }
  const admins = await ctx.db.user.findMany({ where: { tenantId: viewer.tenantId, role: "ADMIN", status: "ACTIVE" }, select: { email: true } });
  const result = await ctx.db.$transaction(async (tx) => {
    const consumed = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "APPROVED", approvedUserId: viewer.userId, expiresAt: { gt: new Date(ctx.clock.now()) } },
      data: { status: "CONSUMED", consumedAt: new Date() },
    });
    if (consumed.count !== 1) return null;
    if (!(await mayRevealBreakGlass(tx, viewer.userId, challenge))) throw new ForbiddenError("You may no longer reveal this password");
    const box = await storedBox(tx, workstation.id, data.account);
    const tenantPrivateKey = await ctx.tenantKeys.privateKey(tx, workstation.tenantId).catch((error: unknown) => {
      // Turned on since the check above: the same answer.
      if (error instanceof MasterKeyOnError) throw new ForbiddenError("The customer's master key is on: the server cannot open its break-glass passwords");
      throw error;
    });
    const password = await openBreakGlass({
      tenantPrivateKey,
      tenantId: workstation.tenantId,
      workstationId: workstation.id,
      account: box.accountName,
      rotation: box.rotation,
      sealed: { suite: box.suite, enc: box.enc, ciphertext: box.ciphertext },
    });
    const command = await tx.workstationCommand.create({
      data: { tenantId: workstation.tenantId, workstationId: workstation.id, kind: "ROTATE_ACCOUNT_PASSWORD", accountName: box.accountName },
    });
    const event = await recordAudit(tx, ctx, {
      tenantId: workstation.tenantId,
      action: "elevation.breakGlassRevealed",
      targetType: "Workstation",
      targetId: workstation.id,
      data: { workstation: workstation.name, account: box.accountName, rotation: box.rotation, challengeId: challenge.id, rotateCommandId: command.id },
    });
    const text =
      `${viewer.label} revealed the break-glass password of the local admin account ${box.accountName} on the workstation ` +
      `${workstation.name}, approved on their phone, at ${new Date(ctx.clock.now()).toISOString()}.\n\n` +
      `The workstation's agent will rotate the password at its next contact with the service.\n`;
    for (const admin of admins) {
      await ctx.jobs.enqueue("mail.send", { to: admin.email, subject: `Break-glass password revealed on ${workstation.name}`, text }, { tx });
    }
    return { password, rotation: box.rotation, account: box.accountName, command, event };
  });
  if (!result) throw new ConflictError("This approval was already used or has expired");
  publishAudit(ctx, [result.event]);
  publishChallenge(ctx, challenge.id);
  publishWorkstationCommand(ctx, result.command);
  return { password: result.password, account: result.account, rotation: result.rotation };
}

const phoneRevealInput = z.object({
  tenantId: z.string(),
  workstationId: z.string(),
  account: accountName,
  // The browser's one-time X25519 public key (raw, base64url) and its SHA-256, which the QR code carries.
  browserKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "Give the browser's X25519 public key, raw, base64url"),
  browserKeyHash: z.string(),
});

/**
 * Starts the reveal of a box on a holder's phone (master key on): a key
 * operation for an admin of the customer or of its MSP, naming the box and the
 * browser key the password is to be sealed to.
 */
export async function startPhoneReveal(ctx: Context, input: z.input<typeof phoneRevealInput>) {
  const data = parseInput(phoneRevealInput, input);
  // Who asks comes first: a tenant the viewer does not administer is NOT_FOUND, a technician FORBIDDEN,
  // before anything about the tenant's boxes is told.
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  if (ctx.viewer!.role !== "ADMIN") throw new ForbiddenError("Only an admin works with the master key");
  if ((await browserKeyHash(data.browserKey)) !== data.browserKeyHash) throw ValidationError.field("browserKeyHash", "Give the SHA-256 of browserKey");
  const workstation = isUuid(data.workstationId) ? await ctx.db.workstation.findFirst({ where: { id: data.workstationId, tenantId: tenant.id } }) : null;
  if (!workstation) throw new NotFoundError("Workstation");
  const box = await storedBox(ctx.db, workstation.id, data.account);
  return startKeyOperation(
    ctx,
    { tenantId: tenant.id, purpose: "REVEAL_BREAK_GLASS_PASSWORD", browserKeyHash: data.browserKeyHash },
    { workstationId: workstation.id, accountName: box.accountName, browserKey: data.browserKey, requesterName: breakGlassRequest(box.accountName, workstation.name) },
  );
}

const deliverInput = z.object({
  keyOperationId: z.string(),
  // The box's rotation the phone opened: a newer box uploaded meanwhile is CONFLICT.
  rotation: z.number().int().min(1).max(2_000_000_000),
  sealed: sealedInput,
  evidence: z.object({ signedAt: z.string().datetime(), signature: wire(256) }),
});

/**
 * The holder phone's result of a reveal: the password sealed to the browser's
 * key, kept on the operation for the browser that watches it; audited with the
 * phone's evidence, emailed to the admins of the customer and of its MSP, and a
 * ROTATE_ACCOUNT_PASSWORD command queued for the agent. Nothing of it opens on
 * the server.
 */
export async function deliverBreakGlassPassword(ctx: Context, input: z.input<typeof deliverInput>) {
  const data = parseInput(deliverInput, input);
  const device = requireDevice(ctx);
  const { challenge, tenant } = await scannedOperation(ctx, device, data.keyOperationId);
  if (challenge.keyOperationPurpose !== "REVEAL_BREAK_GLASS_PASSWORD") throw new NotFoundError("Key operation");
  const current = await ctx.tenantKeys.statementFor(ctx.db, tenant.id);
  if (current.custody !== "MASTER_KEY") throw new ConflictError("The master key is off");
  const copy = await holderCopy(ctx.db, tenant.id, current.epoch, device.authenticatorId);
  const workstation = await ctx.db.workstation.findUnique({ where: { id: challenge.workstationId! } });
  if (!workstation) throw new NotFoundError("Workstation");
  // The phone's evidence names the box it opened and the browser key it sealed to, as this operation does.
  const subject = revealSubject({ operationId: challenge.id, workstationId: workstation.id, account: challenge.accountName!, rotation: data.rotation }, challenge.browserKeyHash!);
  const purpose = "REVEAL_BREAK_GLASS_PASSWORD";
  await checkKeyUseEvidence(ctx, device, { tenantId: tenant.id, epoch: current.epoch, purpose, operationId: challenge.id, statement: current.statement, subject }, data.evidence);
  const actor = await ctx.db.user.findUniqueOrThrow({ where: { id: device.userId }, select: { id: true, firstName: true, lastName: true, email: true } });
  const admins = await ctx.db.user.findMany({
    where: { status: "ACTIVE", role: "ADMIN", tenantId: { in: [tenant.id, ...(tenant.parentId ? [tenant.parentId] : [])] } },
    select: { email: true },
  });
  const now = new Date(ctx.clock.now());
  const result = await ctx.db.$transaction(async (tx) => {
    const box = await storedBox(tx, workstation.id, challenge.accountName!);
    if (box.rotation !== data.rotation || box.epoch !== current.epoch) throw new ConflictError("The workstation uploaded a newer password meanwhile: fetch the work again");
    const done = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "SCANNED", scannedById: device.authenticatorId, expiresAt: { gt: now } },
      data: { status: "APPROVED", decidedAt: now, approvedUserId: device.userId, deliveredPassword: data.sealed, deliveredPasswordVersion: box.rotation },
    });
    if (done.count !== 1) throw new ConflictError("This key operation expired meanwhile");
    await tx.tenantKeyHolder.update({ where: { id: copy.id }, data: { lastActedAt: now } });
    const command = await tx.workstationCommand.create({
      data: { tenantId: tenant.id, workstationId: workstation.id, kind: "ROTATE_ACCOUNT_PASSWORD", accountName: box.accountName },
    });
    const label = viewerLabel(actor);
    const event = await recordAudit(
      tx,
      ctx,
      {
        tenantId: tenant.id,
        action: "elevation.breakGlassRevealed",
        targetType: "Workstation",
        targetId: workstation.id,
        data: {
          workstation: workstation.name,
          account: box.accountName,
          rotation: box.rotation,
          keyOperationId: challenge.id,
          rotateCommandId: command.id,
          // Evidence the server cannot forge: the holder phone's signature over this use of the key.
          evidence: { authenticatorId: device.authenticatorId, epoch: current.epoch, signedAt: data.evidence.signedAt, signature: data.evidence.signature, subject },
        },
      },
      { id: actor.id, label },
    );
    const text =
      `The break-glass password of the local admin account ${box.accountName} on the workstation ${workstation.name} was revealed, ` +
      `opened on the phone of ${label}, a holder of ${tenant.displayName}'s master key, at ${now.toISOString()}.\n\n` +
      `The workstation's agent will rotate the password at its next contact with the service.\n`;
    for (const admin of admins) {
      await ctx.jobs.enqueue("mail.send", { to: admin.email, subject: `Break-glass password revealed on ${workstation.name}`, text }, { tx });
    }
    return { command, event };
  });
  publishAudit(ctx, [result.event]);
  publishChallenge(ctx, challenge.id);
  publishWorkstationCommand(ctx, result.command);
  return { keyOperation: (await readChallenge(ctx, challenge.id))! };
}
