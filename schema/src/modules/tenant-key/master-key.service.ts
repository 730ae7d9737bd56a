// Turning the master key on. The portal starts a key operation (a
// KEY_OPERATION challenge) and shows its QR code; a phone that may hold the
// customer's key scans it and asks for its work: the current (escrowed) key's
// statement, the phones that will hold the new key, and every sealed secret of
// the tenant, opened from the escrow one last time and sealed to that phone.
// The phone makes a new key pair and signing key, re-seals every secret to the
// new key, wraps the new key to every holder, signs the new epoch's statement
// (which lists the holders) and sends it all back with its device's evidence.
// One transaction then switches the tenant to the new epoch, compare-and-set
// on the old one, replaces every secret, stores the holders' copies and
// deletes the escrow; a secret written after the phone's snapshot fails it,
// and the phone fetches its work again.
//
// Every other key operation is a new epoch made the same way on a phone that
// has the key: rotating (a holder's phone opens its copy, opens every secret
// as stored, re-seals them to a new key, wraps that to every phone that may
// hold it now, a removed one left out, and hands the epoch over with the old
// signing key itself); creating a recovery kit (a rotation that also admits
// the kit); recovering (a phone that is no holder opens a recovery kit's copy
// with the code typed into it, then rotates with itself among the holders).
// The server has nothing to sign: it checks the hand-over against the current
// epoch's signing key.
import { Prisma, type Tenant } from "@latchkey/db";
import {
  ed25519SignatureHolds,
  keyUseEvidence,
  openFromTenant,
  parseTenantKeyStatement,
  sealForOperation,
  TENANT_PASSWORD_SUITE,
  openBreakGlass,
  type SealablePhone,
  type SealedSecret,
  type TenantKeyStatement,
} from "@latchkey/passwords";
import { z } from "zod";
import type { Context, DeviceViewer } from "../../context.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { base64urlText, isUuid, parseInput } from "../../validation.ts";
import type { AuditAction } from "../audit/audit-actions.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { createChallenge, publishChallenge, readChallenge } from "../challenge/challenge.service.ts";
import { verifySignature } from "../challenge/challenge-signing.ts";
import { findAdministeredTenant } from "../tenant/tenant.service.ts";
import { sealablePhones, type PhoneCopy } from "../password/password.service.ts";
import { viewerLabel } from "../session/session.service.ts";

type Db = Prisma.TransactionClient;

/** How far the evidence's own time may be from the server's. */
const EVIDENCE_SKEW_MS = 5 * 60_000;

/**
 * Checks a phone's evidence for one use of the key: its device key's signature
 * over (tenant, epoch, purpose, operation, time, statement hash), made now.
 */
export async function checkKeyUseEvidence(
  ctx: Context,
  device: DeviceViewer,
  use: { tenantId: string; epoch: number; purpose: KeyOperationPurpose; operationId: string; statement: string; subject?: string },
  evidence: { signedAt: string; signature: string },
) {
  const signedAt = new Date(evidence.signedAt);
  if (Math.abs(signedAt.getTime() - ctx.clock.now()) > EVIDENCE_SKEW_MS) throw ValidationError.field("evidence", "Sign the evidence with the current time");
  const bytes = await keyUseEvidence({ ...use, signedAt: evidence.signedAt });
  if (!verifySignature(device, Buffer.from(bytes), evidence.signature)) throw ValidationError.field("evidence", "The evidence is not signed by this phone's key");
}

const wire = base64urlText;
export const sealedInput = z.object({
  suite: z.string().refine((suite) => suite === TENANT_PASSWORD_SUITE, `Seal with ${TENANT_PASSWORD_SUITE}`),
  enc: wire(64),
  ciphertext: wire(1024),
});

/** The customer's custody of its key: ESCROW until a holder turns the master key on. */
export async function tenantKeyCustody(db: Db, tenantId: string) {
  const row = await db.tenantKeyPair.findUnique({ where: { tenantId }, select: { custody: true } });
  return row?.custody ?? "ESCROW";
}

/**
 * Users whose phones may hold `tenant`'s key: its own active admins, and, once
 * the customer opted in, its MSP's active admins and the technicians delegated to it.
 */
function holderUsers(tenant: Pick<Tenant, "id" | "parentId" | "mspMayHoldMasterKey">): Prisma.UserWhereInput {
  const own: Prisma.UserWhereInput = { tenantId: tenant.id, role: "ADMIN" };
  const msp: Prisma.UserWhereInput[] =
    tenant.mspMayHoldMasterKey && tenant.parentId
      ? [
          { tenantId: tenant.parentId, role: "ADMIN" },
          { tenantId: tenant.parentId, role: "TECHNICIAN", delegations: { some: { customerId: tenant.id } } },
        ]
      : [];
  return { status: "ACTIVE", OR: [own, ...msp] };
}

/**
 * May the phone of `userId` work on a key operation of `tenantId`? A
 * customer's: if it may hold its key. An MSP's (one rotation of every
 * customer where one is due): if it is the phone of the MSP's admin or
 * technician; each customer is then checked on its own.
 */
export async function mayWorkOnKeyOperation(db: Db, userId: string, tenantId: string): Promise<boolean> {
  const tenant = await db.tenant.findUnique({ where: { id: tenantId }, select: { kind: true } });
  if (tenant?.kind !== "MSP") return mayHoldTenantKey(db, userId, tenantId);
  return (await db.user.count({ where: { id: userId, tenantId, status: "ACTIVE", role: { in: ["ADMIN", "TECHNICIAN"] } } })) === 1;
}

/** May the phone of `userId` hold (and so work with) the key of `tenantId`? */
export async function mayHoldTenantKey(db: Db, userId: string, tenantId: string): Promise<boolean> {
  const tenant = await db.tenant.findUnique({ where: { id: tenantId } });
  if (!tenant || tenant.kind !== "CUSTOMER") return false;
  return (await db.user.count({ where: { AND: [{ id: userId }, holderUsers(tenant)] } })) === 1;
}

type HolderTenant = Pick<Tenant, "id" | "parentId" | "mspMayHoldMasterKey">;

/** The approved, unrevoked phones with a key-agreement key whose users may hold the tenant's key. */
async function eligibleHolders(db: Db, tenant: HolderTenant) {
  return db.authenticator.findMany({
    where: { revokedAt: null, approvedAt: { not: null }, keyAgreementPublicKey: { not: null }, user: holderUsers(tenant) },
    include: { user: { select: { id: true, firstName: true, lastName: true, email: true } } },
    orderBy: { id: "asc" },
  });
}

export type KeyOperationPurpose = "ENABLE_MASTER_KEY" | "ROTATE_TENANT_KEY" | "CREATE_RECOVERY_KIT" | "RECOVER_TENANT_KEY" | "REVEAL_BREAK_GLASS_PASSWORD";

/** What each operation starts from, what the phone must already hold, and what it is audited as. */
const PURPOSES: Record<KeyOperationPurpose, { from: "ESCROW" | "MASTER_KEY"; holderCopy: boolean; admitsKit: boolean; action: AuditAction; request: string }> = {
  ENABLE_MASTER_KEY: { from: "ESCROW", holderCopy: false, admitsKit: false, action: "tenantKey.masterKeyEnabled", request: "turn on the master key" },
  ROTATE_TENANT_KEY: { from: "MASTER_KEY", holderCopy: true, admitsKit: false, action: "tenantKey.rotated", request: "rotate the master key" },
  CREATE_RECOVERY_KIT: { from: "MASTER_KEY", holderCopy: true, admitsKit: true, action: "tenantKey.recoveryKitCreated", request: "create a recovery kit for the master key" },
  RECOVER_TENANT_KEY: { from: "MASTER_KEY", holderCopy: false, admitsKit: false, action: "tenantKey.recovered", request: "recover the master key with a recovery kit" },
  // Makes no new epoch: see deliverBreakGlassPassword.
  REVEAL_BREAK_GLASS_PASSWORD: { from: "MASTER_KEY", holderCopy: true, admitsKit: false, action: "elevation.breakGlassRevealed", request: "reveal a break-glass password" },
};

const startInput = z.object({
  tenantId: z.string(),
  purpose: z.enum(["ENABLE_MASTER_KEY", "ROTATE_TENANT_KEY", "CREATE_RECOVERY_KIT", "RECOVER_TENANT_KEY", "REVEAL_BREAK_GLASS_PASSWORD"]),
  // SHA-256 of a browser key the result is for (none while turning the key on).
  browserKeyHash: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "Give the SHA-256 of the browser key, base64url without padding").nullish(),
});

/** What a key operation is about beyond the tenant: a break-glass reveal's box and browser key. */
export type KeyOperationTarget = { workstationId: string; accountName: string; browserKey: string; requesterName: string };

/**
 * An admin of the customer (or of its MSP) starts a key operation; a holder's
 * phone does it. `target` comes from the caller that checked it (a reveal's).
 */
export async function startKeyOperation(ctx: Context, input: z.input<typeof startInput>, target: KeyOperationTarget | null = null) {
  const data = parseInput(startInput, input);
  if ((data.purpose === "REVEAL_BREAK_GLASS_PASSWORD") !== (target !== null)) throw new Error("A reveal, and only a reveal, names its box");
  const tenant = await findAdministeredTenant(ctx, data.tenantId);
  if (ctx.viewer!.role !== "ADMIN") throw new ForbiddenError("Only an admin works with the master key");
  if (tenant.kind === "MSP") return startRotationOfDueCustomers(ctx, tenant, data.purpose);
  // A tenant without a key pair yet is in escrow: the phone's work makes the pair it hands over.
  const custody = await tenantKeyCustody(ctx.db, tenant.id);
  if (custody !== PURPOSES[data.purpose].from) {
    throw new ConflictError(custody === "MASTER_KEY" ? "The master key is already on" : "Turn the master key on first: until then the service keeps the key");
  }
  await ctx.limits.consume("challengeStartPerIp", ctx.request.ip);
  return createChallenge(ctx.db, ctx.clock, ctx.config.challengeTtlSeconds, {
    tenantId: tenant.id,
    kind: "KEY_OPERATION",
    keyOperationPurpose: data.purpose,
    browserKeyHash: data.browserKeyHash ?? null,
    browserKey: target?.browserKey ?? null,
    workstationId: target?.workstationId ?? null,
    accountName: target?.accountName ?? null,
    requesterKind: "BROWSER",
    requesterName: target?.requesterName ?? `${PURPOSES[data.purpose].request} of ${tenant.displayName}`,
    requesterIp: ctx.request.ip,
    requesterUserAgent: ctx.request.userAgent,
    requestedById: ctx.viewer!.userId,
  });
}

/**
 * One operation, one approval, that rotates every customer of an MSP where a
 * rotation is due (an MSP technician's phone that held many customers' keys
 * was lost): the phone rotates each customer it holds the key of, one by one.
 */
async function startRotationOfDueCustomers(ctx: Context, msp: Tenant, purpose: KeyOperationPurpose) {
  if (purpose !== "ROTATE_TENANT_KEY") throw new ForbiddenError("Only a customer tenant has a master key; an MSP only rotates its customers' keys");
  // The operation covers every due customer: not for an API key that reaches only some.
  if (ctx.viewer!.apiKey?.customerIds) throw new ForbiddenError("This API key reaches only some customers: rotate each customer's key on its own");
  if ((await dueCustomers(ctx.db, msp.id)).length === 0) throw new ConflictError(`No customer of ${msp.displayName} has a rotation due`);
  await ctx.limits.consume("challengeStartPerIp", ctx.request.ip);
  return createChallenge(ctx.db, ctx.clock, ctx.config.challengeTtlSeconds, {
    tenantId: msp.id,
    kind: "KEY_OPERATION",
    keyOperationPurpose: purpose,
    requesterKind: "BROWSER",
    requesterName: `rotate the master key of every customer of ${msp.displayName} where a rotation is due`,
    requesterIp: ctx.request.ip,
    requesterUserAgent: ctx.request.userAgent,
    requestedById: ctx.viewer!.userId,
  });
}

/** The customers of an MSP whose key has a holder that may no longer hold it. */
export async function dueCustomers(db: Db, mspId: string) {
  const customers = await db.tenant.findMany({ where: { parentId: mspId, kind: "CUSTOMER", keyPair: { custody: "MASTER_KEY" } }, include: { keyPair: true }, orderBy: { id: "asc" } });
  const due = [];
  for (const customer of customers) if ((await holderChanges(db, customer, customer.keyPair!.epoch)).due > 0) due.push(customer);
  return due;
}

/** The customers an operation covers that this phone holds the current key of: the one customer, or an MSP's due customers. */
export async function keyOperationTenants(ctx: Context, id: string) {
  const device = requireDevice(ctx);
  const challenge = await scannedChallenge(ctx, device, id);
  if (!(await mayWorkOnKeyOperation(ctx.db, device.userId, challenge.tenantId))) throw new NotFoundError("Key operation");
  const operationTenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: challenge.tenantId } });
  if (operationTenant.kind === "CUSTOMER") return [operationTenant];
  return heldDueCustomers(ctx.db, operationTenant.id, device);
}

/** The key operation this phone scanned, still waiting for its result; NOT_FOUND for one that is not, or another phone's. */
async function scannedChallenge(ctx: Context, device: DeviceViewer, id: string) {
  const challenge = isUuid(id) ? await readChallenge(ctx, id) : null;
  if (!challenge || challenge.kind !== "KEY_OPERATION" || challenge.scannedById !== device.authenticatorId) throw new NotFoundError("Key operation");
  if (challenge.status !== "SCANNED") throw new ConflictError(`This key operation was already ${challenge.status.toLowerCase()}`);
  return challenge;
}

/**
 * The due customers of an MSP that this phone can rotate: it holds their
 * current key, and its user may still hold it (a customer is often due because
 * this very user may not any more: those are left to another holder).
 */
async function heldDueCustomers(db: Db, mspId: string, phone: { authenticatorId: string; userId: string }) {
  const held = [];
  for (const customer of await dueCustomers(db, mspId)) {
    const copies = await db.tenantKeyHolder.count({ where: { tenantId: customer.id, epoch: customer.keyPair!.epoch, holderId: phone.authenticatorId } });
    if (copies && (await mayHoldTenantKey(db, phone.userId, customer.id))) held.push(customer);
  }
  return held;
}

export function requireDevice(ctx: Context): DeviceViewer & { userId: string } {
  const device = ctx.device;
  if (!device) throw new UnauthenticatedError("Enroll this authenticator first");
  if (!device.userId || !device.approved) throw new ForbiddenError("Link this authenticator to your account and have it approved first");
  return { ...device, userId: device.userId };
}

/**
 * The key operation this phone scanned, still waiting for its result: the
 * same NOT_FOUND for one that is not, or another phone's, as for no operation.
 * `tenant` is the customer whose key it works with: the operation's, or, for
 * an MSP's rotation of its due customers, `customerId` (one of them whose key
 * this phone may hold).
 */
export async function scannedOperation(ctx: Context, device: DeviceViewer & { userId: string }, id: string, customerId: string | null = null) {
  const challenge = await scannedChallenge(ctx, device, id);
  const operationTenant = await ctx.db.tenant.findUniqueOrThrow({ where: { id: challenge.tenantId } });
  const batch = operationTenant.kind === "MSP";
  // An MSP's operation covers only its due customers this phone can rotate (each one it may hold); a customer's, that customer.
  const tenant = batch
    ? ((await heldDueCustomers(ctx.db, operationTenant.id, device)).find((customer) => customer.id === customerId) ?? null)
    : (customerId ?? challenge.tenantId) === challenge.tenantId && (await mayHoldTenantKey(ctx.db, device.userId, operationTenant.id))
      ? operationTenant
      : null;
  if (!tenant) throw new NotFoundError("Key operation");
  const phone = await ctx.db.authenticator.findUniqueOrThrow({ where: { id: device.authenticatorId } });
  if (!phone.keyAgreementPublicKey) throw new ForbiddenError("Register this phone's key-agreement key first");
  return { challenge, purpose: challenge.keyOperationPurpose!, phone: { ...phone, keyAgreementPublicKey: phone.keyAgreementPublicKey }, tenant, batch };
}

/** This phone's copy of the current key; a phone without one cannot work with it. */
export async function holderCopy(db: Db, tenantId: string, epoch: number, authenticatorId: string) {
  const copy = await db.tenantKeyHolder.findUnique({ where: { tenantId_epoch_holderId: { tenantId, epoch, holderId: authenticatorId } } });
  if (!copy) throw new ForbiddenError("This phone does not hold the customer's key: use a phone that does");
  return copy;
}

/** The recovery kits that hold the current epoch's key. */
function currentKits(db: Db, tenantId: string, epoch: number) {
  return db.tenantKeyHolder.findMany({ where: { tenantId, epoch, kind: "RECOVERY_KIT" }, orderBy: { holderId: "asc" } });
}

/** One secret the phone re-seals, with what binds it. */
export type OperationSecret = {
  kind: "USER_PASSWORD" | "BREAK_GLASS_PASSWORD";
  id: string;
  version: number;
  record: string | null;
  workstationId: string | null;
  account: string | null;
  sealed: SealedSecret;
  /** USER_PASSWORD: the user's phones that hold no copy of it yet (linked after it was set). */
  phonesWithoutCopy: SealablePhone[];
};

/**
 * What the phone that scanned a key operation needs. Turning the key on: the
 * escrowed key's statement and every sealed secret, opened from the escrow
 * and sealed to this phone for this operation. Rotating: the current
 * statement, this phone's own copy of the key and every secret as stored
 * (sealed to the current key, which the phone opens), and each user's phones
 * that have no copy of that user's password. Both: every phone that may hold
 * the new key, with its own certification of its key-agreement key (the phone
 * keeps the current holders and admits others only by fingerprint). A reveal:
 * the one box it names, this phone's copy of the key, and the browser's key.
 */
