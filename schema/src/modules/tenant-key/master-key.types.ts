import type { Challenge as ChallengeRow } from "@latchkey/db";
import { builder } from "../../builder.ts";
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { ChallengeStatus } from "../challenge/challenge.types.ts";
import { ChallengeWatch } from "../challenge/challenge.subscriptions.ts";
import { watchableChallenge } from "../challenge/challenge.service.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import { PasswordPhone, SealedSecretInput } from "../password/password.types.ts";
import { PhoneCopyInput } from "../password/password.mutations.ts";
import { SealedSecret } from "../desktop-login/desktop-login.types.ts";
import { Tenant } from "../tenant/tenant.types.ts";
import { TenantKey, TenantKeyHolderKind } from "./tenant-key.types.ts";
import { DeviceKeyAlgorithm } from "../authenticator/authenticator.types.ts";
import { deliverBreakGlassPassword, startPhoneReveal } from "../elevation/break-glass.service.ts";
import {
  dueCustomers,
  enableMasterKey,
  holderChanges,
  keyOperationTenants,
  keyOperationWork,
  nextEpoch,
  startKeyOperation,
  type OperationSecret,
} from "./master-key.service.ts";

export const KeyOperationPurpose = builder.enumType("KeyOperationPurpose", {
  description: "What a holder's phone is asked to do with a customer's tenant key.",
  values: {
    ENABLE_MASTER_KEY: {
      description: "Turn the master key on: the phone makes a new key, re-seals every secret to it and wraps it to every holder; the server's escrow is deleted.",
    },
    ROTATE_TENANT_KEY: {
      description:
        "Rotate the key (after a holder was removed, say): a holder's phone opens its copy, makes the next epoch's key, re-seals every secret to it, " +
        "wraps it to every phone that may hold it now and every recovery kit, and hands the epoch over with the old signing key.",
    },
    CREATE_RECOVERY_KIT: {
      description:
        "A rotation by a holder's phone that also admits a recovery kit: the phone shows the kit's code once; the kit's key is derived from it, so later rotations wrap to the kit too.",
    },
    RECOVER_TENANT_KEY: {
      description:
        "A phone of someone who may hold the key, but holds no copy (every holder phone lost), opens a recovery kit's copy with the code typed into it and rotates with itself among the holders. Emailed to every admin.",
    },
    REVEAL_BREAK_GLASS_PASSWORD: {
      description:
        "Reveal a workstation's break-glass password: a holder's phone opens the box with its copy of the key and seals the password to the browser key " +
        "whose SHA-256 the QR code carries (deliverBreakGlassPassword). Makes no new epoch; audited, emailed, and the agent rotates the password.",
    },
  } as const,
});

const RevealedBreakGlassPassword = builder.simpleObject("RevealedBreakGlassPassword", {
  description: "A break-glass password sealed to the browser key that asked for it.",
  fields: (t) => ({
    rotation: t.int({ description: "The agent's rotation counter of the box it came from (part of the binding)." }),
    sealed: t.field({ type: SealedSecret, description: "HPKE to the browser key." }),
  }),
});

export const KeyOperation = builder.objectRef<ChallengeRow>("KeyOperation").implement({
  description: "A private-key operation the portal asked for and a holder's phone carries out, with the state of its QR code.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Also the id in the QR code." }),
    tenantId: t.exposeID("tenantId", {
      description: "The customer whose key it works with; for an MSP's rotation of its due customers, the MSP (see keyOperationTenants).",
    }),
    purpose: t.field({ type: KeyOperationPurpose, description: "What the phone is asked to do.", resolve: (operation) => operation.keyOperationPurpose! }),
    status: t.field({
      type: ChallengeStatus,
      description: "PENDING until a phone scans it, SCANNED while it works, APPROVED once its result is in, DENIED or EXPIRED otherwise.",
      resolve: (operation) => operation.status,
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "The phone must send its result before this." }),
    workstationId: t.exposeID("workstationId", { nullable: true, description: "REVEAL_BREAK_GLASS_PASSWORD: the workstation whose password is revealed." }),
    account: t.exposeString("accountName", { nullable: true, description: "REVEAL_BREAK_GLASS_PASSWORD: the local admin account." }),
    revealedPassword: t.field({
      type: RevealedBreakGlassPassword,
      nullable: true,
      description:
        "REVEAL_BREAK_GLASS_PASSWORD, once APPROVED: the password the holder's phone sealed to the browser key (info `latchkey break-glass reveal v1`, " +
        "associated data `latchkey-break-glass-reveal-v1|<operation id>|<workstation id>|<account, lower case>|<rotation>`); only that key opens it.",
      resolve: (operation) =>
        operation.keyOperationPurpose === "REVEAL_BREAK_GLASS_PASSWORD" && operation.deliveredPassword && operation.deliveredPasswordVersion
          ? { rotation: operation.deliveredPasswordVersion, sealed: operation.deliveredPassword as never }
          : null,
    }),
  }),
});

