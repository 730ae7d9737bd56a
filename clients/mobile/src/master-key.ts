// The phone's side of a key operation: turning a customer's master key on, or
// rotating it. Everything the server hands over is checked before it is used:
// the current key's statement against this phone's pin (by the caller), every
// holder against that statement or, for a phone joining, against the
// fingerprint the person here read off it (and its own signature over its key),
// and (rotating) this phone's copy of the key against the statement. The new key
// is made here, every secret is re-sealed to it here, and only results leave
// the phone: the new statement, one copy of the key per holder (sealed to that
// holder), the re-sealed secrets, the hand-over signed with the old key
// (rotating) and this phone's signature over the use of the key.
import {
  browserKeyHash,
  generateTenantKey,
  holderFingerprint,
  normalizeFingerprint,
  keyUseEvidence,
  newRecoveryCode,
  parseRecoveryCode,
  RecoveryCodeError,
  recoveryKitKey,
  openAsHolder,
  openBreakGlass,
  openForOperation,
  openFromTenant,
  phoneVouchesForKey,
  sealBreakGlass,
  sealForPhones,
  revealSubject,
  sealRevealToBrowser,
  sealToTenant,
  signWithTenantKey,
  tenantKeyStatement,
  wrapForHolder,
  type SealablePhone,
  type SealedSecret,
  type TenantKeyAnswer,
  type TenantKeyMaterial,
  type TenantKeyHolderEntry,
  type TenantKeyStatement,
} from "@latchkey/passwords/sealing";
import { AuthenticatorError } from "./authenticator-error.ts";
import type { DeviceKeyAlgorithm } from "./device-key.ts";

/** The API's `KeyOperationWork`. */
export interface KeyOperationWork {
  keyOperation: { id: string; tenantId: string; purpose: string; status: string; expiresAt: string };
  /** The customer whose key the work is about (for an MSP's rotation, one of its due customers). */
  tenantId: string;
  tenantKey: TenantKeyAnswer & { epoch: number };
  holders: {
    kind: "PHONE" | "RECOVERY_KIT";
    holderId: string;
    name: string;
    userLabel: string;
    algorithm: DeviceKeyAlgorithm | null;
    publicKey: string | null;
    keyAgreementKey: string;
    keyAgreementSignature: string | null;
  }[];
  secrets: OperationSecret[];
  /** Rotating, creating a kit: this phone's copy of the current key. */
  holderCopy?: SealedSecret | null;
  /** Recovering: every kit's copy of the current key. */
  recoveryKitCopies?: { holderId: string; keyAgreementKey: string; sealed: SealedSecret }[];
  /** Revealing a break-glass password: the browser's one-time key to seal it to. */
  browserKey?: string | null;
}

type OperationSecret = {
  kind: "USER_PASSWORD" | "BREAK_GLASS_PASSWORD";
  id: string;
  version: number;
  record: string | null;
  workstationId: string | null;
  account: string | null;
  sealed: SealedSecret;
  /** USER_PASSWORD: the user's phones with no copy yet. */
  phonesWithoutCopy?: SealablePhone[];
};

/** The `EnableMasterKeyInput` this phone sends. */
export interface MasterKeyResult {
  keyOperationId: string;
  statement: string;
  signature: string;
  holderCopies: { holderId: string; sealed: SealedSecret }[];
  secrets: { kind: string; id: string; version: number; sealed: SealedSecret; phoneCopies?: { authenticatorId: string; sealed: SealedSecret }[] }[];
  evidence: { signedAt: string; signature: string };
  /** Rotating: the old epoch's signing key's signature over `statement`. */
  handover?: string;
}

export type KeyOperationPhone = {
  deviceId: string;
  keyAgreementKey: string;
  keyAgreementPrivateKey: Uint8Array;
  sign: (bytes: Uint8Array<ArrayBuffer>) => Promise<string>;
};

export const KEY_OPERATION_PURPOSES = ["ENABLE_MASTER_KEY", "ROTATE_TENANT_KEY", "CREATE_RECOVERY_KIT", "RECOVER_TENANT_KEY"] as const;
/** The purposes that make a new epoch (doKeyOperation). */
export type KeyOperationPurpose = (typeof KEY_OPERATION_PURPOSES)[number];

/**
 * What the person holding the phone brings to an operation: the recovery code
 * they type, when recovering; whether to retire every recovery kit (a kit's code
 * seen by someone it should not have been), when rotating; the fingerprints of
 * the new phones they admit, read off each new phone's own screen.
 */
