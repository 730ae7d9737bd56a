// The server's side of OPAQUE (RFC 9807, ristretto255-SHA512 through
// @serenity-kit/opaque): it answers registration and login steps with its
// server setup and keeps only registration records; it never sees a password.
//
// Between the two steps of a login the server's state is sealed (AES-256-GCM
// under LOGIN_STATE_KEY, with the login id, the tenant and the credential
// identifier as associated data) and stored, so that any instance can finish
// what another started. Unknown accounts take the same path with OPAQUE's
// fake record, under the credential identifier `unknown:<tenant>:<login>`, and
// a client identity derived from it, so they answer alike and repeatably.
import { createHmac } from "node:crypto";
import * as opaque from "@serenity-kit/opaque";
import type { Ksf } from "@latchkey/passwords";
import { decryptUnder, encryptUnder } from "./key-hierarchy.ts";

export type PasswordAuthenticationOptions = {
  /** The OPAQUE server setup (base64url), shared by every instance. */
  serverSetup: string;
  /** The server identity: this deployment's id, recorded in the database at its first start. */
  deploymentId: string;
  /** 32 bytes sealing login state between the two steps. */
  loginStateKey: Buffer;
  /** The key-stretching profile new registrations use. */
  ksf: Ksf;
};

const WIRE = /^[A-Za-z0-9_-]+$/;

/** A protocol message as it travels: base64url without padding, of a sane length. */
export function isWireMessage(value: string, maxLength = 1024) {
  return value.length > 0 && value.length <= maxLength && WIRE.test(value);
}

/** The server setup's static public key; throws when the text is no server setup. */
export async function serverSetupPublicKey(serverSetup: string): Promise<string> {
  if (!isWireMessage(serverSetup, 4096)) throw new Error("not a base64url OPAQUE server setup");
  await opaque.ready;
  return opaque.server.getPublicKey(serverSetup);
}

/** A new server setup (for the embedded default's generated one, and tests). */
export async function createServerSetup(): Promise<string> {
  await opaque.ready;
  return opaque.server.createSetup();
}

export class PasswordAuthentication {
  readonly serverPublicKey: string;

  private constructor(private readonly options: PasswordAuthenticationOptions) {
    this.serverPublicKey = opaque.server.getPublicKey(options.serverSetup);
  }

  static async create(options: PasswordAuthenticationOptions) {
    await opaque.ready;
    return new PasswordAuthentication(options);
  }

  get serverIdentity() {
    return this.options.deploymentId;
  }

  get ksf(): Ksf {
    return this.options.ksf;
  }

  /** The registration response for the user whose id is the credential identifier. Throws on a malformed request. */
  registrationResponse(userId: string, request: string): string {
    return opaque.server.createRegistrationResponse({ serverSetup: this.options.serverSetup, userIdentifier: userId, registrationRequest: request })
      .registrationResponse;
  }

  /**
   * The login response and the server's state. `record` null: OPAQUE's fake
   * record (unknown account, or a user without a password), answered the same way.
   */
  startLogin(input: { credentialIdentifier: string; clientIdentity: string; record: string | null; request: string }) {
    const { serverLoginState, loginResponse } = opaque.server.startLogin({
      serverSetup: this.options.serverSetup,
      registrationRecord: input.record,
      startLoginRequest: input.request,
      userIdentifier: input.credentialIdentifier,
      identifiers: { client: input.clientIdentity, server: this.serverIdentity },
    });
    return { state: serverLoginState, response: loginResponse };
  }

  /** Whether the client's finish message proves the password. Never throws. */
  finishLogin(input: { state: string; finish: string; clientIdentity: string }): boolean {
    try {
      opaque.server.finishLogin({
        serverLoginState: input.state,
        finishLoginRequest: input.finish,
        identifiers: { client: input.clientIdentity, server: this.serverIdentity },
      });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The client identity of an unknown account: shaped like a user id, the same
   * at every attempt and on every instance, unrelated to any real user.
   */
  unknownClientIdentity(credentialIdentifier: string): string {
    const hex = createHmac("sha256", this.options.loginStateKey).update(`latchkey-unknown-client-v1|${credentialIdentifier}`).digest("hex");
    const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** What the stored row names the credential identifier by: a keyed hash, as it may hold a typed login. */
  subject(credentialIdentifier: string): string {
    return createHmac("sha256", this.options.loginStateKey).update(`latchkey-login-subject-v1|${credentialIdentifier}`).digest("base64url");
  }

  sealLoginState<T>(binding: LoginStateBinding, state: T): string {
    return encryptUnder(this.options.loginStateKey, Buffer.from(JSON.stringify(state), "utf8"), loginStateAssociatedData(binding));
  }

  /** Throws when the state was sealed for another login, tenant or subject, or altered. */
  openLoginState<T>(binding: LoginStateBinding, sealed: string): T {
    return JSON.parse(decryptUnder(this.options.loginStateKey, sealed, loginStateAssociatedData(binding)).toString("utf8")) as T;
  }
}

export type LoginStateBinding = { loginId: string; tenant: string; subject: string };

function loginStateAssociatedData(binding: LoginStateBinding) {
  return `latchkey-login-state-v1|${binding.loginId}|${binding.tenant}|${binding.subject}`;
}
