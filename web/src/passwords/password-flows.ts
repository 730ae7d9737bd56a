// The portal's password exchanges: the GraphQL steps go through urql on the page, every step
// that touches the password runs in the password worker. Neither the password nor anything
// derived from it without the server's help ever leaves the browser.
import type { Client, CombinedError } from "urql";
import type { TenantKeyPin } from "@latchkey/passwords";
import { errorsFromResult, errorsFromTransport, noErrors, type FormErrors } from "@/forms/form-errors";
import { FinishPasswordRegistrationMutation, StartPasswordLogInMutation, StartPasswordRegistrationMutation } from "./password-operations";
import { passwordStep } from "./password-worker-client";

/** A step the API refused, or a password that did not prove: what the form shows. */
export class PasswordFlowProblem extends Error {
  constructor(readonly errors: FormErrors<string>) {
    super(errors.form ?? Object.values(errors.fields).join(" "));
  }
}

/**
 * A password flow's problem as a form's errors: messages for the form's own fields next to
 * them, the rest above the form. Anything else thrown is a bug, and is thrown on.
 */
export function flowErrors<Field extends string>(error: unknown, fields: readonly Field[]): FormErrors<Field> {
  if (!(error instanceof PasswordFlowProblem)) throw error;
  const errors = noErrors<Field>();
  const unplaced = error.errors.form ? [error.errors.form] : [];
  for (const [name, message] of Object.entries(error.errors.fields)) {
    if (!message) continue;
    if ((fields as readonly string[]).includes(name)) errors.fields[name as Field] = message;
    else unplaced.push(message);
  }
  if (unplaced.length > 0) errors.form = unplaced.join(" ");
  return errors;
}

/** What the API says for a wrong password and an unknown account alike. */
export const INCORRECT_LOG_IN = "Incorrect tenant, login or password";

type Outcome = { __typename?: string; message?: string };

function refused(error: CombinedError | undefined, outcome: Outcome | null | undefined, payloadType: string, passwordField: string) {
  if (error) return new PasswordFlowProblem(errorsFromTransport(error));
  if (!outcome) return new PasswordFlowProblem({ fields: {}, form: "No answer from the API." });
  if (outcome.__typename === payloadType) return null;
  const errors = errorsFromResult(outcome, ["password", passwordField]);
  // The steps' own inputs (request, record) are not fields of the form: their problem is the password's.
  return new PasswordFlowProblem(errors);
}

function workerFailed(error: unknown): PasswordFlowProblem {
  const detail = error instanceof Error ? error.message : String(error);
  return new PasswordFlowProblem({ fields: {}, form: `This browser could not run the password check: ${detail}` });
}

/**
 * Checks a new password against the rules (length, common passwords, the account's own
 * names, email and tenant in `context`) and puts the verdict on `field` of `errors`.
 * The API cannot check them: it never sees the password.
 */
export async function checkNewPassword<Field extends string>(
  errors: FormErrors<Field>,
  field: Field,
  password: string,
  context: string[],
): Promise<void> {
  try {
    const problem = await passwordStep({ op: "checkNewPassword", password, context });
    if (problem) errors.fields[field] = problem;
  } catch (error) {
    errors.form = workerFailed(error).message;
  }
}

/**
 * Proves the password of `login` at `tenant` without sending it: the login id and finish
 * message for finishPasswordLogIn, or for setUserPassword's `currentPasswordLogin`.
 * A wrong password throws with `INCORRECT_LOG_IN` as the message, put on `passwordField`
 * when one is named.
 */
