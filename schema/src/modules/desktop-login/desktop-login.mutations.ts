import { builder } from "../../builder.ts";
import {
  AccountDisabledError,
  AccountLockedError,
  ConflictError,
  DesktopLoginRefusedError,
  InvalidCredentialsError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from "../../errors.ts";
import { AccountOutcome, LoginEvent } from "../login-event/login-event.types.ts";
import { finishDesktopPasswordLogin, redeemDesktopLogin, reportAccountResult, startDesktopPasswordLogin } from "./desktop-login.service.ts";
import { StartPasswordLogInPayload } from "../password/password.types.ts";
import { DesktopLoginPayload } from "./desktop-login.types.ts";

const StartDesktopPasswordLoginInput = builder.inputType("StartDesktopPasswordLoginInput", {
  fields: (t) => ({
    username: t.string({ required: true, description: "The directory username (or email)." }),
    request: t.string({ required: true, description: "The agent's OPAQUE login request (KE1), base64url without padding." }),
  }),
});

const FinishDesktopPasswordLoginInput = builder.inputType("FinishDesktopPasswordLoginInput", {
  fields: (t) => ({
    loginId: t.id({
      required: true,
      description: "The `loginId` startDesktopPasswordLogin returned to this workstation: good once, within 60 seconds (UNAUTHENTICATED otherwise).",
    }),
    finish: t.string({ required: true, description: "The agent's OPAQUE finish message (KE3), base64url without padding." }),
  }),
});

const RedeemDesktopLoginInput = builder.inputType("RedeemDesktopLoginInput", {
  fields: (t) => ({
    challengeId: t.id({ required: true, description: "The DESKTOP_LOGIN challenge this workstation started (NOT_FOUND for any other)." }),
    redeemSecret: t.string({ required: true, description: "The redeem secret `startLoginChallenge` returned with it." }),
  }),
});

const ReportAccountResultInput = builder.inputType("ReportAccountResultInput", {
  fields: (t) => ({
    attemptId: t.id({
      required: true,
      description: "The instruction's `attemptId`: a successful attempt on this workstation (NOT_FOUND for any other); its outcome is reported once (CONFLICT after).",
    }),
    outcome: t.field({ type: AccountOutcome, required: true, description: "What the agent did." }),
    detail: t.string({ description: "A short explanation shown to admins, e.g. why an account was refused." }),
  }),
});

const ReportAccountResultPayload = builder.simpleObject("ReportAccountResultPayload", {
  fields: (t) => ({
    loginEvent: t.field({ type: LoginEvent, description: "The attempt's login event, its `accountOutcome` and `accountDetail` now set." }),
  }),
});

const loginErrors = [
  UnauthenticatedError,
  ValidationError,
  InvalidCredentialsError,
  AccountDisabledError,
  AccountLockedError,
  DesktopLoginRefusedError,
  RateLimitedError,
];

builder.mutationFields((t) => ({
  startDesktopPasswordLogin: t.field({
    type: StartPasswordLogInPayload,
    description:
      "A workstation's login screen, first step of an OPAQUE password login (workstation credential): the agent keeps the typed password. " +
      "Counts as this workstation's failed attempt for the account until the finish proves the password.",
    errors: { types: loginErrors, union: { name: "StartDesktopPasswordLoginResult" } },
    args: { input: t.arg({ type: StartDesktopPasswordLoginInput, required: true }) },
    resolve: (_root, { input }, ctx) => startDesktopPasswordLogin(ctx, input),
  }),
  finishDesktopPasswordLogin: t.field({
    type: DesktopLoginPayload,
    description: "Second step: the agent's proof. Returns the account instruction (password source TYPED: set what was typed).",
    errors: { types: loginErrors, union: { name: "FinishDesktopPasswordLoginResult" } },
    args: { input: t.arg({ type: FinishDesktopPasswordLoginInput, required: true }) },
    resolve: (_root, { input }, ctx) => finishDesktopPasswordLogin(ctx, { loginId: String(input.loginId), finish: input.finish }),
  }),
  redeemDesktopLogin: t.field({
    type: DesktopLoginPayload,
    description: "Exchanges an approved DESKTOP_LOGIN challenge for the approver's account instruction, once, on the workstation that started it.",
    errors: { types: [...loginErrors, NotFoundError, ConflictError], union: { name: "RedeemDesktopLoginResult" } },
    args: { input: t.arg({ type: RedeemDesktopLoginInput, required: true }) },
    resolve: (_root, { input }, ctx) => redeemDesktopLogin(ctx, { challengeId: String(input.challengeId), redeemSecret: input.redeemSecret }),
  }),
  reportAccountResult: t.field({
    type: ReportAccountResultPayload,
    description: "The agent reports what it did with an instruction: created, took over, refused, or the password was rejected.",
    errors: { types: [UnauthenticatedError, ValidationError, NotFoundError, ConflictError], union: { name: "ReportAccountResultResult" } },
    args: { input: t.arg({ type: ReportAccountResultInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      loginEvent: (await reportAccountResult(ctx, { ...input, attemptId: String(input.attemptId) })) as never,
    }),
  }),
}));