const KeyOperationHolder = builder.simpleObject("KeyOperationHolder", {
  description:
    "A holder the next epoch's key may be wrapped to. A phone the verified current statement lists (same id and key) keeps holding it; any other " +
    "phone joins only when the person at the working phone admits it by typing the fingerprint the new phone shows (see @latchkey/passwords " +
    "holder-fingerprint), and after checking `keyAgreementSignature` with `publicKey` over " +
    "`latchkey-key-agreement-key-v1\\n<holderId>\\n<suite>\\n<keyAgreementKey>` (the phone itself vouches for the key). A recovery kit: " +
    "wrap only to a kit key listed in the verified current statement.",
  fields: (t) => ({
    kind: t.field({ type: TenantKeyHolderKind, description: "A phone or a recovery kit." }),
    holderId: t.id({ description: "The holder's id in the statement: the phone's authenticator id, or the kit's id." }),
    name: t.string({ description: "The phone's name, or `Recovery kit`." }),
    userLabel: t.string({ description: "Whose phone it is; empty for a kit." }),
    algorithm: t.field({ type: DeviceKeyAlgorithm, nullable: true, description: "A phone's signing key algorithm; null for a kit." }),
    publicKey: t.string({ nullable: true, description: "A phone's signing key, SPKI DER, base64." }),
    keyAgreementKey: t.string({ description: "The holder's X25519 key-agreement key, raw, base64url." }),
    keyAgreementSignature: t.string({ nullable: true, description: "A phone's own signature over its key-agreement key, base64url." }),
  }),
});

const RecoveryKitCopy = builder.simpleObject("RecoveryKitCopy", {
  description: "A recovery kit's copy of the current key: the code typed into the phone derives the key that opens it (see @latchkey/passwords recovery-kit).",
  fields: (t) => ({
    holderId: t.id({ description: "The kit's id in the statement." }),
    keyAgreementKey: t.string({ description: "The kit's X25519 public key, raw, base64url." }),
    sealed: t.field({ type: SealedSecret, description: "The copy (see @latchkey/passwords master-key)." }),
  }),
});


const KeyOperationSecretKind = builder.enumType("KeyOperationSecretKind", {
  description: "Which kind of sealed secret the phone re-seals.",
  values: {
    USER_PASSWORD: { description: "A directory user's password (binding: tenant, user, password version, registration record)." },
    BREAK_GLASS_PASSWORD: { description: "A local admin account's password (binding: tenant, workstation, account, rotation)." },
  } as const,
});

