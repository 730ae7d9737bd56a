// Each customer tenant's HPKE key pair, and the signing key whose statement
// tells clients which public key is the tenant's (statementFor). Whoever sets a
// password seals it to the public key (see @latchkey/passwords); the private key is escrowed here,
// wrapped by the key-encryption key (AES-256-GCM, the tenant as associated
// data), and opened only to re-seal a password to a workstation at QR login.
// MSP tenants have none: their users' passwords are never sealed.
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import type { Prisma } from "@latchkey/db";
import {
  generateTenantKeyPair,
  openFromTenant,
  parseTenantKeyStatement,
  tenantKeyStatement,
  x25519PublicKey,
  type SealedSecret,
  type TenantKeyCustody,
  type TenantKeyHolderEntry,
} from "@latchkey/passwords";
import { decryptUnder, encryptUnder, KeyHierarchyError, rewrapEach, type KeyEncryptionKey, type RewrapReport } from "./key-hierarchy.ts";

type KeyStore = Pick<Prisma.TransactionClient, "tenantKeyPair" | "tenantKeyEpoch">;

function privateKeyAssociatedData(tenantId: string) {
  return `latchkey-tenant-private-key-v1|${tenantId}`;
}

function signingKeyAssociatedData(tenantId: string) {
  return `latchkey-tenant-signing-key-v1|${tenantId}`;
}

export function wrapTenantSigningKey(kek: KeyEncryptionKey, tenantId: string, pkcs8: Buffer) {
  return encryptUnder(kek.key, pkcs8, signingKeyAssociatedData(tenantId));
}

export function unwrapTenantSigningKey(kek: KeyEncryptionKey, tenantId: string, wrapped: string): Buffer {
  return decryptUnder(kek.key, wrapped, signingKeyAssociatedData(tenantId));
}

/** One superseded epoch, as clients are handed it to follow the hand-overs. */
export type TenantKeyLink = { epoch: number; statement: string; signature: string; handover: string | null };

/** A tenant key as clients are handed it: the signed statement and what it says, and the epochs before it. */
export type TenantKeyAnswer = {
  tenantId: string;
  epoch: number;
  publicKey: string;
  signingKey: string;
  custody: TenantKeyCustody;
  holders: TenantKeyHolderEntry[];
  statement: string;
  signature: string;
  handover: string | null;
  history: TenantKeyLink[];
};

export function wrapTenantPrivateKey(kek: KeyEncryptionKey, tenantId: string, privateKey: Uint8Array) {
  return encryptUnder(kek.key, Buffer.from(privateKey), privateKeyAssociatedData(tenantId));
}

export function unwrapTenantPrivateKey(kek: KeyEncryptionKey, tenantId: string, wrapped: string): Uint8Array {
  return new Uint8Array(decryptUnder(kek.key, wrapped, privateKeyAssociatedData(tenantId)));
}

/**
 * Holds a tenant's key at `epoch` until the caller's transaction ends: a no-op
 * write on the key row, conditional on the epoch. A secret sealed to that
 * epoch and stored in the same transaction is then either in place before a
 * switch to the next epoch (which re-seals it) or refused (false): never a
 * secret stored under an epoch that is gone.
 */
export async function holdEpoch(tx: Pick<Prisma.TransactionClient, "tenantKeyPair">, tenantId: string, epoch: number): Promise<boolean> {
  const { count } = await tx.tenantKeyPair.updateMany({ where: { tenantId, epoch }, data: { epoch } });
  return count === 1;
}

/** The server was asked for a tenant's private key, but only the tenant's holders have it. */
export class MasterKeyOnError extends KeyHierarchyError {
  override name = "MasterKeyOnError";
}

export class TenantKeys {
  constructor(private readonly kek: KeyEncryptionKey) {}

  get keyId() {
    return this.kek.id;
  }

  /**
   * The tenant's public key (raw X25519, base64url), made at the first call.
   * Two instances may make one at once: the primary key lets one insert win,
   * and both use the row that won.
   */
  async publicKeyFor(db: KeyStore, tenantId: string): Promise<string> {
    const existing = await db.tenantKeyPair.findUnique({ where: { tenantId }, select: { publicKey: true } });
    if (existing) return existing.publicKey;
    const pair = await generateTenantKeyPair();
    await db.tenantKeyPair.createMany({
      data: [{ tenantId, publicKey: pair.publicKey, keyId: this.kek.id, wrappedPrivateKey: wrapTenantPrivateKey(this.kek, tenantId, pair.privateKey) }],
      skipDuplicates: true,
    });
    const stored = await db.tenantKeyPair.findUnique({ where: { tenantId }, select: { publicKey: true } });
    if (!stored) throw new KeyHierarchyError(`The key pair of tenant ${tenantId} could not be stored`);
    return stored.publicKey;
  }

