import { SealedSecretInput } from "../password/password.types.ts";
import { builder } from "../../builder.ts";
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
      qrPayload: t.arg.string({
        required: true,
        description: "The scanned code's text as it is: `lk1.<challenge id>.<secret>`, perhaps with a fourth part (the SHA-256 of a key to seal to); at most 250 characters.",
      }),
    },
    resolve: (_root, args, ctx) => scanChallenge(ctx, args.qrPayload),
  }),
  approveChallenge: t.field({
    type: DecideChallengePayload,
    description: "Approves a code this phone scanned; `signature` covers the canonical bytes with decision APPROVE.",
    errors: { types: decisionErrors, union: { name: "ApproveChallengeResult" } },
    args: {
      id: t.arg.id({ required: true, description: "The scanned challenge's id (`ChallengeScan.challenge.id`)." }),
      signature: t.arg.string({
        required: true,
        description:
          signatureDescription("APPROVE") +
          " An ELEVATED_ACCESS approval signs the `latchkey-elevation-v1` lines instead (see ElevationScan).",
      }),
      delivery: t.arg({
        type: PasswordDeliveryInput,
        description: "A desktop login with the master key on: the user's password, re-sealed by this phone to the workstation (see ChallengeScan.passwordDelivery).",
      }),
    },
    resolve: async (_root, args, ctx) => ({ challenge: (await decideChallenge(ctx, String(args.id), args.signature, "APPROVE", args.delivery ?? null)) as never }),
  }),
  denyChallenge: t.field({
    type: DecideChallengePayload,
    description: "Denies a code this phone scanned; `signature` covers the canonical bytes with decision DENY.",
    errors: { types: decisionErrors, union: { name: "DenyChallengeResult" } },
    args: {
      id: t.arg.id({ required: true, description: "The scanned challenge's id (`ChallengeScan.challenge.id`)." }),
      signature: t.arg.string({ required: true, description: signatureDescription("DENY") }),
    },
    resolve: async (_root, args, ctx) => ({ challenge: (await decideChallenge(ctx, String(args.id), args.signature, "DENY")) as never }),
  }),
  cancelChallenge: t.field({
    type: DecideChallengePayload,
    description: "The requester withdraws a code it showed, with its redeem secret: the code expires now.",
    errors: { types: [NotFoundError, ConflictError], union: { name: "CancelChallengeResult" } },
    args: {
      id: t.arg.id({ required: true, description: "The challenge to withdraw." }),
      redeemSecret: t.arg.string({ required: true, description: "The redeem secret handed out with the code (by `startLoginChallenge`, say)." }),
    },
    resolve: async (_root, args, ctx) => ({ challenge: (await cancelChallenge(ctx, String(args.id), args.redeemSecret)) as never }),
  }),
  redeemChallenge: t.field({
    type: AuthPayload,
    description: "Exchanges an APPROVED challenge for what it grants, once. For PORTAL_LOGIN: a session.",
    errors: { types: [NotFoundError, ConflictError, ForbiddenError], union: { name: "RedeemChallengeResult" } },
    args: {
      id: t.arg.id({ required: true, description: "The PORTAL_LOGIN challenge's id." }),
      redeemSecret: t.arg.string({
        required: true,
        description: "The redeem secret handed out with the code: by `startLoginChallenge`, or, for the phone step after a password, in the PhoneApprovalRequiredError.",
      }),
      tokenDelivery: t.arg({
        type: TokenDelivery,
        defaultValue: "BEARER",
        description: "How the new session's token is handed over: in the payload (BEARER, the default) or as an HttpOnly cookie (COOKIE).",
      }),
    },
    resolve: (_root, args, ctx) => redeemChallenge(ctx, String(args.id), args.redeemSecret, args.tokenDelivery ?? "BEARER"),
  }),
}));
