// Customer directory passwords kept reversibly, beside their Argon2id hash, so a
// workstation can later be given the user's password to create or take over the
// local account. Only customer tenants' users: MSP users sign in to the portal
// only, and their passwords are never stored in a form that can be read back.
import type { Prisma, TenantKind } from "@latchkey/db";
import { decryptUnder, encryptUnder, type TenantKeyring } from "./key-hierarchy.ts";

/**
 * Binds a ciphertext to one tenant, one user and one password version: copied
 * to another user, or left over from an earlier password, it no longer opens.
 */
export function passwordAssociatedData(tenantId: string, userId: string, passwordVersion: number) {
  return `latchkey-password-v1|${tenantId}|${userId}|${passwordVersion}`;
}

export function encryptPassword(dataKey: Buffer, password: string, associatedData: string): string {
  return encryptUnder(dataKey, Buffer.from(password, "utf8"), associatedData);
}

export function decryptPassword(dataKey: Buffer, ciphertext: string, associatedData: string): string {
  return decryptUnder(dataKey, ciphertext, associatedData).toString("utf8");
}

/** Whose passwords are kept reversibly: customer directory users only. */
export function keepsPasswordsAtRest(kind: TenantKind) {
  return kind === "CUSTOMER";
}

type Db = Pick<Prisma.TransactionClient, "tenantDataKey" | "user">;

export type PasswordOwner = { id: string; tenantId: string; tenantKind: TenantKind };

export class PasswordVault {
  constructor(readonly keyring: TenantKeyring) {}

  /**
   * The ciphertext to store with `passwordVersion` of the owner's password, or
   * null for users whose passwords are not kept. Creates the tenant's data key
   * at its first password.
   */
  async encryptFor(db: Db, owner: PasswordOwner, passwordVersion: number, password: string): Promise<string | null> {
    if (!keepsPasswordsAtRest(owner.tenantKind)) return null;
    const dataKey = await this.keyring.dataKeyFor(db, owner.tenantId);
    return encryptPassword(dataKey, password, passwordAssociatedData(owner.tenantId, owner.id, passwordVersion));
  }

  /**
   * A password set before passwords were kept at rest, captured once it has
   * just been verified against the hash. Conditional on the hash and version
   * read, so a password changed meanwhile is never overwritten with an old one.
   * True when it was stored.
   */
  async captureVerified(
    db: Db,
    user: PasswordOwner & { passwordHash: string; passwordVersion: number; passwordCiphertext: string | null },
    password: string,
  ): Promise<boolean> {
    if (user.passwordCiphertext !== null || !keepsPasswordsAtRest(user.tenantKind)) return false;
    const passwordCiphertext = await this.encryptFor(db, user, user.passwordVersion, password);
    const { count } = await db.user.updateMany({
      where: { id: user.id, passwordHash: user.passwordHash, passwordVersion: user.passwordVersion, passwordCiphertext: null },
      data: { passwordCiphertext },
    });
    return count === 1;
  }

  /**
   * The user's current password in clear, or null when none is kept. For
   * handing a password to a workstation (sealed to its key); never exposed
   * through GraphQL. Throws when the ciphertext does not open: tampered with,
   * copied from another user or version, or under a key this instance lacks.
   */
  async revealPassword(db: Db, userId: string): Promise<string | null> {
    const user = await db.user.findUnique({
      where: { id: userId },
      select: { id: true, tenantId: true, passwordVersion: true, passwordCiphertext: true },
    });
    if (!user?.passwordCiphertext) return null;
    const dataKey = await this.keyring.existingDataKey(db, user.tenantId);
    if (!dataKey) throw new Error(`Tenant ${user.tenantId} has a stored password but no data key`);
    return decryptPassword(dataKey, user.passwordCiphertext, passwordAssociatedData(user.tenantId, user.id, user.passwordVersion));
  }
}