export type KeyOperationExtras = { recoveryCode?: string; retireRecoveryKits?: boolean; admit?: string[] };

/** A phone that may hold the key but was not admitted in this operation. */
export type AwaitingPhone = { holderId: string; name: string; userLabel: string };

/**
 * Does the work of a key operation whose current key statement the caller has
 * verified. `self` is this phone. Returns the result to send; creating a
 * recovery kit also returns the kit's code, to be shown once and never sent;
 * every operation returns the phones left waiting for admission.
 */
export async function doKeyOperation(
  work: KeyOperationWork,
  current: TenantKeyStatement,
  self: KeyOperationPhone,
  now: Date,
  extras: KeyOperationExtras = {},
): Promise<{ result: MasterKeyResult; recoveryCode?: string; awaiting: AwaitingPhone[] }> {
  const tenantId = work.tenantId;
  const operationId = work.keyOperation.id;
  const purpose = work.keyOperation.purpose as KeyOperationPurpose;
  if (!KEY_OPERATION_PURPOSES.includes(purpose)) throw new AuthenticatorError("UNKNOWN_KEY_OPERATION", `this phone does not know the key operation ${purpose}`);
  // Which phones hold the new key is decided here, not by the server: the holders of the verified current
  // statement that may still hold it, this phone, and the phones the person at this phone admits by typing
  // the fingerprint each shows on its own screen. Any other phone the server lists waits for admission.
  const admit = new Set((extras.admit ?? []).map(normalizeFingerprint));
  const kept: KeyOperationWork["holders"] = [];
  const awaiting: KeyOperationWork["holders"] = [];
  for (const holder of work.holders) {
    const listed = current.holders?.some((entry) => entry.kind === holder.kind && entry.id === holder.holderId && entry.keyAgreementKey === holder.keyAgreementKey);
    if (holder.kind === "RECOVERY_KIT") {
      // A kit is vouched for by the statement that admitted it, and may be retired.
      if (!listed) throw new AuthenticatorError("HOLDER_REFUSED", "a recovery kit the server listed is not in the verified statement");
      if (!extras.retireRecoveryKits) kept.push(holder);
      continue;
    }
    const isSelf = holder.holderId === self.deviceId;
    if (isSelf && holder.keyAgreementKey !== self.keyAgreementKey) throw new AuthenticatorError("HOLDER_REFUSED", "the server listed this phone with another key");
    const fingerprint = await holderFingerprint(holder.holderId, holder.keyAgreementKey);
    const admitted = admit.delete(fingerprint);
    if (listed || isSelf) kept.push(holder);
    else if (admitted) {
      // The phone itself vouches for its key too: a key the server swapped in after it was shown would not verify.
      const vouched =
        holder.algorithm && holder.publicKey && holder.keyAgreementSignature
          ? await phoneVouchesForKey({ authenticatorId: holder.holderId, algorithm: holder.algorithm, publicKey: holder.publicKey, keyAgreementKey: holder.keyAgreementKey, keyAgreementSignature: holder.keyAgreementSignature })
          : false;
      if (!vouched) throw new AuthenticatorError("HOLDER_REFUSED", `the key-agreement key of ${holder.name} (${holder.userLabel}) is not signed by that phone`);
      kept.push(holder);
    } else awaiting.push(holder);
  }
  if (!kept.some((holder) => holder.kind === "PHONE" && holder.holderId === self.deviceId)) {
    throw new AuthenticatorError("HOLDER_REFUSED", "this phone is not among the phones the server lists as allowed to hold the key");
  }
  if (admit.size > 0) {
    throw new AuthenticatorError("ADMISSION_NOT_FOUND", `no phone waiting to hold the key shows the fingerprint ${[...admit].join(", ")}: check it on the new phone`);
  }

  const open =
    purpose === "ENABLE_MASTER_KEY"
      ? openSentToPhone(operationId, self)
      : purpose === "RECOVER_TENANT_KEY"
        ? await openWithRecoveryKit(work, current, extras.recoveryCode)
        : await openWithHeldKey(work, current, self);
  const material = await generateTenantKey();
  const epoch = current.epoch + 1;
  const holders: TenantKeyHolderEntry[] = kept.map((holder) => ({ kind: holder.kind, id: holder.holderId, keyAgreementKey: holder.keyAgreementKey }));
  const kit = purpose === "CREATE_RECOVERY_KIT" ? newRecoveryCode() : null;
  if (kit) holders.push({ kind: "RECOVERY_KIT", id: crypto.randomUUID(), keyAgreementKey: (await recoveryKitKey(kit.bytes, tenantId)).publicKey });
  const statement = tenantKeyStatement({ tenantId, epoch, publicKey: material.publicKey, signingKey: material.signingKey, custody: "MASTER_KEY", holders });
  const holderCopies = await Promise.all(
    holders.map(async (holder) => ({
      holderId: holder.id,
      sealed: await wrapForHolder({ tenantId, epoch, holderId: holder.id, holderKey: holder.keyAgreementKey, material }),
    })),
  );
  const secrets: MasterKeyResult["secrets"] = [];
  for (const secret of work.secrets) {
    const plain = await open(secret);
    if (secret.kind === "USER_PASSWORD") {
      const binding = { tenantId, userId: secret.id, passwordVersion: secret.version, record: secret.record! };
      const sealed = await sealToTenant({ ...binding, tenantPublicKey: material.publicKey, password: plain });
      // A phone of the user's linked after the password was set gets its copy here; one that does not vouch for its key, none.
      const phoneCopies = await sealForPhones(binding, secret.phonesWithoutCopy ?? [], plain);
      secrets.push({ kind: secret.kind, id: secret.id, version: secret.version, sealed, ...(phoneCopies.length ? { phoneCopies } : {}) });
    } else {
      const sealed = await sealBreakGlass({ tenantId, workstationId: secret.workstationId!, account: secret.account!, rotation: secret.version, tenantPublicKey: material.publicKey, password: plain });
      secrets.push({ kind: secret.kind, id: secret.id, version: secret.version, sealed });
    }
  }
  const signedAt = now.toISOString();
  const evidence = await keyUseEvidence({ tenantId, epoch, purpose, operationId, signedAt, statement });
  const result: MasterKeyResult = {
    keyOperationId: operationId,
    statement,
    signature: await signWithTenantKey(material, statement),
    holderCopies,
    secrets,
    evidence: { signedAt, signature: await self.sign(evidence) },
    ...(open.heldKey ? { handover: await signWithTenantKey(open.heldKey, statement) } : {}),
  };
  return {
    result,
    ...(kit ? { recoveryCode: kit.text } : {}),
    awaiting: awaiting.map((holder) => ({ holderId: holder.holderId, name: holder.name, userLabel: holder.userLabel })),
  };
}

