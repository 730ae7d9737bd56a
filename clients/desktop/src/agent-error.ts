/** One refused field of a ValidationError, named by its path in the input. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Every failure the desktop agent reports. The API's typed error results
 * (`... on Error { code message }`) keep the server's code (INVALID_CREDENTIALS,
 * ACCOUNT_LOCKED, WORKSTATION_PENDING, ...); local failures (no state file,
 * an instruction for another workstation, a refused local account) get codes
 * of their own, so the CLI prints all of them the same way.
 */
export class AgentError extends Error {
  override readonly name = "AgentError";
  /** The GraphQL type of the error result (`AccountLockedError`, ...), when the API sent one. */
  readonly typename: string | undefined;
  readonly fields: FieldProblem[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** For ACCOUNT_LOCKED: when the directory account unlocks (ISO-8601). */
  readonly unlocksAt: string | undefined;

  constructor(
    readonly code: string,
    message: string,
    details: { typename?: string; fields?: FieldProblem[]; retryAfterSeconds?: number; unlocksAt?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.typename = details.typename;
    this.fields = details.fields;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.unlocksAt = details.unlocksAt;
  }
}