export async function keyOperationWork(ctx: Context, id: string, customerId: string | null = null) {
  const device = requireDevice(ctx);
  const { challenge, purpose, phone, tenant } = await scannedOperation(ctx, device, id, customerId);
  const tenantKey = await ctx.tenantKeys.statementFor(ctx.db, tenant.id);
  const expected = PURPOSES[purpose].from;
  if (tenantKey.custody !== expected) throw new ConflictError(expected === "ESCROW" ? "The master key is already on" : "The master key is off");
  const copy = PURPOSES[purpose].holderCopy ? await holderCopy(ctx.db, tenant.id, tenantKey.epoch, phone.id) : null;
  const kits = tenantKey.custody === "MASTER_KEY" ? await currentKits(ctx.db, tenant.id, tenantKey.epoch) : [];
  // Turning on: the server opens each secret from its escrow, for this phone only.
  const escrow = purpose === "ENABLE_MASTER_KEY" ? await ctx.tenantKeys.privateKey(ctx.db, tenant.id) : null;
  const forPhone = async (secret: Omit<OperationSecret, "sealed" | "phonesWithoutCopy">, open: (key: Uint8Array) => Promise<string>, stored: SealedSecret) =>
    escrow
      ? sealForOperation({ operationId: challenge.id, kind: secret.kind, id: secret.id, version: secret.version, phoneKey: phone.keyAgreementPublicKey, secret: await open(escrow) })
      : stored;

  const reveal = purpose === "REVEAL_BREAK_GLASS_PASSWORD";
  const secrets: OperationSecret[] = [];
  const users = reveal ? [] : await ctx.db.user.findMany({ where: { tenantId: tenant.id, sealedPassword: { not: Prisma.DbNull } }, orderBy: { id: "asc" } });
  // A phone linked after its user's password was set gets its copy from the phone doing this work.
  const userPhones = await sealablePhones(ctx.db, users.map((user) => user.id));
  for (const user of users) {
    if (!user.opaqueRecord) continue;
    const copied = new Set(((user.phonePasswordCopies as PhoneCopy[] | null) ?? []).map((copy) => copy.authenticatorId));
    const secret = {
      kind: "USER_PASSWORD" as const,
      id: user.id,
      version: user.passwordVersion,
      record: user.opaqueRecord,
      workstationId: null,
      account: null,
      // As many as one result may carry for a user (the same bound as a password registration's copies).
      phonesWithoutCopy: userPhones.filter((phone) => phone.userId === user.id && !copied.has(phone.authenticatorId)).slice(0, 20),
    };
    const stored = user.sealedPassword as SealedSecret;
    const open = (key: Uint8Array) =>
      openFromTenant({ tenantPrivateKey: key, tenantId: tenant.id, userId: user.id, passwordVersion: user.passwordVersion, record: user.opaqueRecord!, sealed: stored });
    secrets.push({ ...secret, sealed: await forPhone(secret, open, stored) });
  }
  // A reveal's work is the one box it names, opened with the phone's copy and sealed to the browser's key.
  const boxes = await ctx.db.breakGlassPassword.findMany({
    where: { tenantId: tenant.id, ...(reveal ? { workstationId: challenge.workstationId!, accountName: challenge.accountName! } : {}) },
    orderBy: { id: "asc" },
  });
  for (const box of boxes) {
    const secret = {
      kind: "BREAK_GLASS_PASSWORD" as const,
      id: box.id,
      version: box.rotation,
      record: null,
      workstationId: box.workstationId,
      account: box.accountName,
      phonesWithoutCopy: [],
    };
    const stored = { suite: box.suite, enc: box.enc, ciphertext: box.ciphertext };
    const open = (key: Uint8Array) =>
      openBreakGlass({ tenantPrivateKey: key, tenantId: tenant.id, workstationId: box.workstationId, account: box.accountName, rotation: box.rotation, sealed: stored });
    secrets.push({ ...secret, sealed: await forPhone(secret, open, stored) });
  }
  const phones = (reveal ? [] : await eligibleHolders(ctx.db, tenant)).map((holder) => ({
    kind: "PHONE" as const,
    holderId: holder.id,
    name: holder.name,
    userLabel: viewerLabel(holder.user!),
    algorithm: holder.algorithm,
    publicKey: holder.publicKey,
    keyAgreementKey: holder.keyAgreementPublicKey!,
    keyAgreementSignature: holder.keyAgreementSignature,
  }));
  // A kit is vouched for by the statement that admitted it, not by a device.
  const kitHolders = (reveal ? [] : kits).map((kit) => ({
    kind: "RECOVERY_KIT" as const,
    holderId: kit.holderId,
    name: "Recovery kit",
    userLabel: "",
    algorithm: null,
    publicKey: null,
    keyAgreementKey: kit.keyAgreementPublicKey,
    keyAgreementSignature: null,
  }));
  return {
    keyOperation: challenge,
    purpose,
    tenantId: tenant.id,
    tenantKey,
    holders: [...phones, ...kitHolders],
    secrets,
    holderCopy: copy ? (copy.wrappedKey as SealedSecret) : null,
    browserKey: challenge.browserKey,
    // Recovering: the kits' copies, one of which the typed code opens.
    recoveryKitCopies: purpose === "RECOVER_TENANT_KEY" ? kits.map((kit) => ({ holderId: kit.holderId, keyAgreementKey: kit.keyAgreementPublicKey, sealed: kit.wrappedKey as SealedSecret })) : [],
  };
}

const resultInput = z.object({
  keyOperationId: z.string(),
  statement: z.string().max(20_000),
  signature: wire(128),
  holderCopies: z.array(z.object({ holderId: z.string(), sealed: sealedInput })).min(1).max(500),
  secrets: z
    .array(
      z.object({
        kind: z.enum(["USER_PASSWORD", "BREAK_GLASS_PASSWORD"]),
        id: z.string(),
        version: z.number().int().min(1),
        sealed: sealedInput,
        // USER_PASSWORD: copies for the user's phones that had none.
        phoneCopies: z.array(z.object({ authenticatorId: z.string().uuid(), sealed: sealedInput })).max(20).nullish(),
      }),
    )
    .max(100_000),
  evidence: z.object({ signedAt: z.string().datetime(), signature: wire(256) }),
});
const rotateInput = resultInput.extend({
  tenantId: z.string(),
  fromEpoch: z.number().int().min(1),
  // The old epoch's signing key's signature over the new statement: made on the phone, which holds it.
  handover: wire(128),
});

/**
 * A holder the next statement may list: its kind and key-agreement key, by id,
 * and whether it holds the current epoch (a phone that does, and may still, must
 * be listed again).
 */
type ExpectedHolder = { kind: "PHONE" | "RECOVERY_KIT"; keyAgreementKey: string; holdsCurrent: boolean };

/**
 * The statement the phone signed, checked against what the server knows: the
 * next epoch, its own signature, and its holders: every phone that holds the
 * current epoch and may still (none left out), any other phone that may hold
 * the key and that the working phone admitted, any of the current recovery
 * kits (a rotation may retire kits), and one new kit when one is admitted;
 * each with its kind and key as the server has them, the working phone among
 * them. Which new phones join is the working phone's choice: the person at it
 * confirmed each by the fingerprint the new phone showed.
 */
async function checkNewStatement(
  text: string,
  signature: string,
  expected: { tenantId: string; epoch: number; holders: Map<string, ExpectedHolder>; scanner: string; admitsKit: boolean },
): Promise<TenantKeyStatement> {
  const statement = parseTenantKeyStatement(text);
  if (!statement || statement.tenantId !== expected.tenantId || statement.custody !== "MASTER_KEY") {
    throw ValidationError.field("statement", "Sign a master key statement for this tenant");
  }
  if (statement.epoch !== expected.epoch) throw new ConflictError(`The tenant key is at epoch ${expected.epoch - 1}, not ${statement.epoch - 1}: fetch the work again`);
  if (!(await ed25519SignatureHolds(text, statement.signingKey, signature))) throw ValidationError.field("signature", "The statement is not signed by the signing key it names");
  const listed = statement.holders ?? [];
  if (!listed.some((holder) => holder.kind === "PHONE" && holder.id === expected.scanner)) {
    throw ValidationError.field("statement", "The phone that does the work must hold the new key");
  }
  const added = listed.filter((holder) => !expected.holders.has(holder.id));
  if (expected.admitsKit ? added.length !== 1 || added[0]!.kind !== "RECOVERY_KIT" : added.length !== 0) {
    throw ValidationError.field("statement", expected.admitsKit ? "List the new recovery kit, and no other new holder" : "List no holder but those that may hold the key");
  }
  const mismatched = listed.some((holder) => {
    const known = expected.holders.get(holder.id);
    return known !== undefined && (known.kind !== holder.kind || known.keyAgreementKey !== holder.keyAgreementKey);
  });
  const phoneLeftOut = [...expected.holders].some(([id, holder]) => holder.kind === "PHONE" && holder.holdsCurrent && !listed.some((entry) => entry.id === id));
  if (mismatched || phoneLeftOut) throw new ConflictError("The phones that may hold the key changed: fetch the work again");
  return statement;
}

/**
 * Who may hold the next epoch's key, by holder id: every phone that may hold it
 * (required if it holds the current epoch with the same key, admitted otherwise),
 * and the current epoch's recovery kits (each may be retired).
 */
async function expectedHolders(db: Db, tenant: HolderTenant, current: { custody: string; epoch: number }) {
  const phones = await eligibleHolders(db, tenant);
  const copies = current.custody === "MASTER_KEY" ? await db.tenantKeyHolder.findMany({ where: { tenantId: tenant.id, epoch: current.epoch } }) : [];
  const held = new Map(copies.map((copy) => [copy.holderId, copy.keyAgreementPublicKey]));
  return new Map<string, ExpectedHolder>([
    ...phones.map((phone) => {
      const keyAgreementKey = phone.keyAgreementPublicKey!;
      return [phone.id, { kind: "PHONE", keyAgreementKey, holdsCurrent: held.get(phone.id) === keyAgreementKey }] as const;
    }),
    ...copies
      .filter((copy) => copy.kind === "RECOVERY_KIT")
      .map((kit) => [kit.holderId, { kind: "RECOVERY_KIT", keyAgreementKey: kit.keyAgreementPublicKey, holdsCurrent: true }] as const),
  ]);
}

/** The expected holders as one comparable string: id, kind, key and current holding of each. */
function holdersKey(holders: Map<string, ExpectedHolder>) {
  return [...holders].map(([id, holder]) => `${id}:${holder.kind}:${holder.keyAgreementKey}:${holder.holdsCurrent}`).sort().join(",");
}

/** The phone's result of turning the key on; see completeKeyOperation. */
export async function enableMasterKey(ctx: Context, input: z.input<typeof resultInput>) {
  return completeKeyOperation(ctx, "ENABLE_MASTER_KEY", parseInput(resultInput, input), null);
}

/**
 * The phone's result of a new epoch made from epoch `fromEpoch` with the key it
 * has (rotating, creating a recovery kit, recovering); see completeKeyOperation.
 */
export async function nextEpoch(ctx: Context, purpose: "ROTATE_TENANT_KEY" | "CREATE_RECOVERY_KIT" | "RECOVER_TENANT_KEY", input: z.input<typeof rotateInput>) {
  const data = parseInput(rotateInput, input);
  return completeKeyOperation(ctx, purpose, data, { tenantId: data.tenantId, fromEpoch: data.fromEpoch, handover: data.handover });
}

/**
 * A phone's result: switches the tenant to the new epoch in one transaction,
 * or changes nothing. CONFLICT when the tenant key, the holders or a secret
 * changed since the phone fetched its work (fetch it again).
 */
async function completeKeyOperation(
  ctx: Context,
  purpose: KeyOperationPurpose,
  data: z.infer<typeof resultInput>,
  rotation: { tenantId: string; fromEpoch: number; handover: string } | null,
) {
  const device = requireDevice(ctx);
  const { challenge, tenant, batch } = await scannedOperation(ctx, device, data.keyOperationId, rotation?.tenantId ?? null);
  if (challenge.keyOperationPurpose !== purpose) throw new NotFoundError("Key operation");
  const current = await ctx.tenantKeys.statementFor(ctx.db, tenant.id);
  const rules = PURPOSES[purpose];
  if (current.custody !== rules.from) throw new ConflictError(rules.from === "MASTER_KEY" ? "The master key is off" : "The master key is already on");
  if (rotation && rotation.fromEpoch !== current.epoch) throw new ConflictError(`The tenant key is at epoch ${current.epoch}, not ${rotation.fromEpoch}: fetch the work again`);
  if (rules.holderCopy) await holderCopy(ctx.db, tenant.id, current.epoch, device.authenticatorId);
  const holders = await expectedHolders(ctx.db, tenant, current);
  const statement = await checkNewStatement(data.statement, data.signature, {
    tenantId: tenant.id,
    epoch: current.epoch + 1,
    holders,
    scanner: device.authenticatorId,
    admitsKit: rules.admitsKit,
  });
  const copies = new Map(data.holderCopies.map((copy) => [copy.holderId, copy.sealed]));
  if (copies.size !== data.holderCopies.length || statement.holders!.some((holder) => !copies.has(holder.id)) || copies.size !== statement.holders!.length) {
    throw ValidationError.field("holderCopies", "Give one copy of the key for every holder the statement lists");
  }
  await checkKeyUseEvidence(ctx, device, { tenantId: tenant.id, epoch: statement.epoch, purpose, operationId: challenge.id, statement: data.statement }, data.evidence);
  // The old epoch hands over to the new: signed by the phone that has the key (which is what proves a recovery),
  // by the escrow (the last thing it signs) when turning the key on.
  if (rotation && !(await ed25519SignatureHolds(data.statement, current.signingKey, rotation.handover))) {
    throw ValidationError.field("handover", "The hand-over is not signed by the current epoch's signing key");
  }
  const handover = rotation ? rotation.handover : await ctx.tenantKeys.signWithEscrow(ctx.db, tenant.id, data.statement);
  const actor = await ctx.db.user.findUniqueOrThrow({ where: { id: device.userId }, select: { id: true, firstName: true, lastName: true, email: true } });
  const admins = purpose === "RECOVER_TENANT_KEY" ? await ctx.db.user.findMany({ where: { tenantId: tenant.id, role: "ADMIN", status: "ACTIVE" }, select: { email: true } }) : [];
  const now = new Date(ctx.clock.now());

  const event = await ctx.db.$transaction(async (tx) => {
    const switched = await tx.tenantKeyPair.updateMany({
      where: { tenantId: tenant.id, epoch: current.epoch, custody: current.custody },
      data: {
        epoch: statement.epoch,
        publicKey: statement.publicKey,
        custody: "MASTER_KEY",
        signingPublicKey: statement.signingKey,
        statement: data.statement,
        statementSignature: data.signature,
        handoverSignature: handover,
        keyId: null,
        wrappedPrivateKey: null,
        wrappedSigningKey: null,
        rotatedAt: now,
      },
    });
    if (switched.count !== 1) throw new ConflictError("The tenant key changed meanwhile: fetch the work again");
    await tx.tenantKeyEpoch.create({
      data: { tenantId: tenant.id, epoch: current.epoch, statement: current.statement, signature: current.signature, handoverSignature: current.handover },
    });
    await replaceSecrets(tx, tenant.id, statement.epoch, data.secrets);
    // The holders were read before the switch; one that changed since must not be left out.
    if (holdersKey(await expectedHolders(tx, tenant, current)) !== holdersKey(holders)) {
      throw new ConflictError("The phones that may hold the key changed: fetch the work again");
    }
    await tx.tenantKeyHolder.createMany({
      data: statement.holders!.map((holder) => ({
        tenantId: tenant.id,
        epoch: statement.epoch,
        kind: holder.kind,
        holderId: holder.id,
        authenticatorId: holder.kind === "PHONE" ? holder.id : null,
        keyAgreementPublicKey: holder.keyAgreementKey,
        wrappedKey: copies.get(holder.id)!,
        admittedByAuthenticatorId: device.authenticatorId,
        lastActedAt: holder.id === device.authenticatorId ? now : null,
      })),
    });
    // An MSP's rotation of its due customers is done once this phone holds no due customer's key any more.
    const finished = !batch || (await heldDueCustomers(tx, challenge.tenantId, device)).length === 0;
    const done = await tx.challenge.updateMany({
      where: { id: challenge.id, status: "SCANNED", scannedById: device.authenticatorId, expiresAt: { gt: now } },
      data: finished ? { status: "APPROVED", decidedAt: now, approvedUserId: device.userId } : { status: "SCANNED" },
    });
    if (done.count !== 1) throw new ConflictError("This key operation expired meanwhile");
    const recorded = await recordAudit(
      tx,
      ctx,
      {
        tenantId: tenant.id,
        action: rules.action,
        targetType: "Tenant",
        targetId: tenant.id,
        data: {
          fromEpoch: current.epoch,
          epoch: statement.epoch,
          holders: statement.holders!.map((holder) => holder.id),
          // Phones the working phone admitted by their fingerprints.
          admitted: statement.holders!.filter((holder) => holder.kind === "PHONE" && !holders.get(holder.id)?.holdsCurrent).map((holder) => holder.id),
          secrets: data.secrets.length,
          keyOperationId: challenge.id,
          // Evidence the server cannot forge: the phone's signature over this use of the key.
          evidence: { authenticatorId: device.authenticatorId, signedAt: data.evidence.signedAt, signature: data.evidence.signature },
        },
      },
      { id: actor.id, label: viewerLabel(actor) },
    );
    // A recovery is announced to every admin: a kit in the wrong hands shows at once.
    const text =
      `${viewerLabel(actor)} recovered the master key of ${tenant.displayName} onto a new phone with a recovery kit, at ${now.toISOString()}.\n\n` +
      `If this was not expected, rotate the key from a phone you trust, retiring every recovery kit, and create a new one.\n`;
    for (const admin of admins) await ctx.jobs.enqueue("mail.send", { to: admin.email, subject: `Master key of ${tenant.displayName} recovered`, text }, { tx });
    return recorded;
  });
  publishAudit(ctx, [event]);
  publishChallenge(ctx, challenge.id);
  return ctx.tenantKeys.statementFor(ctx.db, tenant.id);
}

