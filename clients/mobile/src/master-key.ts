// The phone's side of turning a customer's master key on. Everything the
// server hands over is checked before it is used: the current key's statement
// against this phone's pin, and every holder's key-agreement key against that
// phone's own signature over it. The new key is made here, every secret is
// re-sealed to it here, and only results leave the phone: the new statement,
// one copy of the key per holder (sealed to that holder), the re-sealed
// secrets and this phone's signature over the use of the key.
import {
  generateTenantKey,
  keyUseEvidence,
  openForOperation,
  sealBreakGlass,
  sealToTenant,
  signWithTenantKey,
  tenantKeyStatement,
  wrapForHolder,
  type SealedSecret,
  type TenantKeyAnswer,
  type TenantKeyHolderEntry,
} from "@latchkey/passwords";
import { AuthenticatorError } from "./authenticator-error.ts";
import { deviceSignatureHolds, type DeviceKeyAlgorithm } from "./device-key.ts";
import { keyAgreementKeyBytes } from "./key-agreement-key.ts";

/** The API's `KeyOperationWork`. */
export interface KeyOperationWork {
  keyOperation: { id: string; tenantId: string; purpose: string; status: string; expiresAt: string };
  tenantKey: TenantKeyAnswer & { epoch: number };
  holders: {
    authenticatorId: string;
    name: string;
    userLabel: string;
    algorithm: DeviceKeyAlgorithm;
    publicKey: string;
    keyAgreementKey: string;
    keyAgreementSignature: string;
  }[];
  secrets: {
    kind: "USER_PASSWORD" | "BREAK_GLASS_PASSWORD";
    id: string;
    version: number;
    record: string | null;
    workstationId: string | null;
    account: string | null;
    sealed: SealedSecret;
  }[];
}

/** The `EnableMasterKeyInput` this phone sends. */
export interface MasterKeyResult {
  keyOperationId: string;
  statement: string;
  signature: string;
  holderCopies: { authenticatorId: string; sealed: SealedSecret }[];
  secrets: { kind: string; id: string; version: number; sealed: SealedSecret }[];
  evidence: { signedAt: string; signature: string };
}

/**
 * Does the work of an ENABLE_MASTER_KEY operation whose current key statement
 * the caller has verified (epoch `currentEpoch`). `self` is this phone.
 */
export async function turnMasterKeyOn(
  work: KeyOperationWork,
  currentEpoch: number,
  self: { deviceId: string; keyAgreementKey: string; keyAgreementPrivateKey: Uint8Array; sign: (bytes: Uint8Array<ArrayBuffer>) => Promise<string> },
  now: Date,
): Promise<MasterKeyResult> {
  const tenantId = work.keyOperation.tenantId;
  const operationId = work.keyOperation.id;
  // A holder the server made up, or a key the server swapped in, is not vouched for by the phone it names.
  for (const holder of work.holders) {
    const bytes = keyAgreementKeyBytes(holder.authenticatorId, holder.keyAgreementKey);
    if (!(await deviceSignatureHolds(holder.algorithm, holder.publicKey, bytes, holder.keyAgreementSignature))) {
      throw new AuthenticatorError("HOLDER_REFUSED", `the key-agreement key of ${holder.name} (${holder.userLabel}) is not signed by that phone`);
    }
  }
  const me = work.holders.find((holder) => holder.authenticatorId === self.deviceId);
  if (!me || me.keyAgreementKey !== self.keyAgreementKey) {
    throw new AuthenticatorError("HOLDER_REFUSED", "this phone is not among the holders the server listed, or with another key");
  }

  const material = await generateTenantKey();
  const epoch = currentEpoch + 1;
  const holders: TenantKeyHolderEntry[] = work.holders.map((holder) => ({ kind: "PHONE", id: holder.authenticatorId, keyAgreementKey: holder.keyAgreementKey }));
  const statement = tenantKeyStatement({ tenantId, epoch, publicKey: material.publicKey, signingKey: material.signingKey, custody: "MASTER_KEY", holders });
  const holderCopies = await Promise.all(
    holders.map(async (holder) => ({
      authenticatorId: holder.id,
      sealed: await wrapForHolder({ tenantId, epoch, holderId: holder.id, holderKey: holder.keyAgreementKey, material }),
    })),
  );
  const secrets = [];
  for (const secret of work.secrets) {
    const plain = await openForOperation({ operationId, kind: secret.kind, id: secret.id, version: secret.version, phonePrivateKey: self.keyAgreementPrivateKey, sealed: secret.sealed });
    const sealed =
      secret.kind === "USER_PASSWORD"
        ? await sealToTenant({ tenantId, userId: secret.id, passwordVersion: secret.version, record: secret.record!, tenantPublicKey: material.publicKey, password: plain })
        : await sealBreakGlass({ tenantId, workstationId: secret.workstationId!, account: secret.account!, rotation: secret.version, tenantPublicKey: material.publicKey, password: plain });
    secrets.push({ kind: secret.kind, id: secret.id, version: secret.version, sealed });
  }
  const signedAt = now.toISOString();
  const evidence = await keyUseEvidence({ tenantId, epoch, purpose: "ENABLE_MASTER_KEY", operationId, signedAt, statement });
  return {
    keyOperationId: operationId,
    statement,
    signature: await signWithTenantKey(material, statement),
    holderCopies,
    secrets,
    evidence: { signedAt, signature: await self.sign(evidence) },
  };
}
