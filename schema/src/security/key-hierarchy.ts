// Two levels of keys for the secrets the server itself must read back (each
// webhook's signing secret, to sign what it sends). Never for a password: those
// the server does not know (OPAQUE), and a customer's are sealed to its tenant key.
//   key-encryption key (KEK, from configuration, named by a key id)
//     wraps one data key per tenant that has such a secret (32 random bytes, TenantDataKey)
//       which encrypts that tenant's secrets.
// A database dump alone reveals nothing; rotating the KEK rewraps the small data
// keys and leaves every ciphertext as it is. AES-256-GCM from node:crypto only.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Prisma } from "@latchkey/db";

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** First byte of every ciphertext we write, so the layout can change later without guessing. */
const FORMAT_V1 = 1;

export type KeyEncryptionKey = {
  /** Stored beside each wrapped key, so a rotation knows which keys it has already rewrapped. */
  id: string;
  key: Buffer;
};

/** A KEK id is stored and printed: keep it short and plain. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export class KeyHierarchyError extends Error {
  override name = "KeyHierarchyError";
}

/** Decodes a base64 (or base64url) KEK of exactly 32 bytes; null when it is anything else. */
export function decodeKeyEncryptionKey(encoded: string): Buffer | null {
  const text = encoded.trim();
  // Buffer.from skips characters it does not know, so check the alphabet first.
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return null;
  const key = Buffer.from(text, "base64");
  return key.length === KEY_BYTES ? key : null;
}

/** AES-256-GCM with a fresh 12-byte IV; `associatedData` binds the ciphertext to where it belongs. */
export function encryptUnder(key: Buffer, plaintext: Buffer, associatedData: string): string {
  if (key.length !== KEY_BYTES) throw new KeyHierarchyError("AES-256-GCM needs a 32-byte key");
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), body]).toString("base64");
}

/** Opens what encryptUnder wrote; throws when the key, the associated data or a byte differs. */
export function decryptUnder(key: Buffer, sealed: string, associatedData: string): Buffer {
  if (key.length !== KEY_BYTES) throw new KeyHierarchyError("AES-256-GCM needs a 32-byte key");
  const bytes = Buffer.from(sealed, "base64");
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT_V1) {
    throw new KeyHierarchyError("Not a ciphertext this server wrote");
  }
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(associatedData, "utf8"));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new KeyHierarchyError("Ciphertext does not open with this key and associated data");
  }
}

/** A wrapped key opens only as the data key of the tenant it was made for. */
function dataKeyAssociatedData(tenantId: string) {
  return `latchkey-tenant-data-key-v1|${tenantId}`;
}

export function wrapDataKey(kek: KeyEncryptionKey, tenantId: string, dataKey: Buffer): string {
  return encryptUnder(kek.key, dataKey, dataKeyAssociatedData(tenantId));
}

export function unwrapDataKey(kek: KeyEncryptionKey, tenantId: string, wrappedKey: string): Buffer {
  const dataKey = decryptUnder(kek.key, wrappedKey, dataKeyAssociatedData(tenantId));
  if (dataKey.length !== KEY_BYTES) throw new KeyHierarchyError("A tenant data key must be 32 bytes");
  return dataKey;
}

/** Anything that can read and write TenantDataKey: the client or a transaction. */
type KeyStore = Pick<Prisma.TransactionClient, "tenantDataKey">;

type StoredDataKey = { tenantId: string; keyId: string; wrappedKey: string };

/** Opens tenant data keys with this instance's KEK, creating them on first use. */
export class TenantKeyring {
  constructor(private readonly kek: KeyEncryptionKey) {}

  get keyId() {
    return this.kek.id;
  }

  private open(row: StoredDataKey): Buffer {
    if (row.keyId !== this.kek.id) {
      throw new KeyHierarchyError(
        `The data key of tenant ${row.tenantId} is wrapped under key-encryption key "${row.keyId}", ` +
          `but this instance has "${this.kek.id}": configure that key, or finish rewrapping with rewrap-keys`,
      );
    }
    return unwrapDataKey(this.kek, row.tenantId, row.wrappedKey);
  }

