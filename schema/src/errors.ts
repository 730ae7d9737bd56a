// Expected failures. Each class is exposed as a GraphQL type implementing
// `interface Error { message code }` and listed on the mutations that can
// return it, so clients branch on `__typename`/`code` instead of parsing text.
// Anything else thrown is masked by yoga and logged on the server. They are
// GraphQLErrors so that, where no union can carry them (a refused
// subscription, an unauthorised field), they still reach the client with
// their code and message rather than as an internal error.
import { GraphQLError } from "graphql";

export abstract class AppError extends GraphQLError {
  constructor(
    message: string,
    readonly code: string,
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
  constructor(what = "Object") {
    super(`${what} not found`, "NOT_FOUND");
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
  constructor(message = "You are not allowed to do this") {
    super(message, "FORBIDDEN");
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
