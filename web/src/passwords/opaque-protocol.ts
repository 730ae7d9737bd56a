// The messages between the portal's pages and the worker that runs OPAQUE (RFC 9807), so
// the key stretching (Argon2id, up to 64 MiB and seconds of work) never blocks the page.

/** A named key-stretching profile, as the API answers it with each OPAQUE start. */
export type KeyStretching = "v1" | "test";

export type OpaqueRequest =
  | { op: "startLogIn"; password: string }
  | { op: "finishLogIn"; password: string; state: string; response: string; ksf: string }
  | { op: "startRegistration"; password: string }
  | { op: "finishRegistration"; password: string; state: string; response: string; ksf: string };

export type OpaqueAnswer = {
  startLogIn: { state: string; request: string };
  /** `null`: the password is wrong or the account unknown (OPAQUE cannot tell which). */
  finishLogIn: { finish: string } | null;
  startRegistration: { state: string; request: string };
  finishRegistration: { record: string };
};

export type WorkerRequest = { id: number } & OpaqueRequest;
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };
