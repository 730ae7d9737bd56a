import type { CombinedError } from "urql";

/** What a form shows: a message per input field, and one for the form as a whole. */
export type FormErrors<Field extends string> = {
  fields: Partial<Record<Field, string>>;
  form: string | null;
};

export function noErrors<Field extends string>(): FormErrors<Field> {
  return { fields: {}, form: null };
}

export function hasErrors(errors: FormErrors<string>) {
  return errors.form !== null || Object.keys(errors.fields).length > 0;
}

/** The members of every mutation result union other than its payload (`interface Error`). */
type ErrorResult = {
  __typename?: string;
  message?: string;
  fields?: ReadonlyArray<{ path: string; message: string }>;
  field?: string | null;
  retryAfterSeconds?: number;
};

/**
 * Places the API's typed errors next to the inputs they name. A path the form has no
 * input for goes to the form message, so no error is ever dropped.
 */
export function errorsFromResult<Field extends string>(
  result: ErrorResult,
  formFields: readonly Field[],
): FormErrors<Field> {
  const errors = noErrors<Field>();
  const isFormField = (path: string): path is Field => (formFields as readonly string[]).includes(path);
  const unplaced: string[] = [];

  for (const { path, message } of result.fields ?? []) {
    const name = path.replace(/^input\./, "");
    if (isFormField(name)) errors.fields[name] ??= message;
    else unplaced.push(message);
  }
  if (result.__typename === "ConflictError" && result.field) {
    const name = result.field.replace(/^input\./, "");
    if (isFormField(name)) errors.fields[name] = result.message ?? "Already taken";
    else unplaced.push(result.message ?? "Already taken");
  } else if (result.__typename === "RateLimitedError") {
    unplaced.push(`Too many attempts. Try again in ${result.retryAfterSeconds ?? 60} seconds.`);
  } else if (result.__typename !== "ValidationError" && result.message) {
    unplaced.push(result.message);
  }
  if (unplaced.length > 0) errors.form = unplaced.join(" ");
  return errors;
}

/** Transport and unexpected GraphQL errors: the API is unreachable or failed internally. */
export function errorsFromTransport<Field extends string>(error: CombinedError): FormErrors<Field> {
  return {
    fields: {},
    form: error.networkError
      ? "Could not reach the Latchkey API. Check your connection and try again."
      : `The API could not complete this request: ${error.graphQLErrors.map((e) => e.message).join(" ")}`,
  };
}

/**
 * For one-click actions (disable, revoke, approve): the message to show, or null when the
 * mutation answered with its payload type.
 */
export function actionProblem(
  error: CombinedError | undefined,
  outcome: { __typename?: string; message?: string } | null | undefined,
  payloadType: string,
): string | null {
  if (error) return errorsFromTransport(error).form;
  if (!outcome) return "No answer from the API.";
  if (outcome.__typename === payloadType) return null;
  return outcome.message ?? "The API refused this.";
}