export async function provePassword(
  client: Client,
  input: { tenant: string; login: string; password: string },
  wrongPassword: { field?: string; message: string } = { message: INCORRECT_LOG_IN },
): Promise<{ loginId: string; finish: string }> {
  const { password } = input;
  let begun;
  try {
    begun = await passwordStep({ op: "startLogIn", password });
  } catch (error) {
    throw workerFailed(error);
  }
  const result = await client
    .mutation(StartPasswordLogInMutation, { input: { tenant: input.tenant, login: input.login, request: begun.request } })
    .toPromise();
  const outcome = result.data?.startPasswordLogIn;
  const problem = refused(result.error, outcome, "StartPasswordLogInPayload", wrongPassword.field ?? "password");
  if (problem || outcome?.__typename !== "StartPasswordLogInPayload") throw problem;
  let answered;
  try {
    answered = await passwordStep({ op: "answerLogIn", password, state: begun.state, started: outcome });
  } catch (error) {
    throw workerFailed(error);
  }
  if (!answered) {
    throw new PasswordFlowProblem(
      wrongPassword.field ? { fields: { [wrongPassword.field]: wrongPassword.message }, form: null } : { fields: {}, form: wrongPassword.message },
    );
  }
  return { loginId: outcome.loginId, finish: answered.finish };
}

const PINS = "latchkey.tenantKeys";

/**
 * The tenant keys this browser has sealed to: each tenant's signing key and the highest epoch
 * seen, so that an older key or another signing key is refused later (see verifyTenantKey).
 * Browser storage may be refused (private mode, policy): then only the signature is checked.
 */
const tenantKeyPins = {
  read(): Record<string, TenantKeyPin> {
    try {
      return JSON.parse(window.localStorage.getItem(PINS) ?? "{}") as Record<string, TenantKeyPin>;
    } catch {
      return {};
    }
  },
  get(tenantId: string): TenantKeyPin | null {
    return this.read()[tenantId] ?? null;
  },
  set(pin: TenantKeyPin) {
    try {
      window.localStorage.setItem(PINS, JSON.stringify({ ...this.read(), [pin.tenantId]: pin }));
    } catch {
      // See above.
    }
  },
};

/**
 * Registers a new password: for an existing user (`userId`), a new user of a tenant
 * (`tenant`, its id), or an MSP sign-up (neither). For a customer's user the worker also
 * seals it to the tenant's public key. Returns the registration id the final operation takes.
 */
export async function registerPassword(
  client: Client,
  input: { userId?: string | null; tenant?: string | null; password: string },
  passwordField = "password",
): Promise<string> {
  const { password } = input;
  let begun;
  try {
    begun = await passwordStep({ op: "startRegistration", password });
  } catch (error) {
    throw workerFailed(error);
  }
  const started = await client
    .mutation(StartPasswordRegistrationMutation, {
      input: { userId: input.userId ?? null, tenant: input.tenant ?? null, request: begun.request },
    })
    .toPromise();
  const outcome = started.data?.startPasswordRegistration;
  const startProblem = refused(started.error, outcome, "StartPasswordRegistrationPayload", passwordField);
  if (startProblem || outcome?.__typename !== "StartPasswordRegistrationPayload") throw startProblem;
  // A new user's tenant is this form's to name: a key for any other is never sealed to.
  if (input.tenant && outcome.tenantId !== input.tenant) {
    throw new PasswordFlowProblem({ fields: {}, form: "The API answered for another organisation than this one: nothing was saved." });
  }
  let completed;
  try {
    const pinned = outcome.tenantId ? tenantKeyPins.get(outcome.tenantId) : null;
    completed = await passwordStep({ op: "completeRegistration", password, state: begun.state, started: outcome, pinned });
  } catch (error) {
    throw workerFailed(error);
  }
  // Nothing was sealed: the key the server handed out is not the tenant's as this browser knows it.
  if ("refused" in completed) throw new PasswordFlowProblem({ fields: {}, form: completed.refused });
  if (completed.pin) tenantKeyPins.set(completed.pin);
  const finished = await client
    .mutation(FinishPasswordRegistrationMutation, {
      input: { registrationId: outcome.registrationId, record: completed.record, sealedPassword: completed.sealedPassword, phoneCopies: completed.phoneCopies },
    })
    .toPromise();
  const finishOutcome = finished.data?.finishPasswordRegistration;
  const finishProblem = refused(finished.error, finishOutcome, "FinishPasswordRegistrationPayload", passwordField);
  if (finishProblem) throw finishProblem;
  return outcome.registrationId;
}