type SecretOpener = ((secret: OperationSecret) => Promise<string>) & { heldKey?: TenantKeyMaterial };

/** Turning the key on: the server opened each secret from its escrow and sealed it to this phone. */
function openSentToPhone(operationId: string, self: KeyOperationPhone): SecretOpener {
  return (secret) => openForOperation({ operationId, kind: secret.kind, id: secret.id, version: secret.version, phonePrivateKey: self.keyAgreementPrivateKey, sealed: secret.sealed });
}

/** Rotating, creating a kit: this phone opens its own copy of the current key, and each secret as stored with it. */
async function openWithHeldKey(work: KeyOperationWork, current: TenantKeyStatement, self: KeyOperationPhone): Promise<SecretOpener> {
  if (!work.holderCopy) throw new AuthenticatorError("BAD_RESPONSE", "keyOperationWork sent no copy of the key");
  return openerWith(work, await openHeldCopy(work, current, { holderId: self.deviceId, privateKey: self.keyAgreementPrivateKey, sealed: work.holderCopy }, "this phone's copy"));
}

/** Opens a holder's copy of the current key; it must be the key of the verified statement. */
async function openHeldCopy(work: KeyOperationWork, current: TenantKeyStatement, holder: { holderId: string; privateKey: Uint8Array; sealed: SealedSecret }, what: string) {
  return openAsHolder({
    tenantId: work.tenantId,
    epoch: current.epoch,
    holderId: holder.holderId,
    holderPrivateKey: holder.privateKey,
    sealed: holder.sealed,
    publicKey: current.publicKey,
    signingKey: current.signingKey,
  }).catch((cause: unknown) => {
    throw new AuthenticatorError("HOLDER_COPY_REFUSED", `${what} of the key does not open, or is not the key of the verified statement`, { cause });
  });
}

