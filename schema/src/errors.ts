// Expected failures. Each class is exposed as a GraphQL type implementing
// `interface Error { message code }` and listed on the mutations that can
// return it, so clients branch on `__typename`/`code` instead of parsing text.
// Anything else thrown is masked by yoga and logged on the server. They are
// GraphQLErrors so that, where no union can carry them (a refused
// subscription, an unauthorised field), they still reach the client with
// their code and message rather than as an internal error.
import type { Challenge } from "@latchkey/db";
import { GraphQLError } from "graphql";
import type { ErrorCode } from "./error-codes.ts";

export abstract class AppError extends GraphQLError {
  constructor(
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message, { extensions: { code } });
  }
}

export type FieldProblem = { path: string; message: string };

export class ValidationError extends AppError {
  constructor(
    readonly fields: FieldProblem[],
    message = fields.length === 1 ? fields[0]!.message : "Some fields are not valid",
  ) {
    super(message, "VALIDATION");
  }

  static field(path: string, message: string) {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends AppError {
  /** `message` replaces "<what> not found" where the person needs to hear what to do. */
  constructor(what = "Object", message = `${what} not found`) {
    super(message, "NOT_FOUND");
  }
}

export class ConflictError extends AppError {
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message, "CONFLICT");
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = "Sign in to continue") {
    super(message, "UNAUTHENTICATED");
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "You are not allowed to do this", code: "FORBIDDEN" | "TENANT_SUSPENDED" | "PHONE_REQUIRED" = "FORBIDDEN") {
    super(message, code);
  }
}

/** Sign-in to a suspended customer: its MSP holds its data but lets nobody in. */
export class TenantSuspendedError extends ForbiddenError {
  constructor() {
    super("This organisation is suspended: ask your IT provider", "TENANT_SUSPENDED");
  }
}

/**
 * The tenant's sign-in requires a phone, and this user has no approved one:
 * the password alone opens nothing. Told only after the password proved.
 */
export class PhoneRequiredError extends ForbiddenError {
  constructor() {
    super(
      "Signing in here needs your phone as well as your password, and no phone of yours is approved yet. " +
        "Link the Latchkey authenticator with the invitation code from your email and have it approved, or ask an admin",
      "PHONE_REQUIRED",
    );
  }
}

/**
 * The password proved and the tenant asks for the phone as well ("sign-in
 * requires phone"): no session yet. Show `qrPayload` as a QR code for the user's
 * own phone, watch it with `watchToken` and redeem it with `redeemSecret`, as a
 * phone sign-in started by `startLoginChallenge`.
 */
export class PhoneApprovalRequiredError extends AppError {
  constructor(
    readonly started: {
      challenge: Challenge;
      qrPayload: string;
      watchToken: string;
      redeemSecret: string;
    },
  ) {
    super("Approve this sign-in on your phone: scan the QR code with the Latchkey authenticator", "PHONE_APPROVAL_REQUIRED");
  }
}

/**
 * The database could not be asked (down, restarting, out of connections): a
 * request error, never in a result union. A write it interrupted was not made,
 * or, when the connection dropped as it committed, made whole: never in part.
 */
export class UnavailableError extends AppError {
  constructor(message = "The service cannot reach its database just now: try again in a few seconds") {
    super(message, "UNAVAILABLE");
  }
}

export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many attempts; try again in ${retryAfterSeconds} s`,
  ) {
    super(message, "RATE_LIMITED");
  }
}

/** Wrong password or no such user: the two are never told apart. */
export class InvalidCredentialsError extends AppError {
  constructor(message = "The username or password is not correct") {
    super(message, "INVALID_CREDENTIALS");
  }
}

/** Told only once the password was right, as Windows does. */
export class AccountDisabledError extends AppError {
  constructor(message = "This account is disabled; ask your administrator") {
    super(message, "ACCOUNT_DISABLED");
  }
}

/**
 * Too many wrong passwords from unrecognised clients: the account is locked for
 * them until `unlocksAt` (or an admin unlocks it). Clients it signed in on
 * before, and sign-in with the phone, still work.
 */
export class AccountLockedError extends AppError {
  constructor(readonly unlocksAt: Date) {
    super(
      `Too many wrong passwords from unrecognised devices: this account is locked for them until ${unlocksAt.toISOString()}. ` +
        "Sign in with your phone or from a device you used before, or ask an administrator to unlock it",
      "ACCOUNT_LOCKED",
    );
  }
}

export type DesktopRefusal =
  | "DESKTOP_LOGIN_DISABLED"
  | "PASSWORD_LOGIN_NOT_ALLOWED"
  | "PASSWORDLESS_LOGIN_NOT_ALLOWED"
  | "WORKSTATION_PENDING"
  | "TENANT_SUSPENDED"
  | "NO_KEY_AGREEMENT_KEY"
  | "PASSWORD_NOT_AVAILABLE";

const REFUSALS: Record<DesktopRefusal, string> = {
  DESKTOP_LOGIN_DISABLED: "Desktop login is switched off for this organisation",
  PASSWORD_LOGIN_NOT_ALLOWED: "Sign in with your phone: password login is switched off here",
  PASSWORDLESS_LOGIN_NOT_ALLOWED: "Sign in with your password: passwordless login is switched off here",
  WORKSTATION_PENDING: "This workstation is waiting for an administrator's approval",
  TENANT_SUSPENDED: "This organisation is suspended: ask your IT provider",
  NO_KEY_AGREEMENT_KEY: "This workstation enrolled without a key-agreement key and cannot receive passwords",
  PASSWORD_NOT_AVAILABLE: "Sign in once with your password on a workstation before signing in with your phone",
};

/** A desktop login the tenant's settings or the workstation's state do not allow; `code` says which. */
export class DesktopLoginRefusedError extends AppError {
  constructor(readonly reason: DesktopRefusal) {
    super(REFUSALS[reason], reason);
  }
}

export type InstallTokenProblem =
  | "INSTALL_TOKEN_INVALID"
  | "INSTALL_TOKEN_EXPIRED"
  | "INSTALL_TOKEN_USED_UP"
  | "INSTALL_TOKEN_REVOKED"
  | "INSTALL_TOKEN_WRONG_TENANT";

const INSTALL_TOKEN_PROBLEMS: Record<InstallTokenProblem, string> = {
  INSTALL_TOKEN_INVALID: "This install token is not valid",
  INSTALL_TOKEN_EXPIRED: "This install token has expired; ask for a new one",
  INSTALL_TOKEN_USED_UP: "This install token has been used as often as it allows",
  INSTALL_TOKEN_REVOKED: "This install token was revoked",
  INSTALL_TOKEN_WRONG_TENANT: "This install token belongs to another organisation than the one this agent was set up for",
};

export class InstallTokenError extends AppError {
  constructor(readonly problem: InstallTokenProblem) {
    super(INSTALL_TOKEN_PROBLEMS[problem], problem);
  }
}