const KeyOperationSecret = builder.objectRef<OperationSecret>("KeyOperationSecret").implement({
  description:
    "One sealed secret, opened from the escrow and sealed to the working phone with info `latchkey key operation secret v1` and associated data " +
    "`latchkey-key-operation-secret-v1|<operation id>|<kind>|<id>|<version>`. Re-seal it to the new tenant key with its own binding.",
  fields: (t) => ({
    kind: t.field({ type: KeyOperationSecretKind, description: "A user's password or a break-glass password.", resolve: (secret) => secret.kind }),
    id: t.exposeID("id", { description: "The user's id, or the break-glass box's id." }),
    version: t.exposeInt("version", { description: "The password version, or the agent's rotation counter." }),
    record: t.exposeString("record", { nullable: true, description: "USER_PASSWORD: the OPAQUE registration record it is bound to." }),
    workstationId: t.exposeID("workstationId", { nullable: true, description: "BREAK_GLASS_PASSWORD: its workstation." }),
    account: t.exposeString("account", { nullable: true, description: "BREAK_GLASS_PASSWORD: its account." }),
    sealed: t.field({
      type: SealedSecret,
      description:
        "The secret. ENABLE_MASTER_KEY: opened from the escrow and sealed to this phone's key-agreement key, as above. Any other purpose: as stored, " +
        "sealed to the current tenant key, which the phone opens with its copy of it (`holderCopy`; recovering: a recovery kit's copy).",
      resolve: (secret) => secret.sealed,
    }),
    phonesWithoutCopy: t.field({
      type: [PasswordPhone],
      description:
        "USER_PASSWORD: the user's phones that hold no copy of the password (linked after it was set). Seal a copy to each that vouches for its key " +
        "(see @latchkey/passwords phone-copies) and send them as the re-sealed secret's `phoneCopies`.",
      resolve: (secret) => secret.phonesWithoutCopy,
    }),
  }),
});

const KeyOperationWork = builder.simpleObject("KeyOperationWork", {
  description: "What the phone that scanned a key operation needs to carry it out.",
  fields: (t) => ({
    keyOperation: t.field({ type: KeyOperation, description: "The operation this work is for." }),
    tenantId: t.id({ description: "The customer whose key this work is about: the operation's own, or one of an MSP's due customers." }),
    tenantKey: t.field({ type: TenantKey, description: "The current key's statement: verify it against the phone's pin first." }),
    holders: t.field({
      type: [KeyOperationHolder],
      description: "Every phone that may hold the new key (this one among them) and every current recovery kit; the phone chooses which new phones to admit.",
    }),
    secrets: t.field({
      type: [KeyOperationSecret],
      description: "Every sealed secret of the tenant, to re-seal to the new key: sealed to this phone when turning the key on, as stored (to the current key) when rotating.",
    }),
    recoveryKitCopies: t.field({ type: [RecoveryKitCopy], description: "RECOVER_TENANT_KEY: every kit's copy of the current key." }),
    holderCopy: t.field({
      type: SealedSecret,
      nullable: true,
      description:
        "ROTATE_TENANT_KEY, CREATE_RECOVERY_KIT and REVEAL_BREAK_GLASS_PASSWORD: this phone's copy of the current key (see @latchkey/passwords master-key); " +
        "the secrets are then sealed to the current key as stored.",
    }),
    browserKey: t.string({
      nullable: true,
      description:
        "REVEAL_BREAK_GLASS_PASSWORD: the browser's one-time X25519 key (raw, base64url) to seal the password to; seal only if its SHA-256 is the one in the QR code.",
    }),
  }),
});

builder.queryField("keyOperationWork", (t) =>
  t.field({
    type: KeyOperationWork,
    description:
      "For the phone that scanned a key operation (device token): its work. The secrets are sealed to this phone's key-agreement key. " +
      "NOT_FOUND for any other phone or id.",
    errors: { types: [UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError], union: { name: "KeyOperationWorkResult" } },
    args: {
      id: t.arg.id({ required: true, description: "The key operation's id (from the QR code)." }),
      tenantId: t.arg.id({ description: "For an MSP's rotation of its due customers: which customer (one of keyOperationTenants)." }),
    },
    resolve: async (_root, args, ctx) => (await keyOperationWork(ctx, String(args.id), args.tenantId == null ? null : String(args.tenantId))) as never,
  }),
);

const KeyOperationTenant = builder.simpleObject("KeyOperationTenant", {
  description: "A customer whose key a key operation works with.",
  fields: (t) => ({ id: t.id({ description: "The customer's id." }), displayName: t.string({ description: "Its name." }) }),
});

const KeyOperationTenants = builder.simpleObject("KeyOperationTenants", {
  description: "The customers a key operation covers, for the phone that scanned it.",
  fields: (t) => ({ tenants: t.field({ type: [KeyOperationTenant], description: "In the order to work on them." }) }),
});