  /**
   * The tenant key's signed statement (see @latchkey/passwords tenant-key-statement),
   * made with the key pair at the first call. While the master key is off the
   * signing key is escrowed beside the private key, so the server signs: custody
   * ESCROW. Two instances may sign at once: the update is conditional, one
   * signing key wins, and both answer with it.
   */
  async statementFor(db: KeyStore, tenantId: string): Promise<TenantKeyAnswer> {
    let row = await db.tenantKeyPair.findUnique({ where: { tenantId } });
    if (!row) {
      await this.publicKeyFor(db, tenantId);
      row = await db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId } });
    }
    const history = row.epoch > 1 ? await this.history(db, tenantId, row.epoch) : [];
    if (row.custody === "MASTER_KEY") {
      // Signed by the holder who made the epoch: handed out exactly as stored.
      const statement = row.statement ? parseTenantKeyStatement(row.statement) : null;
      if (!statement || !row.statementSignature) throw new KeyHierarchyError(`The master key statement of tenant ${tenantId} is missing`);
      return { ...statement, holders: statement.holders ?? [], statement: row.statement!, signature: row.statementSignature, handover: row.handoverSignature, history };
    }
    if (!row.signingPublicKey || !row.statementSignature) {
      // Sign only the public half of the escrowed private key: a public key swapped into the
      // row (with the signing columns cleared) must not get a statement of its own.
      if ((await x25519PublicKey(this.unwrap(tenantId, row))) !== row.publicKey) {
        throw new KeyHierarchyError(`The public key of tenant ${tenantId} is not the escrowed private key's: refusing to sign it`);
      }
      const pair = generateKeyPairSync("ed25519");
      const signingKey = pair.publicKey.export({ format: "jwk" }).x!;
      const statement = tenantKeyStatement({ tenantId, epoch: row.epoch, publicKey: row.publicKey, signingKey, custody: "ESCROW" });
      await db.tenantKeyPair.updateMany({
        where: { tenantId, keyId: this.kek.id, signingPublicKey: null },
        data: {
          signingPublicKey: signingKey,
          wrappedSigningKey: wrapTenantSigningKey(this.kek, tenantId, pair.privateKey.export({ format: "der", type: "pkcs8" })),
          statementSignature: sign(null, Buffer.from(statement, "utf8"), pair.privateKey).toString("base64url"),
        },
      });
      row = await db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId } });
      // Rewrapped between the read and the update: nothing was signed; the next call signs.
      if (!row.signingPublicKey || !row.statementSignature) throw new KeyHierarchyError(`The key pair of tenant ${tenantId} changed while it was being signed`);
    }
    const signingKey = row.signingPublicKey;
    return {
      tenantId,
      epoch: row.epoch,
      publicKey: row.publicKey,
      signingKey,
      custody: "ESCROW",
      holders: [],
      statement: tenantKeyStatement({ tenantId, epoch: row.epoch, publicKey: row.publicKey, signingKey, custody: "ESCROW" }),
      signature: row.statementSignature,
      handover: row.handoverSignature,
      history,
    };
  }

  /** The statements of the epochs before `epoch`, oldest first. */
  private async history(db: KeyStore, tenantId: string, epoch: number): Promise<TenantKeyLink[]> {
    const rows = await db.tenantKeyEpoch.findMany({ where: { tenantId, epoch: { lt: epoch } }, orderBy: { epoch: "asc" } });
    return rows.map((link) => ({ epoch: link.epoch, statement: link.statement, signature: link.signature, handover: link.handoverSignature }));
  }

  /**
   * The escrowed signing key's signature over `text` (the hand-over of the next
   * epoch's statement, when the master key is turned on). Throws without escrow.
   */
  async signWithEscrow(db: KeyStore, tenantId: string, text: string): Promise<string> {
    const row = await db.tenantKeyPair.findUnique({ where: { tenantId } });
    if (!row || row.custody !== "ESCROW" || !row.wrappedSigningKey || row.keyId !== this.kek.id) {
      throw new KeyHierarchyError(`Tenant ${tenantId} has no escrowed signing key under this key-encryption key`);
    }
    const key = createPrivateKey({ key: unwrapTenantSigningKey(this.kek, tenantId, row.wrappedSigningKey), format: "der", type: "pkcs8" });
    return sign(null, Buffer.from(text, "utf8"), key).toString("base64url");
  }

  /** The escrowed private key; throws when the tenant has none or it is wrapped under another key-encryption key. */
  async privateKey(db: KeyStore, tenantId: string): Promise<Uint8Array> {
    const row = await db.tenantKeyPair.findUnique({ where: { tenantId } });
    if (!row) throw new KeyHierarchyError(`Tenant ${tenantId} has no key pair`);
    return this.unwrap(tenantId, row);
  }

  /** A key pair row's private key, when it is wrapped under this instance's key-encryption key. */
  private unwrap(tenantId: string, row: { keyId: string | null; wrappedPrivateKey: string | null }): Uint8Array {
    if (row.keyId === null || row.wrappedPrivateKey === null) {
      throw new MasterKeyOnError(`The master key of tenant ${tenantId} is on: only its holders have the private key`);
    }
    if (row.keyId !== this.kek.id) {
      throw new KeyHierarchyError(
        `The key pair of tenant ${tenantId} is wrapped under key-encryption key "${row.keyId}", but this instance has "${this.kek.id}"`,
      );
    }
    return unwrapTenantPrivateKey(this.kek, tenantId, row.wrappedPrivateKey);
  }

  /**
   * A user's sealed password, opened for re-sealing to a workstation. Throws
   * when it does not open: sealed for another user, version or record, or altered.
   */
  async openPassword(
    db: KeyStore,
    user: { id: string; tenantId: string; passwordVersion: number; opaqueRecord: string; sealedPassword: SealedSecret },
  ): Promise<string> {
    return openFromTenant({
      tenantPrivateKey: await this.privateKey(db, user.tenantId),
      tenantId: user.tenantId,
      userId: user.id,
      passwordVersion: user.passwordVersion,
      record: user.opaqueRecord,
      sealed: user.sealedPassword,
    });
  }
}

