// The GraphQL side of the two password flows, for any client that can run an
// operation: both steps of a login, and a registration (with the password
// sealed to the tenant's key when the server hands one). The portal runs the
// same steps with its own documents; see the README's API section.
import { finishLogin, finishRegistration, startLogin, startRegistration } from "./opaque-client.ts";
import { sealToTenant, type SealedSecret } from "./tenant-sealing.ts";
import { TenantKeyRefused, verifyTenantKey, type TenantKeyAnswer, type TenantKeyPin } from "./tenant-key-statement.ts";
import { sealForPhones, type SealablePhone } from "./phone-copies.ts";

/** Runs one operation and returns its `data` (throwing on transport or top-level errors). */
export type RunOperation = (query: string, variables: Record<string, unknown>) => Promise<Record<string, any>>;

export const START_PASSWORD_LOG_IN = `mutation StartPasswordLogIn($input: StartPasswordLogInInput!) {
  startPasswordLogIn(input: $input) {
    __typename
    ... on StartPasswordLogInPayload { loginId response ksf clientIdentity serverIdentity }
    ... on Error { code message }
  }
}`;

export const START_PASSWORD_REGISTRATION = `mutation StartPasswordRegistration($input: StartPasswordRegistrationInput!) {
  startPasswordRegistration(input: $input) {
    __typename
    ... on StartPasswordRegistrationPayload {
      registrationId response ksf userId serverIdentity passwordVersion tenantId
      tenantKey { statement signature handover history { statement signature handover } }
      userPhones { authenticatorId algorithm publicKey keyAgreementKey keyAgreementSignature }
    }
    ... on Error { code message }
  }
}`;

export const FINISH_PASSWORD_REGISTRATION = `mutation FinishPasswordRegistration($input: FinishPasswordRegistrationInput!) {
  finishPasswordRegistration(input: $input) {
    __typename
    ... on FinishPasswordRegistrationPayload { registrationId }
    ... on Error { code message }
  }
}`;

