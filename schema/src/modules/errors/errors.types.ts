import { builder } from "../../builder.ts";
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

export const ErrorInterface = builder.interfaceRef<AppError>("Error").implement({
  description: "Every expected failure: a stable `code` for programs and a `message` for people.",
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.exposeString("code"),
  }),
});

const FieldError = builder.objectRef<FieldProblem>("FieldError").implement({
  description: "One input field that was refused, named by its path in the input (`password`, `email`).",
  fields: (t) => ({
    path: t.exposeString("path"),
    message: t.exposeString("message"),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ fields: t.field({ type: [FieldError], resolve: (error) => error.fields }) }),
});

builder.objectType(NotFoundError, { name: "NotFoundError", interfaces: [ErrorInterface], fields: () => ({}) });

builder.objectType(ConflictError, {
  name: "ConflictError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString("field", { nullable: true }) }),
});

builder.objectType(UnauthenticatedError, {
  name: "UnauthenticatedError",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(ForbiddenError, { name: "ForbiddenError", interfaces: [ErrorInterface], fields: () => ({}) });

builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds") }),
});

builder.objectType(InvalidCredentialsError, { name: "InvalidCredentialsError", interfaces: [ErrorInterface], fields: () => ({}) });

builder.objectType(AccountDisabledError, { name: "AccountDisabledError", interfaces: [ErrorInterface], fields: () => ({}) });

builder.objectType(AccountLockedError, {
  name: "AccountLockedError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ unlocksAt: t.expose("unlocksAt", { type: "DateTime" }) }),
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
