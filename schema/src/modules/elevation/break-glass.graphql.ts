import { builder } from "../../builder.ts";
import { TenantKey } from "../tenant-key/tenant-key.types.ts";
import { ConflictError, ForbiddenError, RateLimitedError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { Challenge } from "../challenge/challenge.types.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import { Workstation } from "../workstation/workstation.types.ts";
import { breakGlassSealingKey, revealBreakGlassPassword, startBreakGlassReveal, uploadBreakGlassPassword } from "./break-glass.service.ts";

const BreakGlassSealingKey = builder.simpleObject("BreakGlassSealingKey", {
  description:
    "The key a desktop agent seals its admin accounts' passwords to: its tenant's public key, with its signed statement. The agent verifies the statement, pins the signing key and epoch at the first fetch, and refuses a key the statement does not sign, an older epoch or another signing key later.",
  fields: (t) => ({
    tenantId: t.id({ description: "The workstation's customer tenant, as the associated data names it." }),
    workstationId: t.id({ description: "The calling workstation, as the associated data names it." }),
    publicKey: t.string({ description: "Raw X25519, base64url without padding." }),
    tenantKey: t.field({ type: TenantKey, description: "The tenant key's signed statement: seal to the public key it names, once it verifies against the agent's pin." }),
  }),
});

const BreakGlassSealedInput = builder.inputType("BreakGlassSealedInput", {
  description:
    "A local admin account's password sealed (HPKE, RFC 9180, base mode, DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM) to the tenant's public key. " +
    "info: `latchkey break-glass password v1`; associated data: `latchkey-break-glass-v1|<tenantId>|<workstationId>|<account, lower case>|<rotation>`.",
  fields: (t) => ({
    suite: t.string({ required: true, description: "The HPKE suite: `DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM`, the only one accepted." }),
    enc: t.string({ required: true, description: "base64url without padding." }),
    ciphertext: t.string({ required: true, description: "base64url without padding." }),
  }),
});

const UploadBreakGlassPasswordInput = builder.inputType("UploadBreakGlassPasswordInput", {
  fields: (t) => ({
    account: t.string({ required: true, description: "The local admin account the agent manages." }),
    rotation: t.int({ required: true, description: "The agent's rotation counter for this account: higher than the stored one." }),
    epoch: t.int({
      description: "The tenant key epoch the box is sealed to (the statement the agent verified). CONFLICT when the key has moved on since: the box is refused rather than stored under the wrong epoch.",
    }),
    sealed: t.field({ type: BreakGlassSealedInput, required: true, description: "The password, sealed to the tenant's public key." }),
  }),
});

const UploadBreakGlassPasswordPayload = builder.simpleObject("UploadBreakGlassPasswordPayload", {
  fields: (t) => ({
    account: t.string({ description: "The account the password is stored for." }),
    rotation: t.int({ description: "The rotation now stored for it." }),
  }),
});

const StartBreakGlassRevealInput = builder.inputType("StartBreakGlassRevealInput", {
  fields: (t) => ({
    workstationId: t.id({
      required: true,
      description: "A workstation of one of your MSP's customers. Only the MSP's admins may reveal: a technician delegated to the customer gets FORBIDDEN, anyone else NOT_FOUND.",
    }),
    account: t.string({ required: true, description: "The local admin account, as in `breakGlassAccounts` (compared as Windows does); NOT_FOUND when none is on file." }),
  }),
});

const StartBreakGlassRevealPayload = builder.simpleObject("StartBreakGlassRevealPayload", {
  description: "Show `qrPayload` to your own linked phone; once it approves, call revealBreakGlassPassword with `redeemSecret`.",
  fields: (t) => ({
    challenge: t.field({ type: Challenge, description: "The BREAK_GLASS_REVEAL challenge." }),
    qrPayload: t.string({ description: "What the QR code says." }),
    watchToken: t.string({ description: "Watches the challenge (`challenge`, `challengeUpdated`), nothing more." }),
    redeemSecret: t.string({ description: "Redeems the approval with revealBreakGlassPassword; keep it to yourself." }),
  }),
});

const RevealBreakGlassPasswordInput = builder.inputType("RevealBreakGlassPasswordInput", {
  fields: (t) => ({
    workstationId: t.id({ required: true, description: "The workstation named when the reveal was started." }),
    account: t.string({ required: true, description: "The account named when the reveal was started." }),
    challengeId: t.id({ required: true, description: "The BREAK_GLASS_REVEAL challenge your phone approved." }),
    redeemSecret: t.string({ required: true, description: "The `redeemSecret` startBreakGlassReveal returned." }),
  }),
});

const RevealBreakGlassPasswordPayload = builder.simpleObject("RevealBreakGlassPasswordPayload", {
  fields: (t) => ({
    account: t.string({ description: "The account's name, as the agent reported it." }),
    rotation: t.int({ description: "The agent's rotation the password is from." }),
    password: t.string({ description: "The account's current password, shown once. The workstation is told to rotate it." }),
  }),
});

const BreakGlassAccount = builder.simpleObject("BreakGlassAccount", {
  description: "A local admin account whose current password the agent sealed to the tenant's key (the password itself is not here).",
  fields: (t) => ({
    account: t.string({ description: "The local admin account's name, as the agent reported it." }),
    rotation: t.int({ description: "The agent's rotation counter for the account." }),
    storedAt: t.field({ type: "DateTime", description: "When the agent uploaded this password." }),
  }),
});

builder.objectField(Workstation, "breakGlassAccounts", (t) =>
  t.field({
    type: [BreakGlassAccount],
    description: "Accounts with a break-glass password on file (MSP admins reveal one with startBreakGlassReveal).",
    resolve: async (workstation, _args, ctx) =>
      (await ctx.db.breakGlassPassword.findMany({ where: { workstationId: workstation.id }, orderBy: { accountKey: "asc" } })).map((box) => ({
        account: box.accountName,
        rotation: box.rotation,
        storedAt: box.updatedAt,
      })),
  }),
);

builder.queryFields((t) => ({
  breakGlassSealingKey: t.field({
    type: BreakGlassSealingKey,
    description: "For a desktop agent (workstation credential): its tenant's public key to seal break-glass passwords to.",
    errors: { types: [UnauthenticatedError, ForbiddenError], union: { name: "BreakGlassSealingKeyResult" } },
    resolve: (_root, _args, ctx) => breakGlassSealingKey(ctx),
  }),
}));

builder.mutationFields((t) => ({
  uploadBreakGlassPassword: t.field({
    type: UploadBreakGlassPasswordPayload,
    description: "The agent (workstation credential) stores an account's new password, sealed to the tenant's key; it replaces the one before.",
    errors: { types: [UnauthenticatedError, ValidationError, ConflictError], union: { name: "UploadBreakGlassPasswordResult" } },
    args: { input: t.arg({ type: UploadBreakGlassPasswordInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const stored = await uploadBreakGlassPassword(ctx, input);
      return { account: stored.accountName, rotation: stored.rotation };
    },
  }),
  startBreakGlassReveal: t.field({
    type: StartBreakGlassRevealPayload,
    description: "An admin of the MSP that owns the workstation asks to see an account's break-glass password: a BREAK_GLASS_REVEAL challenge only their own phone approves.",
    authScopes: { authenticated: true },
    errors: { types: [...signedInErrors, RateLimitedError], union: { name: "StartBreakGlassRevealResult" } },
    args: { input: t.arg({ type: StartBreakGlassRevealInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const started = await startBreakGlassReveal(ctx, { ...input, workstationId: String(input.workstationId) });
      return { challenge: started.challenge as never, qrPayload: started.qrPayload, watchToken: started.watchToken, redeemSecret: started.redeemSecret };
    },
  }),
  revealBreakGlassPassword: t.field({
    type: RevealBreakGlassPasswordPayload,
    description:
      "Redeems the phone's approval, once, for the account's current password (opened with the escrowed tenant key). Audited, emailed to all the MSP's admins; the workstation rotates the password at its next contact.",
    authScopes: { authenticated: true },
    errors: { types: [...signedInErrors, ConflictError], union: { name: "RevealBreakGlassPasswordResult" } },
    args: { input: t.arg({ type: RevealBreakGlassPasswordInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      revealBreakGlassPassword(ctx, { ...input, workstationId: String(input.workstationId), challengeId: String(input.challengeId) }),
  }),
}));
