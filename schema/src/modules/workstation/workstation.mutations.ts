import { builder } from "../../builder.ts";
import { InstallTokenError, RateLimitedError, ValidationError } from "../../errors.ts";
import { convertedInputDescription, inputOrPositional, positionalDeprecation } from "../../deprecations.ts";
import { signedInErrors } from "../errors/errors.types.ts";
import {
  approveWorkstation,
  createInstallToken,
  enrollWorkstation,
  removeWorkstation,
  renameWorkstation,
  revokeInstallToken,
} from "./workstation.service.ts";
import { InstallToken, Workstation } from "./workstation.types.ts";

const WORKSTATION_ID = "The workstation; NOT_FOUND unless the viewer administers its tenant.";
const INSTALL_TOKEN_ID = "The install token; NOT_FOUND unless the viewer administers its tenant.";

const CreateInstallTokenInput = builder.inputType("CreateInstallTokenInput", {
  fields: (t) => ({
    tenantId: t.id({ required: true, description: "The customer tenant the token enrolls workstations into; NOT_FOUND unless the viewer administers it." }),
    autoApprove: t.boolean({ defaultValue: false, description: "Workstations enrolled with it need no approval." }),
    maxUses: t.int({ defaultValue: 1, description: "How many workstations it may enroll, 1–100000." }),
    expiresInHours: t.int({ defaultValue: 24, description: "Hours until it expires, 1–2160 (90 days)." }),
  }),
});

const CreateInstallTokenPayload = builder.simpleObject("CreateInstallTokenPayload", {
  fields: (t) => ({
    installToken: t.string({ description: "The secret for the agent's installer. Shown only now; stored hashed." }),
    token: t.field({ type: InstallToken, description: "The new install token, without its secret." }),
  }),
});

const InstallTokenPayload = builder.simpleObject("InstallTokenPayload", {
  description: "What `revokeInstallToken` returns when it succeeds.",
  fields: (t) => ({ token: t.field({ type: InstallToken, description: "The install token, now REVOKED." }) }),
});

const EnrollWorkstationInput = builder.inputType("EnrollWorkstationInput", {
  fields: (t) => ({
    installToken: t.string({ required: true, description: "The install token's secret, as createInstallToken returned it." }),
    hostname: t.string({ required: true, description: "The computer's hostname, at most 255 characters; also its name until an admin renames it." }),
    os: t.string({ required: true, description: "The operating system, for the admins' list, at most 200 characters." }),
    publicKey: t.string({
      required: true,
      description: "The signing key (Ed25519 or P-256, SPKI DER in base64) whose signatures authenticate the agent's requests.",
    }),
    keyAgreementKey: t.string({
      description: "The key passwords are sealed to (X25519 or P-256, SPKI DER in base64). Without it the workstation receives no credentials.",
    }),
    tenant: t.string({
      description: "The slug of the organisation the agent was set up for; a token of another one is refused (INSTALL_TOKEN_WRONG_TENANT).",
    }),
  }),
});

const WorkstationPayload = builder.simpleObject("WorkstationPayload", {
  description: "What `enrollWorkstation`, `approveWorkstation` and `renameWorkstation` return when they succeed.",
  fields: (t) => ({ workstation: t.field({ type: Workstation, description: "The workstation as it is now." }) }),
}, (t) => ({
  passwordServerPublicKey: t.string({
    description:
      "The server's OPAQUE static public key (base64url). An agent pins it at enrollment and refuses a password login answered with another.",
    resolve: (_payload, _args, ctx) => ctx.passwordAuth.serverPublicKey,
  }),
}));

const RenameWorkstationInput = builder.inputType("RenameWorkstationInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: WORKSTATION_ID }),
    name: t.string({ required: true, description: "The new name shown on phones, at most 100 characters." }),
  }),
});

const ApproveWorkstationInput = builder.inputType("ApproveWorkstationInput", {
  fields: (t) => ({ id: t.id({ required: true, description: WORKSTATION_ID }) }),
});

