/** One refused field of a ValidationError, named by its path in the input. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Every failure the authenticator reports: the API's typed error results
 * (`... on Error { code message }`) keep the server's `code`, and local
 * failures (unreadable QR code, unreachable API, missing enrollment) get codes
 * of their own, so callers and the CLI handle all of them the same way.
 */
export class AuthenticatorError extends Error {
  override readonly name = "AuthenticatorError";
  /** The GraphQL type of the error result (`ValidationError`, ...), when the API sent one. */
  readonly typename: string | undefined;
  readonly fields: FieldProblem[] | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: string,
    message: string,
    details: { typename?: string; fields?: FieldProblem[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.typename = details.typename;
    this.fields = details.fields;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