/**
 * How the phones holding the current epoch differ from those that may hold the
 * key now, in one read of each: `due`, holders that may no longer hold it (a
 * revoked or removed phone, a demoted or disabled admin, a withdrawn opt-in),
 * which until a holder rotates still have a copy that opens every secret; and
 * `awaiting`, phones that may hold the key but hold no copy of this epoch
 * (linked, approved or promoted since), which a holder admits at its next
 * operation with the fingerprint each shows. An epoch `post-restore` marked
 * (TenantKeyRotationDue) is due as well: who fell out after the backup is unknown.
 */
export async function holderChanges(db: Db, tenant: HolderTenant, epoch: number) {
  // Kits stay holders until replaced; only phones fall out or wait.
  const copies = await db.tenantKeyHolder.findMany({ where: { tenantId: tenant.id, epoch, kind: "PHONE" }, select: { authenticatorId: true, holderId: true, keyAgreementPublicKey: true } });
  const eligible = await eligibleHolders(db, tenant);
  const eligibleIds = new Set(eligible.map((phone) => phone.id));
  const held = new Map(copies.map((copy) => [copy.holderId, copy.keyAgreementPublicKey]));
  const marked = await db.tenantKeyRotationDue.count({ where: { tenantId: tenant.id, epoch } });
  return {
    due: copies.filter((copy) => !copy.authenticatorId || !eligibleIds.has(copy.authenticatorId)).length + marked,
    awaiting: eligible.filter((phone) => held.get(phone.id) !== phone.keyAgreementPublicKey),
  };
}

/**
 * Replaces every sealed secret of the tenant with the phone's re-sealed one:
 * exactly the set the tenant has now, at the versions it has now, or CONFLICT
 * (a password set or a box uploaded after the phone's snapshot).
 */
async function replaceSecrets(tx: Db, tenantId: string, epoch: number, secrets: z.infer<typeof resultInput>["secrets"]) {
  const changed = () => new ConflictError("A password changed while the phone was re-sealing: fetch the work again");
  const users = await tx.user.findMany({ where: { tenantId, sealedPassword: { not: Prisma.DbNull } }, select: { id: true, passwordVersion: true, phonePasswordCopies: true } });
  const copies = new Map(users.map((user) => [user.id, (user.phonePasswordCopies as PhoneCopy[] | null) ?? []]));
  const phones = await sealablePhones(tx, users.map((user) => user.id));
  const boxes = await tx.breakGlassPassword.findMany({ where: { tenantId }, select: { id: true, rotation: true } });
  const expected = new Map<string, number>([
    ...users.map((user) => [`USER_PASSWORD:${user.id}`, user.passwordVersion] as const),
    ...boxes.map((box) => [`BREAK_GLASS_PASSWORD:${box.id}`, box.rotation] as const),
  ]);
  if (expected.size !== secrets.length) throw changed();
  for (const secret of secrets) {
    const key = `${secret.kind}:${secret.id}`;
    if (expected.get(key) !== secret.version) throw changed();
    expected.delete(key);
    const added = secret.phoneCopies ?? [];
    if (added.some((copy) => !phones.some((phone) => phone.userId === secret.id && phone.authenticatorId === copy.authenticatorId))) {
      throw ValidationError.field("secrets", "A phone copy is for a phone that is not one of that user's");
    }
    const kept = (copies.get(secret.id) ?? []).filter((copy) => !added.some((other) => other.authenticatorId === copy.authenticatorId));
    const { count } =
      secret.kind === "USER_PASSWORD"
        ? await tx.user.updateMany({
            where: { id: secret.id, tenantId, passwordVersion: secret.version },
            data: { sealedPassword: secret.sealed, sealedPasswordEpoch: epoch, ...(added.length ? { phonePasswordCopies: [...kept, ...added] } : {}) },
          })
        : await tx.breakGlassPassword.updateMany({ where: { id: secret.id, tenantId, rotation: secret.version }, data: { ...secret.sealed, epoch } });
    if (count !== 1) throw changed();
  }
}