const RemoveWorkstationInput = builder.inputType("RemoveWorkstationInput", {
  fields: (t) => ({ id: t.id({ required: true, description: WORKSTATION_ID }) }),
});

const RevokeInstallTokenInput = builder.inputType("RevokeInstallTokenInput", {
  fields: (t) => ({ id: t.id({ required: true, description: INSTALL_TOKEN_ID }) }),
});

const RemoveWorkstationPayload = builder.simpleObject("RemoveWorkstationPayload", {
  fields: (t) => ({ workstationId: t.id({ description: "The removed workstation's id." }) }),
});

builder.mutationFields((t) => ({
  createInstallToken: t.field({
    type: CreateInstallTokenPayload,
    description: "Creates an install token for a customer tenant: expiring, revocable, limited uses.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "CreateInstallTokenResult" } },
    args: { input: t.arg({ type: CreateInstallTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => createInstallToken(ctx, { ...input, tenantId: String(input.tenantId) }) as never,
  }),
  revokeInstallToken: t.field({
    type: InstallTokenPayload,
    description: "Revokes an install token so it enrolls no more workstations; those it enrolled stay. Revoking it again changes nothing.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "RevokeInstallTokenResult" } },
    args: {
      input: t.arg({ type: RevokeInstallTokenInput, description: convertedInputDescription("revokeInstallToken") }),
      id: t.arg.id({ description: INSTALL_TOKEN_ID, deprecationReason: positionalDeprecation("id") }),
    },
    resolve: async (_root, args, ctx) => {
      const { id } = inputOrPositional(args.input, { id: args.id }, ["id"]);
      return { token: (await revokeInstallToken(ctx, String(id))) as never };
    },
  }),
  enrollWorkstation: t.field({
    type: WorkstationPayload,
    description:
      "An agent enrolls its workstation with an install token. It is PENDING until an admin approves it, unless the token auto-approves. " +
      "The agent then authenticates by signing a short-lived JWT (EdDSA or ES256; iss = sub = workstation id, aud `latchkey`, lifetime at most 300 s) with the signing key.",
    errors: { types: [ValidationError, InstallTokenError, RateLimitedError], union: { name: "EnrollWorkstationResult" } },
    args: { input: t.arg({ type: EnrollWorkstationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ workstation: (await enrollWorkstation(ctx, input)) as never }),
  }),
  approveWorkstation: t.field({
    type: WorkstationPayload,
    description: "Approves a PENDING workstation, for those who administer its tenant, so it may sign users in; an approved one is left as it is.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "ApproveWorkstationResult" } },
    args: {
      input: t.arg({ type: ApproveWorkstationInput, description: convertedInputDescription("approveWorkstation") }),
      id: t.arg.id({ description: WORKSTATION_ID, deprecationReason: positionalDeprecation("id") }),
    },
    resolve: async (_root, args, ctx) => {
      const { id } = inputOrPositional(args.input, { id: args.id }, ["id"]);
      return { workstation: (await approveWorkstation(ctx, String(id))) as never };
    },
  }),
  renameWorkstation: t.field({
    type: WorkstationPayload,
    description: "Renames a workstation (the name phones show), for those who administer its tenant.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "RenameWorkstationResult" } },
    args: { input: t.arg({ type: RenameWorkstationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      workstation: (await renameWorkstation(ctx, { id: String(input.id), name: input.name })) as never,
    }),
  }),
  removeWorkstation: t.field({
    type: RemoveWorkstationPayload,
    description: "Removes a workstation: its credential stops working at once and its waiting screens end.",
    authScopes: { authenticated: true },
    errors: { types: signedInErrors, union: { name: "RemoveWorkstationResult" } },
    args: {
      input: t.arg({ type: RemoveWorkstationInput, description: convertedInputDescription("removeWorkstation") }),
      id: t.arg.id({ description: WORKSTATION_ID, deprecationReason: positionalDeprecation("id") }),
    },
    resolve: async (_root, args, ctx) => {
      const { id } = inputOrPositional(args.input, { id: args.id }, ["id"]);
      return { workstationId: await removeWorkstation(ctx, String(id)) };
    },
  }),
}));
