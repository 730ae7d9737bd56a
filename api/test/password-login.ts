// The two steps of an OPAQUE password log in, as a test drives them: each step
// a real HTTP request (with the test's headers), the client's side run by
// @latchkey/passwords, as the CLIs and the portal run it.
import { randomBytes } from "node:crypto";
import { answerLogin, startLogin, START_PASSWORD_LOG_IN, type LoginStart } from "@latchkey/passwords";
import { sweepExpired } from "@latchkey/schema";
import type { Api, RequestOptions } from "./harness.ts";

export const FINISH_PASSWORD_LOG_IN = `mutation($input: FinishPasswordLogInInput!) { finishPasswordLogIn(input: $input) { __typename
  ... on AuthPayload { token user { id } tenant { slug } }
  ... on PhoneApprovalRequiredError { challenge { id status } qrPayload watchToken redeemSecret }
  ... on Error { code message } } }`;

export type LogInAttempt = { tenant: string; login: string; password: string; tokenDelivery?: "BEARER" | "COOKIE" };

/** The first step: the server's answer (a payload or a typed error) and the client's state. */
export async function startPasswordLogIn(api: Api, attempt: LogInAttempt, options: RequestOptions = {}) {
  const { state, request } = await startLogin(attempt.password);
  const { response, body } = await api.request(START_PASSWORD_LOG_IN, { input: { tenant: attempt.tenant, login: attempt.login, request } }, options);
  return { response, state, result: body.data!.startPasswordLogIn as LoginStart & { __typename: string; code?: string; message?: string } };
}

/**
 * A whole log in. `outcome` says how it ended: the finish's result, or
 * `REFUSED_AT_START` (a typed error at the first step: rate limited, locked)
 * or `INCORRECT` (the client's own finish failed: wrong password or unknown
 * account, told apart by nobody). A failed attempt never reaches the second step.
 */
export async function passwordLogIn(api: Api, attempt: LogInAttempt, options: RequestOptions = {}) {
  const started = await startPasswordLogIn(api, attempt, options);
  if (started.result.__typename !== "StartPasswordLogInPayload") {
    return { outcome: "REFUSED_AT_START" as const, start: started.result, finish: null, response: started.response };
  }
  let proof;
  try {
    proof = await answerLogin(started.result, started.state, attempt.password);
  } catch {
    return { outcome: "INCORRECT" as const, start: started.result, finish: null, response: started.response };
  }
  const { response, body } = await api.request(
    FINISH_PASSWORD_LOG_IN,
    { input: { loginId: proof.loginId, finish: proof.finish, tokenDelivery: attempt.tokenDelivery ?? "BEARER" } },
    options,
  );
  const finish = body.data!.finishPasswordLogIn;
  return { outcome: finish.__typename as string, start: started.result, finish, response };
}

const START_DESKTOP = `mutation($input: StartDesktopPasswordLoginInput!) { startDesktopPasswordLogin(input: $input) { __typename
  ... on StartPasswordLogInPayload { loginId response ksf clientIdentity serverIdentity }
  ... on AccountLockedError { unlocksAt } ... on Error { code message } } }`;

export const FINISH_DESKTOP = `mutation($input: FinishDesktopPasswordLoginInput!) { finishDesktopPasswordLogin(input: $input) { __typename
  ... on DesktopLoginPayload { instruction { attemptId workstationId username expiresAt passwordSource password { suite enc ciphertext } } }
  ... on Error { code message } } }`;

/**
 * A workstation's OPAQUE password login with a raw credential (no agent): the
 * finish's result, the start's typed error, or `INVALID_CREDENTIALS` when the
 * client's own finish failed (an agent tells its user exactly that).
 */
export async function desktopPasswordLogin(api: Api, credential: () => Promise<string>, username: string, password: string) {
  const { state, request } = await startLogin(password);
  const { body } = await api.request(START_DESKTOP, { input: { username, request } }, { token: await credential() });
  const started = body.data!.startDesktopPasswordLogin;
  if (started.__typename !== "StartPasswordLogInPayload") return started as { __typename: string; code: string; message: string };
  let proof;
  try {
    proof = await answerLogin(started, state, password);
  } catch {
    return { __typename: "InvalidCredentialsError", code: "INVALID_CREDENTIALS", message: "client finish failed" };
  }
  const finished = await api.request(FINISH_DESKTOP, { input: { loginId: proof.loginId, finish: proof.finish } }, { token: await credential() });
  return finished.body.data!.finishDesktopPasswordLogin;
}

/**
 * A workstation's password login whose agent sends a finish that proves
 * nothing, as a client of someone's own making might (the reference agent stops
 * at its own failed finish): refused, and recorded on the login feed at once
 * rather than at the sweep.
 */
export async function desktopLoginWithForgedFinish(api: Api, credential: () => Promise<string>, username: string) {
  const { request } = await startLogin("not-the-password-1");
  const { body } = await api.request(START_DESKTOP, { input: { username, request } }, { token: await credential() });
  const started = body.data!.startDesktopPasswordLogin;
  if (started.__typename !== "StartPasswordLogInPayload") return started as { __typename: string; code: string; message: string };
  const finished = await api.request(FINISH_DESKTOP, { input: { loginId: started.loginId, finish: randomBytes(64).toString("base64url") } }, { token: await credential() });
  return finished.body.data!.finishDesktopPasswordLogin;
}

/**
 * Logins of `tenantId` nobody finished, recorded as failed attempts now rather
 * than once their 60 seconds are up: their expiry is moved into the past in
 * the database (waiting it out is not an option), then the sweep runs.
 */
export async function sweepUnfinishedLogins(api: Api, tenantId: string) {
  await api.db.passwordLogin.updateMany({ where: { tenant: tenantId }, data: { expiresAt: new Date(Date.now() - 1000) } });
  await sweepExpired(api.app.services);
}
