import { builder } from "../../builder.ts";
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError } from "../../errors.ts";
import { AuthenticatorConnection } from "../../connections.ts";
import { PORTAL_ONLY } from "../api-key/api-key-permissions.ts";
import { convertedInputDescription, deprecatedFor, inputOrPositional, positionalDeprecation } from "../../deprecations.ts";
import { cursorIsInside } from "../../pagination.ts";
import { signatureDescription } from "../challenge/challenge-signing.ts";
import { Challenge } from "../challenge/challenge.types.ts";
import { User } from "../user/user.types.ts";
import { Authenticator, DeviceKeyAlgorithm } from "./authenticator.types.ts";
import {
  approveAuthenticator,
  onboardDevice,
  requestEmailVerification,
  revokeAuthenticator,
  startDeviceOnboarding,
  verifyEmail,
  viewerAuthenticatorsWhere,
} from "./authenticator.service.ts";
import { registerKeyAgreementKey } from "./key-agreement-key.ts";

const RequestEmailVerificationPayload = builder.simpleObject("RequestEmailVerificationPayload", {
  description: "Always `sent: true`: the answer does not tell whether the address has an account.",
  fields: (t) => ({
    sent: t.boolean({ description: "Always true." }),
    expiresAt: t.field({ type: "DateTime", description: "Until when a code sent for this request works: ten minutes after it." }),
  }),
});

const AuthenticatorCredential = builder.simpleObject("AuthenticatorCredential", {
  description: "The phone's bearer token, shown once. Keep it with the private key.",
  fields: (t) => ({
    deviceToken: t.string({ description: "The phone's bearer token (`Authorization: Bearer <token>`) for every request it makes from now on. Shown once." }),
    authenticator: t.field({ type: Authenticator, description: "The new phone, not linked to a user yet." }),
  }),
});

const StartDeviceOnboardingPayload = builder.simpleObject("StartDeviceOnboardingPayload", {
  fields: (t) => ({
    challenge: t.field({ type: Challenge, description: "The DEVICE_ONBOARDING challenge, PENDING." }),
    qrPayload: t.string({ description: "What the QR code says, for the user's phone to scan and send with `onboardDevice`." }),
    expiresAt: t.field({ type: "DateTime", description: "Until when the code links a phone." }),
    watchToken: t.string({ description: "Reads (`challenge`) and follows (`challengeUpdated`) the code, nothing more." }),
  }),
});

const OnboardDevicePayload = builder.simpleObject("OnboardDevicePayload", {
  fields: (t) => ({
    authenticator: t.field({
      type: Authenticator,
      description: "This phone, now linked to the user: ACTIVE, or PENDING_APPROVAL when its link waits for approval.",
    }),
  }),
});

const AUTHENTICATOR_TO_REVOKE =
  "The authenticator to revoke: one of the viewer's own (a phone may revoke itself), or one of a user the viewer manages; NOT_FOUND for any other.";

const RevokeAuthenticatorInput = builder.inputType("RevokeAuthenticatorInput", {
  fields: (t) => ({ id: t.id({ required: true, description: AUTHENTICATOR_TO_REVOKE }) }),
});

const RevokeAuthenticatorPayload = builder.simpleObject("RevokeAuthenticatorPayload", {
  fields: (t) => ({ revokedAuthenticatorId: t.id({ description: "The id of the authenticator now revoked." }) }),
});

const ApproveAuthenticatorInput = builder.inputType("ApproveAuthenticatorInput", {
  description: "Which waiting phone to approve.",
  fields: (t) => ({ id: t.id({ required: true, description: "The authenticator's id." }) }),
});

const ApproveAuthenticatorPayload = builder.simpleObject("ApproveAuthenticatorPayload", {
  description: "The phone, approved: it now scans and decides challenges for its user.",
  fields: (t) => ({ authenticator: t.field({ type: Authenticator, description: "The approved phone, now ACTIVE." }) }),
});

const RegisterKeyAgreementKeyInput = builder.inputType("RegisterKeyAgreementKeyInput", {
  description: "The calling phone's key-agreement key and its own signature over it.",
  fields: (t) => ({
    publicKey: t.string({ required: true, description: "Raw X25519 public key, base64url without padding." }),
    signature: t.string({
      required: true,
      description: "The phone's signing key over the certification bytes (see PhoneKeyAgreementKey), base64url.",
    }),
  }),
});