/** A typed error a step answered with (code and message), or the local "wrong password or unknown account". */
export class PasswordFlowError extends Error {
  override name = "PasswordFlowError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a client learns when its own finish step fails: the same for a wrong password and an unknown account. */
export const INCORRECT_LOGIN = new PasswordFlowError("UNAUTHENTICATED", "Incorrect tenant, login or password");

function payload(result: Record<string, any>, typename: string) {
  if (result.__typename !== typename) throw new PasswordFlowError(String(result.code ?? result.__typename), String(result.message ?? result.__typename));
  return result;
}

export type LoginStart = { loginId: string; response: string; ksf: string; clientIdentity: string; serverIdentity: string };

/**
 * The client's half of a login given a started login: the finish message, or
 * INCORRECT_LOGIN when the password is wrong or the account unknown. The
 * server's static key is checked when `expectedServerPublicKey` is given.
 */
export async function answerLogin(
  started: LoginStart,
  state: string,
  password: string,
  expectedServerPublicKey?: string | null,
): Promise<{ loginId: string; finish: string; serverPublicKey: string }> {
  const finished = await finishLogin({
    state,
    response: started.response,
    password,
    ksf: started.ksf,
    identities: { client: started.clientIdentity, server: started.serverIdentity },
    expectedServerPublicKey,
  });
  if (!finished) throw INCORRECT_LOGIN;
  return { loginId: started.loginId, finish: finished.finish, serverPublicKey: finished.serverPublicKey };
}

/** Both client steps of a portal login, up to (not including) the finish operation. */
export async function proveLogin(run: RunOperation, input: { tenant: string; login: string; password: string }) {
  const { state, request } = await startLogin(input.password);
  const data = await run(START_PASSWORD_LOG_IN, { input: { tenant: input.tenant, login: input.login, request } });
  const started = payload(data.startPasswordLogIn, "StartPasswordLogInPayload") as LoginStart;
  return answerLogin(started, state, input.password);
}

/**
 * A portal login: start, the client's proof, finish. `selection` is what the
 * caller wants of the finish result (the AuthPayload and errors). Throws
 * PasswordFlowError when the start is refused or the password is wrong.
 */
export async function logInWithPassword(
  run: RunOperation,
  input: { tenant: string; login: string; password: string; tokenDelivery?: "BEARER" | "COOKIE" },
  selection = "__typename ... on AuthPayload { token user { id } tenant { id slug } } ... on Error { code message }",
): Promise<Record<string, any>> {
  const proof = await proveLogin(run, input);
  const data = await run(
    `mutation FinishPasswordLogIn($input: FinishPasswordLogInInput!) { finishPasswordLogIn(input: $input) { ${selection} } }`,
    { input: { loginId: proof.loginId, finish: proof.finish, tokenDelivery: input.tokenDelivery ?? "BEARER" } },
  );
  return data.finishPasswordLogIn;
}

export type Registration = { registrationId: string; userId: string; tenantId: string | null; passwordVersion: number };

/**
 * Registers `password`: for an existing user (`userId`), a new user of a tenant
 * (`tenant`, its id), or a sign-up (neither). Seals the password to the
 * tenant's key when the server hands one (customer tenants), once its signed
 * statement verifies against `pins` (what this client saw before). The registration
 * id is then given to signUpMsp, createUser or setUserPassword.
 */
/** What sealing a new password needs of `startPasswordRegistration`'s payload. */
export type RegistrationToSeal = {
  userId: string;
  passwordVersion: number;
  tenantId?: string | null;
  tenantKey?: TenantKeyAnswer | null;
  /** The user's phones: each gets a copy, so it can hand the password to a workstation at a QR login. */
  userPhones?: SealablePhone[] | null;
};

/**
 * For a customer's user: checks the tenant key's signed statement against what this
 * client pinned and seals the password to the key the statement names, and to each
 * of the user's phones that vouches for its key, bound to the registration. Null for
 * an MSP's user, whose password is never sealed. Throws TenantKeyRefused, with
 * nothing sealed, when the statement does not hold.
 */
export async function sealForTenant(
  started: RegistrationToSeal,
  record: string,
  password: string,
  pinned: TenantKeyPin | null,
): Promise<{ sealedPassword: SealedSecret; phoneCopies: { authenticatorId: string; sealed: SealedSecret }[]; pin: TenantKeyPin } | null> {
  if (!started.tenantKey || !started.tenantId) return null;
  const { statement, pin } = await verifyTenantKey(started.tenantKey, { tenantId: started.tenantId, pinned });
  const binding = { tenantId: started.tenantId, userId: started.userId, passwordVersion: started.passwordVersion, record };
  const sealedPassword = await sealToTenant({ ...binding, tenantPublicKey: statement.publicKey, password });
  const phoneCopies = await sealForPhones(binding, started.userPhones ?? [], password);
  return { sealedPassword, phoneCopies, pin };
}

/** Where a client keeps the tenant keys it has seen (state file, browser storage). */
export type TenantKeyPins = {
  get(tenantId: string): TenantKeyPin | null | Promise<TenantKeyPin | null>;
  set(pin: TenantKeyPin): void | Promise<void>;
};

export async function registerPassword(
  run: RunOperation,
  input: { userId?: string | null; tenant?: string | null; password: string; pins?: TenantKeyPins },
): Promise<Registration> {
  const { state, request } = await startRegistration(input.password);
  const data = await run(START_PASSWORD_REGISTRATION, {
    input: { userId: input.userId ?? null, tenant: input.tenant ?? null, request },
  });
  const started = payload(data.startPasswordRegistration, "StartPasswordRegistrationPayload");
  const { record } = await finishRegistration({
    state,
    response: started.response,
    password: input.password,
    ksf: started.ksf,
    identities: { client: started.userId, server: started.serverIdentity },
  });
  // A new user's tenant is the caller's to name: a key for any other is never sealed to (nor its pin looked up).
  if (input.tenant && started.tenantId !== input.tenant) throw new TenantKeyRefused("the registration is for another tenant than the one asked for");
  const pinned = started.tenantKey && started.tenantId ? ((await input.pins?.get(started.tenantId)) ?? null) : null;
  const sealed = await sealForTenant(started as RegistrationToSeal, record, input.password, pinned);
  if (sealed) await input.pins?.set(sealed.pin);
  const sealedPassword = sealed?.sealedPassword ?? null;
  const finished = await run(FINISH_PASSWORD_REGISTRATION, {
    input: { registrationId: started.registrationId, record, sealedPassword, phoneCopies: sealed?.phoneCopies ?? [] },
  });
  payload(finished.finishPasswordRegistration, "FinishPasswordRegistrationPayload");
  return { registrationId: started.registrationId, userId: started.userId, tenantId: started.tenantId, passwordVersion: started.passwordVersion };
}
