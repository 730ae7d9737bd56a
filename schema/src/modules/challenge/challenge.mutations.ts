import { SealedSecretInput } from "../password/password.types.ts";
import { builder } from "../../builder.ts";
import { convertedInputDescription, inputOrPositional, positionalDeprecation } from "../../deprecations.ts";
import {
  ConflictError,
  DesktopLoginRefusedError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from "../../errors.ts";
import { startDesktopLogin } from "../desktop-login/desktop-login.service.ts";
import { ElevationBusyError, ElevationRefusedError } from "../elevation/elevation-errors.ts";
import { startElevation } from "../elevation/elevation.service.ts";
import { ElevationRequestInput, TechnicianSession } from "../elevation/elevation.types.ts";
import { AuthPayload, TokenDelivery } from "../session/session.types.ts";
import { signatureDescription } from "./challenge-signing.ts";
import { Challenge, ChallengeKind, ChallengeScan } from "./challenge.types.ts";
import { cancelChallenge, decideChallenge, redeemChallenge, scanChallenge, startPortalLogin } from "./challenge.service.ts";

const StartLoginChallengeInput = builder.inputType("StartLoginChallengeInput", {
  fields: (t) => ({
    tenant: t.string({ description: "The tenant's slug (a browser names it; a workstation's is known from its credential)." }),
    kind: t.field({
      type: ChallengeKind,
      required: true,
      description: "PORTAL_LOGIN (a browser), or DESKTOP_LOGIN or ELEVATED_ACCESS (a workstation, with its credential). Any other kind is FORBIDDEN here.",
    }),
    elevation: t.field({ type: ElevationRequestInput, description: "ELEVATED_ACCESS: the mode, minutes and Windows session, fixed for the whole elevation." }),
  }),
});

const StartLoginChallengePayload = builder.simpleObject("StartLoginChallengePayload", {
  description: "Show `qrPayload` as a QR code, watch with `watchToken`, and keep `redeemSecret` to yourself.",
  fields: (t) => ({
    challenge: t.field({ type: Challenge, description: "The new challenge, PENDING." }),
    qrPayload: t.string({
      description:
        "What the QR code says: `lk1.<challenge id>.<secret>`. A workstation's agent appends `.<base64url SHA-256 of its key-agreement key>` to a DESKTOP_LOGIN code before showing it.",
    }),
    watchToken: t.string({ description: "Reads (`challenge`) and follows (`challengeUpdated`) this challenge, nothing more. Shown once." }),
    redeemSecret: t.string({
      description:
        "Redeems the approval (`redeemChallenge`, `redeemDesktopLogin` or `redeemElevation`, as the kind is) or withdraws the code (`cancelChallenge`). Shown once; keep it off the screen.",
    }),
    elevation: t.field({ type: TechnicianSession, nullable: true, description: "ELEVATED_ACCESS: the requested technician session." }),
    technicianAccountPrefix: t.string({ nullable: true, description: "ELEVATED_ACCESS with named accounts: the account will be `<prefix><n>` of whoever approves." }),
  }),
});

const DecideChallengePayload = builder.simpleObject("DecideChallengePayload", {
  description: "What `approveChallenge`, `denyChallenge` and `cancelChallenge` return when they succeed: the challenge as it now stands.",
  fields: (t) => ({
    challenge: t.field({ type: Challenge, description: "The challenge: APPROVED or DENIED after a decision, EXPIRED once withdrawn." }),
  }),
});

const decisionErrors = [UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError, ValidationError, RateLimitedError, ElevationBusyError, ElevationRefusedError];

const PasswordDeliveryInput = builder.inputType("PasswordDeliveryInput", {
  description:
    "The user's password as the approving phone re-sealed it to the workstation: HPKE to its key-agreement key, info `latchkey phone delivery v1`, " +
    "associated data `latchkey-phone-delivery-v1|<workstationId>|<challengeId>|<passwordVersion>|<expiresAt>`.",
  fields: (t) => ({
    sealed: t.field({ type: SealedSecretInput, required: true, description: "The box." }),
    passwordVersion: t.int({ required: true, description: "The password version it is." }),
    expiresAt: t.string({ required: true, description: "ISO 8601, within ten minutes: the workstation refuses it after." }),
  }),
});

const QR_PAYLOAD =
  "The scanned code's text as it is: `lk1.<challenge id>.<secret>`, perhaps with a fourth part (the SHA-256 of a key to seal to); at most 250 characters.";
const SCANNED_ID = "The scanned challenge's id (`ChallengeScan.challenge.id`).";
const APPROVE_SIGNATURE =
  signatureDescription("APPROVE") + " An ELEVATED_ACCESS approval signs the `latchkey-elevation-v1` lines instead (see ElevationScan).";
const DELIVERY = "A desktop login with the master key on: the user's password, re-sealed by this phone to the workstation (see ChallengeScan.passwordDelivery).";
const REDEEM_SECRET =
  "The redeem secret handed out with the code: by `startLoginChallenge`, or, for the phone step after a password, in the PhoneApprovalRequiredError.";
const WITHDRAWN_ID = "The challenge to withdraw.";
const WITHDRAWING_SECRET = "The redeem secret handed out with the code (by `startLoginChallenge`, say).";
const REDEEMED_ID = "The PORTAL_LOGIN challenge's id.";
const TOKEN_DELIVERY = "How the new session's token is handed over: in the payload (BEARER, the default) or as an HttpOnly cookie (COOKIE).";

const ScanChallengeInput = builder.inputType("ScanChallengeInput", {
  fields: (t) => ({ qrPayload: t.string({ required: true, description: QR_PAYLOAD }) }),
});

const ApproveChallengeInput = builder.inputType("ApproveChallengeInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: SCANNED_ID }),
    signature: t.string({ required: true, description: APPROVE_SIGNATURE }),
    delivery: t.field({ type: PasswordDeliveryInput, description: DELIVERY }),
  }),
});

