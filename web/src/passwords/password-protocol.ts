// The messages between the portal's pages and the password worker, which runs everything
// that touches a password: the new-password rules, OPAQUE (RFC 9807) with its Argon2id key
// stretching (64 MiB, seconds of work), and sealing a customer user's password to the
// tenant's key; and, for a break-glass reveal on a holder's phone, the browser's one-time
// key and opening what the phone sealed to it. The page keeps only what the API answers
// and what goes back to it.
import type { LoginStart, RevealBinding, SealablePhone, SealedSecret, TenantKeyAnswer, TenantKeyPin } from "@latchkey/passwords";

/** `startPasswordRegistration`'s payload, as the worker needs it. */
export type RegistrationStart = {
  response: string;
  ksf: string;
  userId: string;
  serverIdentity: string;
  passwordVersion: number;
  tenantId?: string | null;
  /** The tenant key's signed statement: the worker seals only to a key it states. */
  tenantKey?: TenantKeyAnswer | null;
  /** The user's phones, each sealed a copy once it vouches for its key. */
  userPhones?: SealablePhone[] | null;
};

export type PasswordRequest =
  | { op: "checkNewPassword"; password: string; context: string[] }
  | { op: "startLogIn"; password: string }
  | { op: "answerLogIn"; password: string; state: string; started: LoginStart }
  | { op: "startRegistration"; password: string }
  | { op: "completeRegistration"; password: string; state: string; started: RegistrationStart; pinned: TenantKeyPin | null }
  | { op: "newBrowserKey" }
  | { op: "openReveal"; binding: RevealBinding; privateKey: Uint8Array; sealed: SealedSecret };

export type PasswordAnswer = {
  /** Why the new password is refused, or null. */
  checkNewPassword: string | null;
  startLogIn: { state: string; request: string };
  /** Null: the password is wrong or the account unknown (OPAQUE cannot tell which). */
  answerLogIn: { finish: string } | null;
  startRegistration: { state: string; request: string };
  /** `pin`: the tenant key to remember, once its statement verified; `refused`: why it did not, and nothing was sealed. */
  completeRegistration:
    | { record: string; sealedPassword: SealedSecret | null; phoneCopies: { authenticatorId: string; sealed: SealedSecret }[]; pin: TenantKeyPin | null }
    | { refused: string };
  /** A one-time X25519 key: the private half stays with the page that asked, in memory only. */
  newBrowserKey: { publicKey: string; privateKey: Uint8Array; hash: string };
  openReveal: string;
};

export type WorkerRequest = { id: number } & PasswordRequest;
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };
