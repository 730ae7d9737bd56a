// The client side of OPAQUE (RFC 9807, ristretto255-SHA512, as opaque-ke 3 /
// @serenity-kit/opaque 1.1 implement it): the password never leaves this
// process. Identities: the client is the user's id, the server the deployment
// id. Every value on the wire is base64url without padding, as the library
// writes it.
import * as opaque from "@serenity-kit/opaque";
import { KSF_PROFILES, isKsf, type Ksf } from "./ksf.ts";

export type Identities = { client: string; server: string };

export class PasswordClientError extends Error {
  override name = "PasswordClientError";
}

function profile(ksf: string) {
  if (!isKsf(ksf)) throw new PasswordClientError(`Unknown key-stretching profile "${ksf}"`);
  return KSF_PROFILES[ksf as Ksf];
}

/** First step of a login: the state stays here, the request goes to the server. */
export async function startLogin(password: string): Promise<{ state: string; request: string }> {
  await opaque.ready;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  return { state: clientLoginState, request: startLoginRequest };
}

/**
 * Second step of a login, with the server's response. Null when the password is
 * wrong or the account unknown (the two cannot be told apart). Throws when the
 * server answered with a static key other than `expectedServerPublicKey`.
 */
export async function finishLogin(input: {
  state: string;
  response: string;
  password: string;
  ksf: string;
  identities: Identities;
  expectedServerPublicKey?: string | null;
}): Promise<{ finish: string; serverPublicKey: string; exportKey: string } | null> {
  await opaque.ready;
  const result = opaque.client.finishLogin({
    clientLoginState: input.state,
    loginResponse: input.response,
    password: input.password,
    identifiers: input.identities,
    keyStretching: profile(input.ksf),
  });
  if (!result) return null;
  if (input.expectedServerPublicKey && result.serverStaticPublicKey !== input.expectedServerPublicKey) {
    throw new PasswordClientError("The server answered with a static public key other than the one pinned at enrollment");
  }
  return { finish: result.finishLoginRequest, serverPublicKey: result.serverStaticPublicKey, exportKey: result.exportKey };
}

export async function startRegistration(password: string): Promise<{ state: string; request: string }> {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  return { state: clientRegistrationState, request: registrationRequest };
}

/** The registration record to upload: all the server keeps of the password. */
export async function finishRegistration(input: {
  state: string;
  response: string;
  password: string;
  ksf: string;
  identities: Identities;
}): Promise<{ record: string; serverPublicKey: string }> {
  await opaque.ready;
  const result = opaque.client.finishRegistration({
    clientRegistrationState: input.state,
    registrationResponse: input.response,
    password: input.password,
    identifiers: input.identities,
    keyStretching: profile(input.ksf),
  });
  return { record: result.registrationRecord, serverPublicKey: result.serverStaticPublicKey };
}
