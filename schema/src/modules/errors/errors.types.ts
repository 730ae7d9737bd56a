import { builder } from "../../builder.ts";
import { ERROR_CODES, type ErrorCode } from "../../error-codes.ts";
import {
  AccountDisabledError,
  AccountLockedError,
  AppError,
  DesktopLoginRefusedError,
  InstallTokenError,
  InvalidCredentialsError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
  type FieldProblem,
} from "../../errors.ts";

export const ErrorCodeEnum = builder.enumType("ErrorCode", {
  description:
    "What went wrong, for programs: `Error.code` in a result union, and `errors[].extensions.code` of a GraphQL error. " +
    "Stable across releases; new codes may be added, so treat one you do not know as a failure you cannot handle.",
  values: Object.fromEntries(Object.entries(ERROR_CODES).map(([code, description]) => [code, { description }])) as {
    [Code in ErrorCode]: { description: string };
  },
});

export const ErrorInterface = builder.interfaceRef<AppError>("Error").implement({
  description: "Every expected failure: a stable `code` for programs and a `message` for people.",
  fields: (t) => ({
    message: t.exposeString("message", { description: "What went wrong, in words for the person using the client; may change between releases." }),
    code: t.expose("code", { type: ErrorCodeEnum, description: "What went wrong, for programs: stable across releases." }),
  }),
});

const FieldError = builder.objectRef<FieldProblem>("FieldError").implement({
  description: "One input field that was refused, named by its path in the input (`password`, `email`).",
  fields: (t) => ({
    path: t.exposeString("path", {
      description: "Where in the input, dot-separated (`email`, `delivery.expiresAt`); `input` for the input as a whole.",
    }),
    message: t.exposeString("message", { description: "What is wrong with it, in words for the person using the client." }),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  description: "`code` VALIDATION: some of the input was refused; `fields` says which and why.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fields: t.field({ type: [FieldError], description: "The refused input fields, each with its problem.", resolve: (error) => error.fields }),
  }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  description: "`code` NOT_FOUND: no such object, or one the viewer may not reach; the two are answered alike.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(ConflictError, {
  name: "ConflictError",
  description:
    "`code` CONFLICT: the request clashes with what is already there: a name another has taken, something already done, or a change made at the same time.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString("field", { nullable: true, description: "The input field that clashes (`username`, `email`, `slug` …); null when no one field does." }),
  }),
});

builder.objectType(UnauthenticatedError, {
  name: "UnauthenticatedError",
  description: "`code` UNAUTHENTICATED: no valid session, API key or phone credential came with the request (sign in first), or a sign-in's proof was wrong.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(ForbiddenError, {
  name: "ForbiddenError",
  description:
    "Not allowed for this viewer (or an API key without the permission). `code` is FORBIDDEN, or TENANT_SUSPENDED (the customer is suspended) " +
    "or PHONE_REQUIRED (the tenant's sign-in requires a phone and the user has no approved one).",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  description: "`code` RATE_LIMITED: too many attempts from this client or at this account; try again after `retryAfterSeconds`.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds", { description: "Seconds to wait before trying again (at least 1)." }) }),
});

builder.objectType(InvalidCredentialsError, {
  name: "InvalidCredentialsError",
  description: "`code` INVALID_CREDENTIALS: at a desktop login, a wrong password or no such user; the two are never told apart.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(AccountDisabledError, {
  name: "AccountDisabledError",
  description: "`code` ACCOUNT_DISABLED: at a desktop login, the user is disabled. Told only once the password (or the phone) proved who they are, as Windows does.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(AccountLockedError, {
  name: "AccountLockedError",
  description:
    "`code` ACCOUNT_LOCKED: too many wrong passwords from unrecognised devices locked the account for them until `unlocksAt` (or an admin unlocks it). " +
    "Devices the user signed in on before, and sign-in with the phone, still work.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ unlocksAt: t.expose("unlocksAt", { type: "DateTime", description: "When the lock ends by itself." }) }),
});

builder.objectType(DesktopLoginRefusedError, {
  name: "DesktopLoginRefusedError",
  description: "`code` says why: DESKTOP_LOGIN_DISABLED, PASSWORD_LOGIN_NOT_ALLOWED, WORKSTATION_PENDING, ...",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(InstallTokenError, {
  name: "InstallTokenError",
  description: "`code` says why: INSTALL_TOKEN_INVALID, INSTALL_TOKEN_EXPIRED, INSTALL_TOKEN_USED_UP, INSTALL_TOKEN_REVOKED or INSTALL_TOKEN_WRONG_TENANT.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

/** The failures any signed-in mutation can meet. */
export const signedInErrors = [UnauthenticatedError, ForbiddenError, ValidationError, NotFoundError];