const RegisterKeyAgreementKeyPayload = builder.simpleObject("RegisterKeyAgreementKeyPayload", {
  description: "The phone, with its key-agreement key registered.",
  fields: (t) => ({ authenticator: t.field({ type: Authenticator, description: "This phone, its `keyAgreementKey` the one just registered." }) }),
});

builder.mutationFields((t) => ({
  registerKeyAgreementKey: t.field({
    type: RegisterKeyAgreementKeyPayload,
    description:
      "Called by a phone with its device token: registers (or replaces) the key that secrets meant for it are sealed to. " +
      "VALIDATION, with nothing written, unless `signature` is this phone's over this key. Audited once the phone is linked.",
    errors: { types: [UnauthenticatedError, ValidationError], union: { name: "RegisterKeyAgreementKeyResult" } },
    args: { input: t.arg({ type: RegisterKeyAgreementKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ authenticator: (await registerKeyAgreementKey(ctx, input)) as never }),
  }),
  requestEmailVerification: t.field({
    type: RequestEmailVerificationPayload,
    description: "Emails a one-time code to a directory user's address. Rate-limited per address and per IP.",
    errors: { types: [ValidationError, RateLimitedError], union: { name: "RequestEmailVerificationResult" } },
    args: {
      input: t.arg({
        type: builder.inputType("RequestEmailVerificationInput", {
          fields: (f) => ({
            email: f.string({
              required: true,
              description: "The address to prove: a directory user's company or personal email. A code is sent only if an active user has it; the answer is the same either way.",
            }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => requestEmailVerification(ctx, input),
  }),
  verifyEmail: t.field({
    type: AuthenticatorCredential,
    description: "Checks the emailed code (at most 5 tries, 10 minutes) and registers this phone's public key.",
    errors: { types: [ValidationError, UnauthenticatedError, RateLimitedError], union: { name: "VerifyEmailResult" } },
    args: {
      input: t.arg({
        type: builder.inputType("VerifyEmailInput", {
          fields: (f) => ({
            email: f.string({ required: true, description: "The address the code was sent to." }),
            code: f.string({ required: true, description: "The code from the email (8 digits)." }),
            publicKey: f.string({ required: true, description: "SPKI DER, base64." }),
            deviceName: f.string({ required: true, description: "A name for this phone, as its user and admins will see it (`Authenticator.name`)." }),
            algorithm: f.field({ type: DeviceKeyAlgorithm, defaultValue: "P256", description: "The algorithm of `publicKey`; P256 unless given." }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => verifyEmail(ctx, { ...input, algorithm: input.algorithm ?? "P256" }),
  }),
  startDeviceOnboarding: t.field({
    type: StartDeviceOnboardingPayload,
    description: "An admin's single-use QR code that links one user's phone to that user.",
    authScopes: { authenticated: true },
    errors: { types: [UnauthenticatedError, ForbiddenError, NotFoundError], union: { name: "StartDeviceOnboardingResult" } },
    args: {
      input: t.arg({
        type: builder.inputType("StartDeviceOnboardingInput", {
          fields: (f) => ({
            userId: f.id({ required: true, description: "The user whose phone is to be linked: the viewer, or a user the viewer manages (NOT_FOUND for anyone else)." }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      const started = await startDeviceOnboarding(ctx, { userId: String(input.userId) });
      return { ...started, challenge: started.challenge as never, expiresAt: started.challenge.expiresAt };
    },
  }),
  onboardDevice: t.field({
    type: OnboardDevicePayload,
    description: "The phone scanned its user's onboarding code; `signature` covers the canonical bytes with decision ONBOARD.",
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError, ValidationError],
      union: { name: "OnboardDeviceResult" },
    },
    args: {
      input: t.arg({
        type: builder.inputType("OnboardDeviceInput", {
          fields: (f) => ({
            qrPayload: f.string({ required: true, description: "The onboarding code's text, as scanned." }),
            signature: f.string({ required: true, description: signatureDescription("ONBOARD") }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_root, { input }, ctx) => ({ authenticator: await onboardDevice(ctx, input) }),
  }),
  approveAuthenticator: t.field({
    type: ApproveAuthenticatorPayload,
    description:
      "Approves a phone that waits for approval (`status` PENDING_APPROVAL). An admin who manages its user may; so may the user, for their own phone, within five minutes of a portal sign-in approved on their other phone, and an admin without another approved phone. NOT_FOUND for any phone the viewer may not approve, exactly as for a missing id (FORBIDDEN for the viewer's own phone without that fresh sign-in); CONFLICT when it is already approved or was revoked.",
    authScopes: { authenticated: true },
    errors: {
      types: [UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError],
      union: { name: "ApproveAuthenticatorResult" },
    },
    args: { input: t.arg({ type: ApproveAuthenticatorInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ authenticator: await approveAuthenticator(ctx, String(input.id)) }),
  }),
  revokeAuthenticator: t.field({
    type: RevokeAuthenticatorPayload,
    description: "A user revokes their own authenticator; an admin one of a user they manage.",
    errors: { types: [UnauthenticatedError, NotFoundError, ValidationError], union: { name: "RevokeAuthenticatorResult" } },
    args: {
      input: t.arg({ type: RevokeAuthenticatorInput, description: convertedInputDescription("revokeAuthenticator") }),
      id: t.arg.id({ description: AUTHENTICATOR_TO_REVOKE, deprecationReason: positionalDeprecation("id") }),
    },
    resolve: async (_root, args, ctx) => {
      const { id } = inputOrPositional(args.input, { id: args.id }, ["id"]);
      return { revokedAuthenticatorId: await revokeAuthenticator(ctx, String(id)) };
    },
  }),
}));

builder.queryFields((t) => ({
  authenticators: t.prismaField({
    type: [Authenticator],
    description: "The viewer's authenticators (called by a phone: its user's, or itself before onboarding).",
    deprecationReason: deprecatedFor("viewerAuthenticators"),
    resolve: (query, _root, _args, ctx) => ctx.db.authenticator.findMany({ ...query, where: viewerAuthenticatorsWhere(ctx), orderBy: { createdAt: "asc" } }),
  }),
  viewerAuthenticators: t.prismaConnection(
    {
      type: Authenticator,
      cursor: "id",
      description: "The viewer's authenticators, oldest first: called by a phone, its user's (or only itself before onboarding); by a signed-in user, theirs.",
      totalCount: (_root, _args, ctx) => ctx.db.authenticator.count({ where: viewerAuthenticatorsWhere(ctx) }),
      resolve: async (query, _root, _args, ctx) => {
        const where = viewerAuthenticatorsWhere(ctx);
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.authenticator.count({ where: { AND: [where, { id }] } })) > 0);
        if (!inside) return [];
        return ctx.db.authenticator.findMany({ ...query, where, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      },
    },
    AuthenticatorConnection,
  ),
}));

/** Visible to the user and to admins who manage them; null to anyone else, API keys included (phones are not theirs to read). */
const phonesOfUser = (user: { id: string; tenantId: string }) => ({
  $all: { apiKeyPermission: PORTAL_ONLY, $any: { self: user.id, tenantAdmin: user.tenantId } },
}) as const;

builder.prismaObjectFields(User, (t) => ({
  authenticators: t.relation("authenticators", {
    nullable: true,
    description: "The user's phones; visible to the user and to admins who manage them.",
    deprecationReason: deprecatedFor("linkedAuthenticators"),
    authScopes: phonesOfUser,
    unauthorizedResolver: () => null,
    query: { where: { revokedAt: null }, orderBy: { createdAt: "asc" } },
  }),
  linkedAuthenticators: t.prismaConnection(
    {
      type: Authenticator,
      cursor: "id",
      nullable: true,
      description: "The user's phones, revoked ones left out, oldest first; null unless the viewer is the user or administers their tenant.",
      authScopes: phonesOfUser,
      unauthorizedResolver: () => null,
      totalCount: (user, _args, ctx) => ctx.db.authenticator.count({ where: { userId: user.id, revokedAt: null } }),
      resolve: async (query, user, _args, ctx) => {
        const where = { userId: user.id, revokedAt: null };
        const inside = await cursorIsInside(query, async (id) => (await ctx.db.authenticator.count({ where: { ...where, id } })) > 0);
        if (!inside) return [];
        return ctx.db.authenticator.findMany({ ...query, where, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      },
    },
    AuthenticatorConnection,
  ),
}));