builder.queryField("keyOperationTenants", (t) =>
  t.field({
    type: KeyOperationTenants,
    description:
      "For the phone that scanned a key operation (device token): the customers it covers. A customer's operation: that customer. An MSP's " +
      "ROTATE_TENANT_KEY (one approval for every customer where a rotation is due): each due customer whose current key this phone holds; rotate each " +
      "with keyOperationWork(id, tenantId) and rotateTenantKey, and the operation is APPROVED once none is left. NOT_FOUND for any other phone or id.",
    errors: { types: [UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError], union: { name: "KeyOperationTenantsResult" } },
    args: { id: t.arg.id({ required: true, description: "The key operation's id (from the QR code)." }) },
    resolve: async (_root, args, ctx) => ({
      tenants: (await keyOperationTenants(ctx, String(args.id))).map((tenant) => ({ id: tenant.id, displayName: tenant.displayName })),
    }),
  }),
);

builder.queryField("keyOperation", (t) =>
  t.field({
    type: KeyOperation,
    nullable: true,
    description: "A key operation's current state (with a reveal's sealed result once APPROVED), for the browser that started it; null for any other id or token.",
    args: {
      id: t.arg.id({ required: true, description: "The key operation's id." }),
      watchToken: t.arg.string({ required: true, description: "The watch token startKeyOperation returned." }),
    },
    resolve: async (_root, args, ctx) => {
      const operation = await watchableChallenge(ctx, String(args.id), args.watchToken);
      return operation?.kind === "KEY_OPERATION" ? (operation as never) : null;
    },
  }),
);

builder.subscriptionField("keyOperationUpdated", (t) =>
  t.field({
    type: KeyOperation,
    description: "A key operation's state at once, then every change, until it is APPROVED (done), DENIED or EXPIRED.",
    args: {
      id: t.arg.id({ required: true, description: "The key operation's id." }),
      watchToken: t.arg.string({ required: true, description: "The watch token startKeyOperation returned." }),
    },
    subscribe: (_root, args, ctx) => new ChallengeWatch(ctx, String(args.id), args.watchToken, "KEY_OPERATION"),
    resolve: (operation) => operation as never,
  }),
);

const StartKeyOperationInput = builder.inputType("StartKeyOperationInput", {
  description: "Which customer's key, and what to do with it.",
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The customer tenant." }),
    purpose: t.field({ type: KeyOperationPurpose, required: true, description: "What the phone is asked to do." }),
    browserKeyHash: t.string({ description: "SHA-256 (base64url) of the browser key a result is for (REVEAL_BREAK_GLASS_PASSWORD); the QR code carries it." }),
    browserKey: t.string({ description: "REVEAL_BREAK_GLASS_PASSWORD: the browser's one-time X25519 public key, raw, base64url." }),
    workstationId: t.id({ description: "REVEAL_BREAK_GLASS_PASSWORD: the workstation." }),
    account: t.string({ description: "REVEAL_BREAK_GLASS_PASSWORD: the local admin account." }),
  }),
});

const StartKeyOperationPayload = builder.simpleObject("StartKeyOperationPayload", {
  description: "Show `qrPayload` as a QR code to a phone that may hold the key; watch `keyOperationUpdated` with `watchToken`.",
  fields: (t) => ({
    keyOperation: t.field({ type: KeyOperation, description: "The new operation, PENDING." }),
    qrPayload: t.string({ description: "What the QR code says." }),
    watchToken: t.string({ description: "Lets this browser watch the operation, nothing more." }),
  }),
});

const HolderCopyInput = builder.inputType("HolderCopyInput", {
  description: "One holder's copy of the new key (HPKE to its key-agreement key; see @latchkey/passwords master-key).",
  fields: (t) => ({
    holderId: t.id({ required: true, description: "The holder's id in the statement." }),
    sealed: t.field({ type: SealedSecretInput, required: true, description: "The copy." }),
  }),
});

const ResealedSecretInput = builder.inputType("ResealedSecretInput", {
  description: "A secret of the work, re-sealed to the new key with its own binding.",
  fields: (t) => ({
    kind: t.field({ type: KeyOperationSecretKind, required: true, description: "As in the work." }),
    id: t.id({ required: true, description: "As in the work." }),
    version: t.int({ required: true, description: "As in the work." }),
    sealed: t.field({ type: SealedSecretInput, required: true, description: "Sealed to the new tenant key." }),
    phoneCopies: t.field({ type: [PhoneCopyInput], description: "USER_PASSWORD: copies for the work's `phonesWithoutCopy`." }),
  }),
});

const KeyUseEvidenceInput = builder.inputType("KeyUseEvidenceInput", {
  description:
    "The phone's device-key signature over `latchkey-key-use-v1\\n<tenant>\\n<new epoch>\\n<purpose>\\n<operation id>\\n<signedAt>\\n<SHA-256 of the statement, base64url>`: " +
    "kept with the audit event, so the use of the key is proved by the phone, not by the server.",
  fields: (t) => ({
    signedAt: t.string({ required: true, description: "ISO 8601, within five minutes of the server's time." }),
    signature: t.string({ required: true, description: "base64url." }),
  }),
});

const EnableMasterKeyInput = builder.inputType("EnableMasterKeyInput", {
  description: "The phone's result of an ENABLE_MASTER_KEY operation.",
  fields: (t) => ({
    keyOperationId: t.id({ required: true, description: "The operation this phone scanned." }),
    statement: t.string({ required: true, description: "The new epoch's statement (custody MASTER_KEY, every holder listed)." }),
    signature: t.string({ required: true, description: "The new signing key's Ed25519 signature over `statement`, base64url." }),
    holderCopies: t.field({ type: [HolderCopyInput], required: true, description: "One copy of the new key per holder in the statement." }),
    secrets: t.field({ type: [ResealedSecretInput], required: true, description: "Every secret of the work, re-sealed." }),
    evidence: t.field({ type: KeyUseEvidenceInput, required: true, description: "This phone's signature over the use of the key." }),
  }),
});

/** The result of a new epoch made on a phone that has the key: one input shape per mutation, the same fields. */
function nextEpochInput(name: string, purpose: string) {
  return builder.inputType(name, {
    description: `The phone's result of a ${purpose} operation.`,
    fields: (t) => ({
      tenantId: t.id({ required: true, description: "The customer whose key it is." }),
      fromEpoch: t.int({ required: true, description: "The epoch the phone worked from: the switch is compare-and-set on it." }),
      keyOperationId: t.id({ required: true, description: "The operation this phone scanned." }),
      statement: t.string({ required: true, description: "The next epoch's statement (every holder listed)." }),
      signature: t.string({ required: true, description: "The new signing key's Ed25519 signature over `statement`, base64url." }),
      handover: t.string({ required: true, description: "The current epoch's signing key's Ed25519 signature over `statement`, base64url." }),
      holderCopies: t.field({ type: [HolderCopyInput], required: true, description: "One copy of the new key per holder in the statement." }),
      secrets: t.field({ type: [ResealedSecretInput], required: true, description: "Every secret of the work, re-sealed to the new key." }),
      evidence: t.field({ type: KeyUseEvidenceInput, required: true, description: "This phone's signature over the use of the key." }),
    }),
  });
}

function nextEpochPayload(name: string, description: string) {
  return builder.simpleObject(name, {
    description,
    fields: (t) => ({ tenantKey: t.field({ type: TenantKey, description: "The new epoch, as clients will be handed it." }) }),
  });
}

/** The GraphQL secrets as the service takes them: ids as strings. */
function resealedSecrets<T extends { id: string | number; phoneCopies?: { authenticatorId: string | number }[] | null }>(secrets: T[]) {
  return secrets.map((secret) => ({
    ...secret,
    id: String(secret.id),
    phoneCopies: secret.phoneCopies?.map((copy) => ({ ...copy, authenticatorId: String(copy.authenticatorId) })),
  }));
}

const NEXT_EPOCH_MUTATIONS = [
  {
    field: "rotateTenantKey",
    purpose: "ROTATE_TENANT_KEY",
    input: nextEpochInput("RotateTenantKeyInput", "ROTATE_TENANT_KEY"),
    payload: nextEpochPayload("RotateTenantKeyPayload", "The key is rotated: removed holders hold nothing that opens a secret set from now on."),
    description: "Called by the holder phone that scanned a ROTATE_TENANT_KEY operation, with its result.",
  },
  {
    field: "createRecoveryKit",
    purpose: "CREATE_RECOVERY_KIT",
    input: nextEpochInput("CreateRecoveryKitInput", "CREATE_RECOVERY_KIT"),
    payload: nextEpochPayload("CreateRecoveryKitPayload", "The kit holds the key from this epoch on; its code was shown once, on the phone."),
    description: "Called by the holder phone that scanned a CREATE_RECOVERY_KIT operation, with its result (the statement lists the one new kit).",
  },
  {
    field: "recoverTenantKey",
    purpose: "RECOVER_TENANT_KEY",
    input: nextEpochInput("RecoverTenantKeyInput", "RECOVER_TENANT_KEY"),
    payload: nextEpochPayload("RecoverTenantKeyPayload", "The key is on this phone again; every admin is emailed."),
    description:
      "Called by the phone that scanned a RECOVER_TENANT_KEY operation after opening a recovery kit's copy with the typed code: the hand-over, signed with the " +
      "recovered signing key, is the proof. Audited and emailed to every admin of the customer.",
  },
] as const;

const DeliverBreakGlassPasswordInput = builder.inputType("DeliverBreakGlassPasswordInput", {
  description: "The holder phone's result of a REVEAL_BREAK_GLASS_PASSWORD operation.",
  fields: (t) => ({
    keyOperationId: t.id({ required: true, description: "The operation this phone scanned." }),
    rotation: t.int({ required: true, description: "The rotation of the box the phone opened (the work's secret version)." }),
    sealed: t.field({ type: SealedSecretInput, required: true, description: "The password, sealed to the work's browser key." }),
    evidence: t.field({ type: KeyUseEvidenceInput, required: true, description: "This phone's signature over the use of the key (epoch: the current one; statement: the current statement)." }),
  }),
});

const DeliverBreakGlassPasswordPayload = builder.simpleObject("DeliverBreakGlassPasswordPayload", {
  description: "The sealed password waits on the operation for the browser that asked.",
  fields: (t) => ({
    keyOperation: t.field({ type: KeyOperation, description: "The operation, now APPROVED, its `revealedPassword` for the browser that asked." }),
  }),
});

const EnableMasterKeyPayload = builder.simpleObject("EnableMasterKeyPayload", {
  description: "The master key is on.",
  fields: (t) => ({ tenantKey: t.field({ type: TenantKey, description: "The new epoch, as clients will be handed it." }) }),
});

