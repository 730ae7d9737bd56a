// Expected failures. Each class is exposed as a GraphQL type implementing
// `interface Error { message code }` and listed on the mutations that can
// return it, so clients branch on `__typename`/`code` instead of parsing text.
// Anything else thrown is masked by yoga and logged on the server.

export abstract class AppError extends Error {
  abstract readonly code: string;
}

export type FieldProblem = { path: string; message: string };

export class ValidationError extends AppError {
  readonly code = "VALIDATION";
  constructor(
    readonly fields: FieldProblem[],
    message = fields.length === 1 ? fields[0]!.message : "Some fields are not valid",
  ) {
    super(message);
  }

  static field(path: string, message: string) {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends AppError {
  readonly code = "NOT_FOUND";
  constructor(what = "Object") {
    super(`${what} not found`);
  }
}

export class ConflictError extends AppError {
  readonly code = "CONFLICT";
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor(message = "Sign in to continue") {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  readonly code = "FORBIDDEN";
  constructor(message = "You are not allowed to do this") {
    super(message);
  }
}

export class RateLimitedError extends AppError {
  readonly code = "RATE_LIMITED";
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many attempts; try again in ${retryAfterSeconds} s`,
  ) {
    super(message);
  }
}