/** Recovering: the typed code derives a kit's key, which opens that kit's copy of the current key. */
async function openWithRecoveryKit(work: KeyOperationWork, current: TenantKeyStatement, typed: string | undefined): Promise<SecretOpener> {
  if (!typed) throw new AuthenticatorError("INVALID_RECOVERY_CODE", "type the recovery kit's code");
  let code: Uint8Array;
  try {
    code = parseRecoveryCode(typed);
  } catch (error) {
    if (error instanceof RecoveryCodeError) throw new AuthenticatorError(error.code, error.message);
    throw error;
  }
  const tenantId = work.tenantId;
  const kitKey = await recoveryKitKey(code, tenantId);
  // The kit must be one the verified statement lists, whatever the server says.
  const listed = current.holders?.find((holder) => holder.kind === "RECOVERY_KIT" && holder.keyAgreementKey === kitKey.publicKey);
  const copy = listed && work.recoveryKitCopies?.find((kit) => kit.holderId === listed.id);
  if (!listed || !copy) throw new AuthenticatorError("RECOVERY_KIT_NOT_FOUND", "this code is not the code of a recovery kit that holds the key");
  return openerWith(work, await openHeldCopy(work, current, { holderId: listed.id, privateKey: kitKey.privateKey, sealed: copy.sealed }, "the recovery kit's copy"));
}

/** Opens each secret as stored, with the current key. */
function openerWith(work: KeyOperationWork, heldKey: TenantKeyMaterial): SecretOpener {
  const tenantId = work.tenantId;
  const open: SecretOpener = (secret) =>
    secret.kind === "USER_PASSWORD"
      ? openFromTenant({ tenantPrivateKey: heldKey.privateKey, tenantId, userId: secret.id, passwordVersion: secret.version, record: secret.record!, sealed: secret.sealed })
      : openBreakGlass({ tenantPrivateKey: heldKey.privateKey, tenantId, workstationId: secret.workstationId!, account: secret.account!, rotation: secret.version, sealed: secret.sealed });
  open.heldKey = heldKey;
  return open;
}

/** The `DeliverBreakGlassPasswordInput` this phone sends. */
export interface BreakGlassDelivery {
  keyOperationId: string;
  rotation: number;
  sealed: SealedSecret;
  evidence: { signedAt: string; signature: string };
}

/**
 * Reveals a break-glass password on this holder phone: opens its copy of the
 * current key, opens the one box of the work with it, and seals the password to
 * the browser key, only if that key's SHA-256 is `qrBrowserKeyHash`, the hash
 * the QR code on the screen carried (the server hands over the key itself).
 */
export async function revealBreakGlass(
  work: KeyOperationWork,
  current: TenantKeyStatement,
  self: KeyOperationPhone,
  qrBrowserKeyHash: string | undefined,
  now: Date,
): Promise<{ delivery: BreakGlassDelivery; workstationId: string; account: string }> {
  if (work.keyOperation.purpose !== "REVEAL_BREAK_GLASS_PASSWORD") throw new AuthenticatorError("WRONG_KEY_OPERATION", "this is not a break-glass reveal");
  if (!qrBrowserKeyHash) throw new AuthenticatorError("BROWSER_KEY_REFUSED", "the QR code names no browser key to seal the password to");
  if (!work.browserKey || (await browserKeyHash(work.browserKey)) !== qrBrowserKeyHash) {
    throw new AuthenticatorError("BROWSER_KEY_REFUSED", "the browser key the server handed over is not the one in the QR code");
  }
  const box = work.secrets.length === 1 && work.secrets[0]!.kind === "BREAK_GLASS_PASSWORD" ? work.secrets[0]! : null;
  if (!box?.workstationId || !box.account) throw new AuthenticatorError("BAD_RESPONSE", "keyOperationWork sent no break-glass box");
  const open = await openWithHeldKey(work, current, self);
  const password = await open(box);
  const binding = { operationId: work.keyOperation.id, workstationId: box.workstationId, account: box.account, rotation: box.version };
  const sealed = await sealRevealToBrowser({ ...binding, browserKey: work.browserKey, password });
  const signedAt = now.toISOString();
  // The evidence names the box opened and the browser key sealed to: the server cannot pass off one reveal as another.
  const evidence = await keyUseEvidence({
    tenantId: work.tenantId,
    epoch: current.epoch,
    purpose: "REVEAL_BREAK_GLASS_PASSWORD",
    operationId: binding.operationId,
    signedAt,
    statement: work.tenantKey.statement,
    subject: revealSubject(binding, qrBrowserKeyHash),
  });
  return {
    delivery: { keyOperationId: binding.operationId, rotation: box.version, sealed, evidence: { signedAt, signature: await self.sign(evidence) } },
    workstationId: box.workstationId,
    account: box.account,
  };
}