builder.mutationFields((t) => ({
  startKeyOperation: t.field({
    type: StartKeyOperationPayload,
    description:
      "An admin asks for a private-key operation on a customer's key: the payload's QR code is for a phone that may hold the key " +
      "(the customer's admins' phones; its MSP's admins' and technicians' only if the customer opted in). NOT_FOUND for a tenant the viewer does not administer.",
    errors: { types: [...signedInErrors, ConflictError, RateLimitedError], union: { name: "StartKeyOperationResult" } },
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: StartKeyOperationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const tenantId = String(input.tenantId);
      const started =
        input.purpose === "REVEAL_BREAK_GLASS_PASSWORD"
          ? await startPhoneReveal(ctx, {
              tenantId,
              workstationId: String(input.workstationId ?? ""),
              account: input.account ?? "",
              browserKey: input.browserKey ?? "",
              browserKeyHash: input.browserKeyHash ?? "",
            })
          : await startKeyOperation(ctx, { tenantId, purpose: input.purpose, browserKeyHash: input.browserKeyHash });
      return { keyOperation: started.challenge, qrPayload: started.qrPayload, watchToken: started.watchToken };
    },
  }),
  ...Object.fromEntries(
    NEXT_EPOCH_MUTATIONS.map((mutation) => [
      mutation.field,
      t.field({
        type: mutation.payload,
        description:
          `${mutation.description} In one transaction, compare-and-set on (tenant, fromEpoch), the tenant switches to the next epoch, every secret is replaced ` +
          "and the holders' copies are stored. CONFLICT, with nothing changed, when the key, the holders or a secret changed since the phone fetched its work: fetch it again and retry.",
        errors: {
          types: [UnauthenticatedError, ForbiddenError, ValidationError, NotFoundError, ConflictError],
          union: { name: `${mutation.field[0]!.toUpperCase()}${mutation.field.slice(1)}Result` },
        },
        args: { input: t.arg({ type: mutation.input, required: true }) },
        resolve: async (_root, { input }, ctx) => ({
          tenantKey: await nextEpoch(ctx, mutation.purpose, {
            ...input,
            tenantId: String(input.tenantId),
            keyOperationId: String(input.keyOperationId),
            holderCopies: input.holderCopies.map((copy) => ({ ...copy, holderId: String(copy.holderId) })),
            secrets: resealedSecrets(input.secrets),
          }),
        }),
      }),
    ]),
  ),
  deliverBreakGlassPassword: t.field({
    type: DeliverBreakGlassPasswordPayload,
    description:
      "Called by the holder phone that scanned a REVEAL_BREAK_GLASS_PASSWORD operation: the operation becomes APPROVED with the sealed password, the reveal is " +
      "audited with the phone's evidence and emailed to the admins of the customer and its MSP, and the agent is told to rotate the password. " +
      "CONFLICT when a newer password was uploaded meanwhile.",
    errors: { types: [UnauthenticatedError, ForbiddenError, ValidationError, NotFoundError, ConflictError], union: { name: "DeliverBreakGlassPasswordResult" } },
    args: { input: t.arg({ type: DeliverBreakGlassPasswordInput, required: true }) },
    resolve: async (_root, { input }, ctx) => deliverBreakGlassPassword(ctx, { ...input, keyOperationId: String(input.keyOperationId) }),
  }),
  enableMasterKey: t.field({
    type: EnableMasterKeyPayload,
    description:
      "Called by the phone that scanned an ENABLE_MASTER_KEY operation, with its result: in one transaction the tenant switches to the new epoch, " +
      "every secret is replaced, the holders' copies are stored and the escrow is deleted. CONFLICT, with nothing changed, when the key, the holders " +
      "or a secret changed since the phone fetched its work: fetch it again and retry.",
    errors: { types: [UnauthenticatedError, ForbiddenError, ValidationError, NotFoundError, ConflictError], union: { name: "EnableMasterKeyResult" } },
    args: { input: t.arg({ type: EnableMasterKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      tenantKey: await enableMasterKey(ctx, {
        ...input,
        keyOperationId: String(input.keyOperationId),
        holderCopies: input.holderCopies.map((copy) => ({ ...copy, holderId: String(copy.holderId) })),
        secrets: resealedSecrets(input.secrets),
      }),
    }),
  }),
}));

const MasterKeyHolder = builder.simpleObject("MasterKeyHolder", {
  description: "A holder of the customer's key in its current epoch.",
  fields: (t) => ({
    id: t.id({ description: "The holder's id." }),
    kind: t.field({ type: TenantKeyHolderKind, description: "A phone or a recovery kit." }),
    name: t.string({ description: "The phone's name and whose it is." }),
    admittedAt: t.field({ type: "DateTime", nullable: true, description: "When it was admitted; null while it awaits admission." }),
    lastActedAt: t.field({ type: "DateTime", nullable: true, description: "When it last worked with the key." }),
  }),
});