const DenyChallengeInput = builder.inputType("DenyChallengeInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: SCANNED_ID }),
    signature: t.string({ required: true, description: signatureDescription("DENY") }),
  }),
});

const CancelChallengeInput = builder.inputType("CancelChallengeInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: WITHDRAWN_ID }),
    redeemSecret: t.string({ required: true, description: WITHDRAWING_SECRET }),
  }),
});

const RedeemChallengeInput = builder.inputType("RedeemChallengeInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: REDEEMED_ID }),
    redeemSecret: t.string({ required: true, description: REDEEM_SECRET }),
    tokenDelivery: t.field({ type: TokenDelivery, defaultValue: "BEARER", description: TOKEN_DELIVERY }),
  }),
});

builder.mutationFields((t) => ({
  startLoginChallenge: t.field({
    type: StartLoginChallengePayload,
    description:
      "Starts a QR sign-in. PORTAL_LOGIN: a browser, no session needed, rate-limited per IP and per tenant. " +
      "DESKTOP_LOGIN: a workstation's login screen, called with the workstation credential. " +
      "ELEVATED_ACCESS: a workstation asks for a technician's elevation (workstation credential, with `elevation`); only a technician who reaches the customer may approve.",
    errors: {
      types: [ValidationError, NotFoundError, ForbiddenError, RateLimitedError, UnauthenticatedError, DesktopLoginRefusedError, ElevationRefusedError, ElevationBusyError],
      union: { name: "StartLoginChallengeResult" },
    },
    args: { input: t.arg({ type: StartLoginChallengeInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.kind === "ELEVATED_ACCESS") {
        const started = await startElevation(ctx, input.elevation);
        return { ...started, challenge: started.challenge as never, elevation: started.elevation as never };
      }
      const started = input.kind === "DESKTOP_LOGIN" ? await startDesktopLogin(ctx) : await startPortalLogin(ctx, input);
      return { ...started, challenge: started.challenge as never, elevation: null, technicianAccountPrefix: null };
    },
  }),
  scanChallenge: t.field({
    type: ChallengeScan,
    description: "The phone scanned a code: claim it for this phone and show who is asking.",
    errors: { types: decisionErrors, union: { name: "ScanChallengeResult" } },
    args: {
      input: t.arg({ type: ScanChallengeInput, description: convertedInputDescription("scanChallenge") }),
      qrPayload: t.arg.string({ description: QR_PAYLOAD, deprecationReason: positionalDeprecation("qrPayload") }),
    },
    resolve: (_root, args, ctx) => {
      const input = inputOrPositional(args.input, { qrPayload: args.qrPayload }, ["qrPayload"]);
      return scanChallenge(ctx, input.qrPayload);
    },
  }),
  approveChallenge: t.field({
    type: DecideChallengePayload,
    description: "Approves a code this phone scanned; `signature` covers the canonical bytes with decision APPROVE.",
    errors: { types: decisionErrors, union: { name: "ApproveChallengeResult" } },
    args: {
      input: t.arg({ type: ApproveChallengeInput, description: convertedInputDescription("approveChallenge") }),
      id: t.arg.id({ description: SCANNED_ID, deprecationReason: positionalDeprecation("id") }),
      signature: t.arg.string({ description: APPROVE_SIGNATURE, deprecationReason: positionalDeprecation("signature") }),
      delivery: t.arg({ type: PasswordDeliveryInput, description: DELIVERY, deprecationReason: positionalDeprecation("delivery") }),
    },
    resolve: async (_root, args, ctx) => {
      const input = inputOrPositional(args.input, { id: args.id, signature: args.signature, delivery: args.delivery }, ["id", "signature"]);
      return { challenge: (await decideChallenge(ctx, String(input.id), input.signature, "APPROVE", input.delivery ?? null)) as never };
    },
  }),
  denyChallenge: t.field({
    type: DecideChallengePayload,
    description: "Denies a code this phone scanned; `signature` covers the canonical bytes with decision DENY.",
    errors: { types: decisionErrors, union: { name: "DenyChallengeResult" } },
    args: {
      input: t.arg({ type: DenyChallengeInput, description: convertedInputDescription("denyChallenge") }),
      id: t.arg.id({ description: SCANNED_ID, deprecationReason: positionalDeprecation("id") }),
      signature: t.arg.string({ description: signatureDescription("DENY"), deprecationReason: positionalDeprecation("signature") }),
    },
    resolve: async (_root, args, ctx) => {
      const input = inputOrPositional(args.input, { id: args.id, signature: args.signature }, ["id", "signature"]);
      return { challenge: (await decideChallenge(ctx, String(input.id), input.signature, "DENY")) as never };
    },
  }),
  cancelChallenge: t.field({
    type: DecideChallengePayload,
    description: "The requester withdraws a code it showed, with its redeem secret: the code expires now.",
    errors: { types: [NotFoundError, ConflictError, ValidationError], union: { name: "CancelChallengeResult" } },
    args: {
      input: t.arg({ type: CancelChallengeInput, description: convertedInputDescription("cancelChallenge") }),
      id: t.arg.id({ description: WITHDRAWN_ID, deprecationReason: positionalDeprecation("id") }),
      redeemSecret: t.arg.string({ description: WITHDRAWING_SECRET, deprecationReason: positionalDeprecation("redeemSecret") }),
    },
    resolve: async (_root, args, ctx) => {
      const input = inputOrPositional(args.input, { id: args.id, redeemSecret: args.redeemSecret }, ["id", "redeemSecret"]);
      return { challenge: (await cancelChallenge(ctx, String(input.id), input.redeemSecret)) as never };
    },
  }),
  redeemChallenge: t.field({
    type: AuthPayload,
    description: "Exchanges an APPROVED challenge for what it grants, once. For PORTAL_LOGIN: a session.",
    errors: { types: [NotFoundError, ConflictError, ForbiddenError, ValidationError], union: { name: "RedeemChallengeResult" } },
    args: {
      input: t.arg({ type: RedeemChallengeInput, description: convertedInputDescription("redeemChallenge") }),
      id: t.arg.id({ description: REDEEMED_ID, deprecationReason: positionalDeprecation("id") }),
      redeemSecret: t.arg.string({ description: REDEEM_SECRET, deprecationReason: positionalDeprecation("redeemSecret") }),
      // No default here: a default would count as given beside `input`. Omitted, it is BEARER.
      tokenDelivery: t.arg({ type: TokenDelivery, description: TOKEN_DELIVERY, deprecationReason: positionalDeprecation("tokenDelivery") }),
    },
    resolve: (_root, args, ctx) => {
      const input = inputOrPositional(
        args.input,
        { id: args.id, redeemSecret: args.redeemSecret, tokenDelivery: args.tokenDelivery },
        ["id", "redeemSecret"],
      );
      return redeemChallenge(ctx, String(input.id), input.redeemSecret, input.tokenDelivery ?? "BEARER");
    },
  }),
}));