type KeyPairRewrapStore = {
  tenantKeyPair: Prisma.TransactionClient["tenantKeyPair"];
  $transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T>;
};

/**
 * Rewraps every tenant private key wrapped under `from` so it is wrapped under
 * `to`, one transaction per key, conditional on the row read: an interrupted
 * run leaves each key under one key-encryption key or the other, and can
 * simply be run again. The public keys, and every sealed password, stay as they are.
 */
export async function rewrapTenantKeyPairs(db: KeyPairRewrapStore, from: KeyEncryptionKey, to: KeyEncryptionKey): Promise<RewrapReport> {
  // With the master key on there is no escrow to rewrap.
  const rows = await db.tenantKeyPair.findMany({ where: { keyId: { not: null } }, select: { tenantId: true, keyId: true }, orderBy: { tenantId: "asc" } });
  return rewrapEach(rows as { tenantId: string; keyId: string }[], from, to, (tenantId) =>
    db.$transaction(async (tx) => {
      const row = await tx.tenantKeyPair.findUnique({ where: { tenantId } });
      if (!row || row.keyId !== from.id || !row.wrappedPrivateKey) return false;
      const privateKey = unwrapTenantPrivateKey(from, tenantId, row.wrappedPrivateKey);
      // The signing key is escrowed under the same key-encryption key, and moves with it.
      const wrappedSigningKey = row.wrappedSigningKey
        ? wrapTenantSigningKey(to, tenantId, unwrapTenantSigningKey(from, tenantId, row.wrappedSigningKey))
        : null;
      const { count } = await tx.tenantKeyPair.updateMany({
        where: { tenantId, keyId: from.id, wrappedPrivateKey: row.wrappedPrivateKey, wrappedSigningKey: row.wrappedSigningKey },
        data: { keyId: to.id, wrappedPrivateKey: wrapTenantPrivateKey(to, tenantId, privateKey), wrappedSigningKey, rotatedAt: new Date() },
      });
      return count === 1;
    }),
  );
}
