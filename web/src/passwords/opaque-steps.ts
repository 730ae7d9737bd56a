// The client's half of OPAQUE, with the key-stretching profile the API names. Runs in the
// password worker (or on the page where workers are unavailable).
import * as opaque from "@serenity-kit/opaque";
import type { OpaqueAnswer, OpaqueRequest } from "./opaque-protocol";

type KeyStretchingConfig = NonNullable<opaque.client.FinishLoginParams["keyStretching"]>;

/**
 * Every client must stretch with the same parameters the password was registered with;
 * the API answers the profile's name with each start.
 */
const PROFILES: Record<string, KeyStretchingConfig> = {
  v1: { "argon2id-custom": { memory: 65_536, iterations: 3, parallelism: 4 } },
  test: { "argon2id-custom": { memory: 1_024, iterations: 1, parallelism: 1 } },
};

export class UnknownKeyStretchingError extends Error {
  constructor(readonly ksf: string) {
    super(`This portal does not know the password profile “${ksf}”: reload the page and try again.`);
  }
}

function profile(ksf: string): KeyStretchingConfig {
  const config = PROFILES[ksf];
  if (!config) throw new UnknownKeyStretchingError(ksf);
  return config;
}

export async function runOpaqueStep<R extends OpaqueRequest>(request: R): Promise<OpaqueAnswer[R["op"]]> {
  await opaque.ready;
  let answer: OpaqueAnswer[OpaqueRequest["op"]];
  switch (request.op) {
    case "startLogIn": {
      const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: request.password });
      answer = { state: clientLoginState, request: startLoginRequest };
      break;
    }
    case "finishLogIn": {
      const result = opaque.client.finishLogin({
        password: request.password,
        clientLoginState: request.state,
        loginResponse: request.response,
        keyStretching: profile(request.ksf),
      });
      answer = result ? { finish: result.finishLoginRequest } : null;
      break;
    }
    case "startRegistration": {
      const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: request.password });
      answer = { state: clientRegistrationState, request: registrationRequest };
      break;
    }
    case "finishRegistration": {
      const { registrationRecord } = opaque.client.finishRegistration({
        password: request.password,
        clientRegistrationState: request.state,
        registrationResponse: request.response,
        keyStretching: profile(request.ksf),
      });
      answer = { record: registrationRecord };
      break;
    }
  }
  return answer as OpaqueAnswer[R["op"]];
}