  /** The tenant's data key, or null when it has none yet. */
  async existingDataKey(db: KeyStore, tenantId: string): Promise<Buffer | null> {
    const row = await db.tenantDataKey.findUnique({ where: { tenantId } });
    return row ? this.open(row) : null;
  }

  /**
   * The tenant's data key, created at the first call. Two instances may create
   * one at once: the primary key lets exactly one insert win (ON CONFLICT DO
   * NOTHING, which also leaves a surrounding transaction usable), and both use
   * the row that won.
   */
  async dataKeyFor(db: KeyStore, tenantId: string): Promise<Buffer> {
    const existing = await this.existingDataKey(db, tenantId);
    if (existing) return existing;
    const fresh = randomBytes(KEY_BYTES);
    await db.tenantDataKey.createMany({
      data: [{ tenantId, keyId: this.kek.id, wrappedKey: wrapDataKey(this.kek, tenantId, fresh) }],
      skipDuplicates: true,
    });
    const stored = await this.existingDataKey(db, tenantId);
    if (!stored) throw new KeyHierarchyError(`The data key of tenant ${tenantId} could not be stored`);
    return stored;
  }
}

export type RewrapReport = {
  /** Keys moved from the old KEK to the new one. */
  rewrapped: number;
  /** Keys already under the new KEK (a rerun after an interruption). */
  alreadyCurrent: number;
  /** Keys under neither KEK, by key id: left as they are. */
  otherKeyIds: Record<string, number>;
  /** Keys labelled with the old id that the old KEK does not open. */
  failed: { tenantId: string; reason: string }[];
};

type RewrapStore = {
  tenantDataKey: Prisma.TransactionClient["tenantDataKey"];
  $transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T>;
};

/**
 * Rewraps every tenant data key wrapped under `from` so it is wrapped under
 * `to`, one transaction per key: an interrupted run leaves each key under one
 * KEK or the other, never lost, and can simply be run again.
 */
export async function rewrapTenantKeys(db: RewrapStore, from: KeyEncryptionKey, to: KeyEncryptionKey): Promise<RewrapReport> {
  const rows = await db.tenantDataKey.findMany({ select: { tenantId: true, keyId: true }, orderBy: { tenantId: "asc" } });
  return rewrapEach(rows, from, to, (tenantId) =>
    db.$transaction(async (tx) => {
      const row = await tx.tenantDataKey.findUnique({ where: { tenantId } });
      if (!row || row.keyId !== from.id) return false;
      const dataKey = unwrapDataKey(from, tenantId, row.wrappedKey);
      // Conditional on the row read: another run rewrapping at once changes it and this one skips.
      const { count } = await tx.tenantDataKey.updateMany({
        where: { tenantId, keyId: from.id, wrappedKey: row.wrappedKey },
        data: { keyId: to.id, wrappedKey: wrapDataKey(to, tenantId, dataKey), rotatedAt: new Date() },
      });
      return count === 1;
    }),
  );
}

/**
 * The walk every rewrap shares: keys already under `to` and keys under
 * neither KEK are counted and left; each key under `from` is handed to `move`
 * (true: rewrapped; false: another run got there first), and a key that
 * fails is reported without stopping the others.
 */
export async function rewrapEach(
  rows: { tenantId: string; keyId: string }[],
  from: KeyEncryptionKey,
  to: KeyEncryptionKey,
  move: (tenantId: string) => Promise<boolean>,
): Promise<RewrapReport> {
  if (from.id === to.id) throw new KeyHierarchyError("The new key-encryption key needs a key id of its own");
  const report: RewrapReport = { rewrapped: 0, alreadyCurrent: 0, otherKeyIds: {}, failed: [] };
  for (const { tenantId, keyId } of rows) {
    if (keyId === to.id) {
      report.alreadyCurrent += 1;
      continue;
    }
    if (keyId !== from.id) {
      report.otherKeyIds[keyId] = (report.otherKeyIds[keyId] ?? 0) + 1;
      continue;
    }
    try {
      if (await move(tenantId)) report.rewrapped += 1;
      else report.alreadyCurrent += 1;
    } catch (error) {
      report.failed.push({ tenantId, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}