const MasterKeyState = builder.simpleObject("MasterKeyState", {
  description: "Who holds a customer's key.",
  fields: (t) => ({
    on: t.boolean({ description: "Whether only the customer's holders have the private key (the server has no escrow)." }),
    epoch: t.int({ description: "The key's current epoch." }),
    holders: t.field({ type: [MasterKeyHolder], description: "The current epoch's holders; none while the server keeps the escrow." }),
    awaitingAdmission: t.field({
      type: [MasterKeyHolder],
      description:
        "Phones that may hold the key but do not yet (linked, approved or promoted since the last epoch): a holder admits each at its next key operation, " +
        "with the fingerprint the new phone shows on its own screen.",
    }),
    rotationDue: t.boolean({
      description: "A holder of the current epoch may no longer hold the key (a revoked phone, a demoted admin): rotate, so that it cannot open what is set from now on.",
    }),
  }),
});

builder.objectField(Tenant, "customersDueForRotation", (t) =>
  t.int({
    nullable: true,
    description:
      "An MSP's customers whose master key has a holder that may no longer hold it (rotationDue): startKeyOperation with this MSP's id and " +
      "ROTATE_TENANT_KEY rotates them all with one approval. Null for a customer and for anyone who does not administer the MSP.",
    authScopes: (tenant) => ({ tenantAdmin: tenant.id }),
    unauthorizedResolver: () => null,
    resolve: async (tenant, _args, ctx) =>
      tenant.kind === "MSP" && ctx.viewer?.role === "ADMIN" && !ctx.viewer.apiKey?.customerIds ? (await dueCustomers(ctx.db, tenant.id)).length : null,
  }),
);

builder.objectField(Tenant, "viewerCanChooseMasterKeyHolders", (t) =>
  t.boolean({
    description: "Whether the viewer may set `mspMayHoldMasterKey`: only the customer's own admins, never its MSP.",
    resolve: (tenant, _args, ctx) => tenant.kind === "CUSTOMER" && ctx.viewer?.tenantId === tenant.id && ctx.viewer.role === "ADMIN",
  }),
);

/** A phone as the panel names it: its name and whose it is. */
function phoneLabel(phone: { name: string; user: { firstName: string; lastName: string } | null }) {
  return `${phone.name} (${phone.user ? `${phone.user.firstName} ${phone.user.lastName}` : "unlinked"})`;
}

builder.objectField(Tenant, "masterKey", (t) =>
  t.field({
    type: MasterKeyState,
    nullable: true,
    description: "A customer's master key state, for those who administer it; null for an MSP and for anyone else.",
    authScopes: (tenant) => ({ tenantAdmin: tenant.id }),
    unauthorizedResolver: () => null,
    resolve: async (tenant, _args, ctx) => {
      if (tenant.kind !== "CUSTOMER") return null;
      // No key row yet is the escrow, not yet made.
      const pair = await ctx.db.tenantKeyPair.findUnique({ where: { tenantId: tenant.id }, select: { epoch: true, custody: true } });
      const on = pair?.custody === "MASTER_KEY";
      const holders = on ? await ctx.db.tenantKeyHolder.findMany({ where: { tenantId: tenant.id, epoch: pair.epoch }, orderBy: { createdAt: "asc" } }) : [];
      const phones = await ctx.db.authenticator.findMany({
        where: { id: { in: holders.flatMap((holder) => (holder.authenticatorId ? [holder.authenticatorId] : [])) } },
        include: { user: { select: { firstName: true, lastName: true } } },
      });
      const names = new Map(phones.map((phone) => [phone.id, phoneLabel(phone)]));
      const changes = on ? await holderChanges(ctx.db, await ctx.db.tenant.findUniqueOrThrow({ where: { id: tenant.id } }), pair.epoch) : { due: 0, awaiting: [] };
      return {
        on,
        awaitingAdmission: changes.awaiting.map((phone) => ({ id: phone.id, kind: "PHONE" as const, name: phoneLabel(phone), admittedAt: null, lastActedAt: null })),
        rotationDue: changes.due > 0,
        epoch: pair?.epoch ?? 1,
        holders: holders.map((holder) => ({
          id: holder.id,
          kind: holder.kind,
          name: (holder.authenticatorId && names.get(holder.authenticatorId)) || "Recovery kit",
          admittedAt: holder.createdAt,
          lastActedAt: holder.lastActedAt,
        })),
      };
    },
  }),
);
