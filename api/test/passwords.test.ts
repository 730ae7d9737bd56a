// Directory passwords by OPAQUE: the server answers two steps and keeps a
// registration record; the password never reaches it. Unknown accounts take
// the same path (same statements, same answer size), a login's state is good
// once for 60 seconds, every start counts as a failed attempt until a finish
// proves the password, and customer users' passwords are sealed to their
// tenant's key by whoever registers them.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  logInWithPassword,
  openFromTenant,
  proveLogin,
  registerPassword,
  startLogin,
  START_PASSWORD_LOG_IN,
  type SealedSecret,
} from "@latchkey/passwords";
import { SIGN_IN_BUDGETS, createServerSetup } from "@latchkey/schema";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ManualClock, setCookieLine, unique } from "./harness.ts";
import { FINISH_PASSWORD_LOG_IN, passwordLogIn, startPasswordLogIn } from "./password-login.ts";
import { PASSWORD, seed } from "./seed.ts";

let api: Api;
const clock = new ManualClock();
beforeAll(async () => {
  // Addresses come from X-Forwarded-For, so one test stands for many clients.
  api = await Api.start({ TRUSTED_PROXIES: "loopback" }, { clock });
});
afterAll(() => api?.stop());

const from = (address: string) => ({ headers: { "x-forwarded-for": address } });

const SET_PASSWORD = `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename
  ... on ValidationError { code fields { path message } } ... on Error { code message } } }`;
const VIEWER = `{ viewer { user { id } } }`;

describe("sign-up and portal log in with the v1 key-stretching profile", () => {
  let v1: Api;
  beforeAll(async () => {
    v1 = await Api.start({ PASSWORD_KSF: "v1" });
  });
  afterAll(() => v1?.stop());

  it("signs up an MSP and logs its admin in: the session arrives as a cookie, the token in no payload", async () => {
    const msp = await seed(v1).msp();
    const user = await v1.db.user.findUniqueOrThrow({ where: { id: msp.adminId } });
    expect(user).toMatchObject({ passwordKsf: "v1", sealedPassword: null, passwordVersion: 1 });
    expect(user.opaqueRecord).toMatch(/^[A-Za-z0-9_-]{256}$/);

    const login = await passwordLogIn(v1, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD, tokenDelivery: "COOKIE" });
    expect(login.start).toMatchObject({ __typename: "StartPasswordLogInPayload", ksf: "v1", clientIdentity: msp.adminId });
    expect(login.outcome).toBe("AuthPayload");
    expect(login.finish.token).toBeNull();
    const session = setCookieLine(login.response);
    expect(session).toMatch(/^__Secure-latchkey_session=[A-Za-z0-9_-]{43};.*HttpOnly/i);
    expect(setCookieLine(login.response, "__Secure-latchkey_device")).toMatch(/HttpOnly/i);
    const { body } = await v1.request(VIEWER, {}, { headers: { cookie: session.split(";")[0]! } });
    expect(body.data!.viewer.user.id).toBe(msp.adminId);
  });
});

describe("portal log in", () => {
  it("signs in by email or by username, case-insensitively, and as bearer by default", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user();
    for (const login of [user.email, user.email.toUpperCase(), user.username, user.username.toUpperCase()]) {
      const result = await passwordLogIn(api, { tenant: customer.slug, login, password: PASSWORD });
      expect(result.outcome, login).toBe("AuthPayload");
      expect(result.finish.user.id).toBe(user.id);
      expect((await api.gql(VIEWER, {}, { token: result.finish.token })).viewer.user.id).toBe(user.id);
    }
  });

  it("answers a wrong password, an unknown login, an unknown tenant and a user without a password alike: same statements, same size", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const known = await customer.user();
    const passwordless = await customer.user({ password: null });
    const attempt = async (tenant: string, login: string, password: string) => {
      const before = api.queries.length;
      const started = await startPasswordLogIn(api, { tenant, login, password }, from("198.51.100.20"));
      // This request's statements: a background timer (a job, the webhook poller) may run meanwhile.
      const sql = api.requestQueriesSince(before);
      const bytes = JSON.stringify(started.result).length;
      const { answerLogin } = await import("@latchkey/passwords");
      const proof = await answerLogin(started.result, started.state, password).catch((error: Error) => error.message);
      return { sql, bytes, started: started.result, proof };
    };
    const right = await attempt(customer.slug, known.email, PASSWORD);
    const wrong = await attempt(customer.slug, known.email, "not-the-password-1");
    const unknown = await attempt(customer.slug, `${unique("nobody")}@example.test`, "not-the-password-1");
    const noTenant = await attempt(`${unique("no-such")}`, known.email, PASSWORD);
    const noPassword = await attempt(customer.slug, passwordless.email, PASSWORD);

    expect(typeof right.proof).toBe("object");
    // The statements a start sends: the tenant, the user, the login state.
    expect(right.sql.map((sql) => /"public"\."(\w+)"/.exec(sql)?.[1])).toEqual(["Tenant", "User", "PasswordLogin"]);
    for (const other of [wrong, unknown, noTenant, noPassword]) {
      expect(other.started.__typename).toBe("StartPasswordLogInPayload");
      expect(Object.keys(other.started).sort()).toEqual(Object.keys(right.started).sort());
      expect(other.started.ksf).toBe(right.started.ksf);
      expect(other.started.response.length).toBe(right.started.response.length);
      expect(other.bytes).toBe(right.bytes);
      // The same statements, in the same order, whoever is asked for.
      expect(other.sql).toEqual(right.sql);
      // The client learns only that its own finish failed.
      expect(other.proof).toBe("Incorrect tenant, login or password");
    }
    // An unknown login gets the same client identity every time, and no real user's.
    const again = await attempt(customer.slug, "Nobody-Twice@example.test", "x-1234567890");
    const twice = await attempt(customer.slug, "nobody-twice@example.test", "x-1234567890");
    expect(twice.started.clientIdentity).toBe(again.started.clientIdentity);
    expect(await api.db.user.findUnique({ where: { id: again.started.clientIdentity } })).toBeNull();
  });

  it("refuses a forged finish, records it as a failed log in, and never logs the typed login", async () => {
    const msp = await seed(api).msp();
    const started = await startPasswordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD }, from("198.51.100.21"));
    const forged = randomBytes(64).toString("base64url");
    const { body } = await api.request(FINISH_PASSWORD_LOG_IN, { input: { loginId: started.result.loginId, finish: forged } }, from("198.51.100.21"));
    expect(body.data!.finishPasswordLogIn).toEqual({ __typename: "UnauthenticatedError", code: "UNAUTHENTICATED", message: "Incorrect tenant, login or password" });
    await api.jobsSettled();
    const failed = await api.db.auditEvent.findMany({ where: { tenantId: msp.id, action: "session.logInFailed" } });
    expect(failed).toHaveLength(1);

    const typed = "typed-secret-login@example.test";
    await startPasswordLogIn(api, { tenant: msp.slug, login: typed, password: "Typed-Password-In-Login-Box-9" }, from("198.51.100.21"));
    await api.jobsSettled();
    const everything = api.logs.join("\n") + JSON.stringify(await api.db.passwordLogin.findMany());
    expect(everything).not.toContain("typed-secret-login");
  });

  it("finishes a login once: a replayed finish and one after 60 seconds are refused", async () => {
    const msp = await seed(api).msp();
    const { state, request } = await startLogin(PASSWORD);
    const start = async () => {
      const data = await api.gql(START_PASSWORD_LOG_IN, { input: { tenant: msp.slug, login: msp.adminEmail, request } });
      return data.startPasswordLogIn;
    };
    const first = await start();
    const { answerLogin } = await import("@latchkey/passwords");
    const proof = await answerLogin(first, state, PASSWORD);
    const finish = () => api.gql(FINISH_PASSWORD_LOG_IN, { input: { loginId: proof.loginId, finish: proof.finish } });
    expect((await finish()).finishPasswordLogIn.__typename).toBe("AuthPayload");
    const replayed = (await finish()).finishPasswordLogIn;
    expect(replayed).toMatchObject({ __typename: "UnauthenticatedError", code: "UNAUTHENTICATED" });
    expect(await api.db.passwordLogin.count({ where: { id: proof.loginId } })).toBe(0);

    const { state: lateState, request: lateRequest } = await startLogin(PASSWORD);
    const late = (await api.gql(START_PASSWORD_LOG_IN, { input: { tenant: msp.slug, login: msp.adminEmail, request: lateRequest } })).startPasswordLogIn;
    const lateProof = await answerLogin(late, lateState, PASSWORD);
    clock.advance(61_000);
    const expired = await api.gql(FINISH_PASSWORD_LOG_IN, { input: { loginId: lateProof.loginId, finish: lateProof.finish } });
    expect(expired.finishPasswordLogIn).toMatchObject({ __typename: "UnauthenticatedError" });
  });

  it("stores the login state sealed: altered, or moved to another login, it does not open", async () => {
    const msp = await seed(api).msp();
    const one = await startPasswordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD });
    const two = await startPasswordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD });
    const rows = await api.db.passwordLogin.findMany({ where: { id: { in: [one.result.loginId, two.result.loginId] } } });
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.state).not.toContain(msp.adminId);
    // Swap the two states: each now sits under the other's id.
    await api.db.passwordLogin.update({ where: { id: rows[0]!.id }, data: { state: rows[1]!.state } });
    const { answerLogin } = await import("@latchkey/passwords");
    const target = rows[0]!.id === one.result.loginId ? one : two;
    const proof = await answerLogin(target.result, target.state, PASSWORD);
    const moved = await api.gql(FINISH_PASSWORD_LOG_IN, { input: { loginId: proof.loginId, finish: proof.finish } });
    expect(moved.finishPasswordLogIn.__typename).toBe("UnauthenticatedError");
  });
});

describe("who may try a password", () => {
  it("throttles 100 starts without a finish like 100 wrong passwords, and then locks the account for strangers", async () => {
    const msp = await seed(api).msp();
    const victim = await (await msp.customer()).user();
    const outcomes: string[] = [];
    for (let address = 1; address <= 10; address += 1) {
      for (let i = 0; i < 10; i += 1) {
        const { result } = await startPasswordLogIn(api, { tenant: victim.tenantSlug, login: victim.email, password: `guess-${i}` }, from(`203.0.113.${address}`));
        outcomes.push(result.__typename);
      }
    }
    // Each address gets its free failures, until the account's budget for unknown clients is spent.
    expect(outcomes.filter((outcome) => outcome === "StartPasswordLogInPayload")).toHaveLength(SIGN_IN_BUDGETS.unknownClientFailures);
    expect(outcomes.slice(0, SIGN_IN_BUDGETS.freeFailures)).toEqual(Array(SIGN_IN_BUDGETS.freeFailures).fill("StartPasswordLogInPayload"));
    expect(outcomes).toContain("AccountLockedError");
    // A stranger with the right password is refused too: the account is locked for unknown clients.
    const stranger = await passwordLogIn(api, { tenant: victim.tenantSlug, login: victim.email, password: PASSWORD }, from("192.0.2.77"));
    expect(stranger.outcome).toBe("REFUSED_AT_START");
    expect(stranger.start.__typename).toBe("AccountLockedError");
    await api.jobsSettled();
    const row = await api.db.user.findUniqueOrThrow({ where: { id: victim.id } });
    expect(row.lockedAt).not.toBeNull();
  });

  it("counts an unknown login's starts exactly as a known one's", async () => {
    const msp = await seed(api).msp();
    const known = await (await msp.customer()).user();
    const run = async (login: string, address: string) => {
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        outcomes.push((await startPasswordLogIn(api, { tenant: known.tenantSlug, login, password: "guess-1234567" }, from(address))).result.__typename);
      }
      return outcomes;
    };
    expect(await run(`${unique("ghost")}@example.test`, "203.0.113.101")).toEqual(await run(known.email, "203.0.113.102"));
  });

  it("gives a start back when its finish proves the password: a user signing in again and again is never slowed", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    for (let i = 0; i < SIGN_IN_BUDGETS.freeFailures * 3; i += 1) {
      const result = await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: PASSWORD }, from("198.51.100.30"));
      expect(result.outcome, `login ${i + 1}`).toBe("AuthPayload");
    }
  });
});

describe("password changes", () => {
  it("changes one's own password by proving the current one with an OPAQUE log in, keeping only the current session", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const token = await user.token();
    const elsewhere = await seed(api).logIn(user.tenantSlug, user.email, PASSWORD);
    const next = "a-brand-new-passphrase-77";
    const register = () => registerPassword(api.run(token), { userId: user.id, password: next });

    const missing = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: (await register()).registrationId } }, { token });
    expect(missing.setUserPassword).toMatchObject({ __typename: "ValidationError", fields: [{ path: "currentPasswordLogin" }] });

    // A proof made with the wrong password cannot be made at all; a proof of another account's password is refused.
    const other = await (await msp.customer()).user();
    const { serverPublicKey: _key, ...otherProof } = await proveLogin(api.run(), { tenant: other.tenantSlug, login: other.email, password: PASSWORD });
    const foreign = await api.gql(
      SET_PASSWORD,
      { input: { userId: user.id, passwordRegistrationId: (await register()).registrationId, currentPasswordLogin: otherProof } },
      { token },
    );
    expect(foreign.setUserPassword).toMatchObject({ __typename: "ValidationError", fields: [{ path: "currentPasswordLogin" }] });

    const { serverPublicKey: _pinned, ...proof } = await proveLogin(api.run(), { tenant: user.tenantSlug, login: user.email, password: PASSWORD });
    const ok = await api.gql(
      SET_PASSWORD,
      { input: { userId: user.id, passwordRegistrationId: (await register()).registrationId, currentPasswordLogin: proof } },
      { token },
    );
    expect(ok.setUserPassword.__typename).toBe("SetUserPasswordPayload");
    expect((await api.gql(VIEWER, {}, { token })).viewer).not.toBeNull();
    expect((await api.gql(VIEWER, {}, { token: elsewhere })).viewer).toBeNull();
    expect((await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: next })).outcome).toBe("AuthPayload");
    expect((await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: PASSWORD })).outcome).toBe("INCORRECT");
    const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.passwordVersion).toBe(2);
  });

  it("lets an admin reset a user's password from their own client, ending the user's sessions", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const token = await user.token();
    const registration = await registerPassword(api.run(msp.token), { userId: user.id, password: "admin-chosen-passphrase-5" });
    const result = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: registration.registrationId } }, { token: msp.token });
    expect(result.setUserPassword.__typename).toBe("SetUserPasswordPayload");
    expect((await api.gql(VIEWER, {}, { token })).viewer).toBeNull();
    expect((await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: "admin-chosen-passphrase-5" })).outcome).toBe("AuthPayload");
    // A registration is used once.
    const again = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: registration.registrationId } }, { token: msp.token });
    expect(again.setUserPassword).toMatchObject({ __typename: "ValidationError", fields: [{ path: "passwordRegistrationId" }] });
  });

  it("asks for the user's own password at their next sign-in after an admin sets one, until they change it", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const MUST = `{ viewer { user { mustChangePassword } } }`;
    expect((await api.gql(MUST, {}, { token: await user.token() })).viewer.user.mustChangePassword).toBe(false);

    const setByAdmin = async (password: string, requireChange?: boolean) => {
      const { registrationId } = await registerPassword(api.run(msp.token), { userId: user.id, password });
      const { setUserPassword } = await api.gql(
        `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename ... on SetUserPasswordPayload { user { mustChangePassword } } } }`,
        { input: { userId: user.id, passwordRegistrationId: registrationId, ...(requireChange === undefined ? {} : { requireChange }) } },
        { token: msp.token },
      );
      return setUserPassword.user.mustChangePassword as boolean;
    };
    expect(await setByAdmin("admin-chosen-passphrase-6", false)).toBe(false);
    expect(await setByAdmin("admin-chosen-passphrase-7")).toBe(true);
    const { finish } = await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: "admin-chosen-passphrase-7" });
    expect((await api.gql(MUST, {}, { token: finish.token })).viewer.user.mustChangePassword).toBe(true);

    // Their own change clears it, and asking to keep it set is ignored for oneself.
    const { serverPublicKey: _pinned, ...proof } = await proveLogin(api.run(), { tenant: user.tenantSlug, login: user.email, password: "admin-chosen-passphrase-7" });
    const { registrationId } = await registerPassword(api.run(finish.token), { userId: user.id, password: "their-own-passphrase-88" });
    const own = await api.gql(
      `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename ... on SetUserPasswordPayload { user { mustChangePassword } } } }`,
      { input: { userId: user.id, passwordRegistrationId: registrationId, currentPasswordLogin: proof, requireChange: true } },
      { token: finish.token },
    );
    expect(own.setUserPassword).toEqual({ __typename: "SetUserPasswordPayload", user: { mustChangePassword: false } });
  });

  it("asks a user an admin created with a password for their own at the first sign-in, unless the admin says otherwise", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
      ... on CreateUserPayload { user { id mustChangePassword } } ... on Error { code message } } }`;
    const create = async (username: string, requirePasswordChange?: boolean) => {
      const registration = await registerPassword(api.run(msp.token), { tenant: customer.id, password: PASSWORD });
      const input = {
        tenantId: customer.id, firstName: "Kim", lastName: "Lee", username, email: `${username}@example.test`, role: "USER",
        passwordRegistrationId: registration.registrationId,
        ...(requirePasswordChange === undefined ? {} : { requirePasswordChange }),
      };
      return (await api.gql(CREATE, { input }, { token: msp.token })).createUser;
    };
    const byDefault = await create(unique("kim").slice(0, 20));
    expect(byDefault.user.mustChangePassword).toBe(true);
    const kept = await create(unique("lee").slice(0, 20), false);
    expect(kept.user.mustChangePassword).toBe(false);
    const events = await api.db.auditEvent.findMany({ where: { action: "user.created", targetId: { in: [byDefault.user.id, kept.user.id] } } });
    expect(events.map((event) => (event.data as { mustChangePassword: boolean }).mustChangePassword).sort()).toEqual([false, true]);
    // Without a password there is nothing to change.
    const { createUser } = await api.gql(
      CREATE,
      { input: { tenantId: customer.id, firstName: "Ana", lastName: "Ng", username: unique("ana").slice(0, 20), email: `${unique("ana")}@example.test`, role: "USER", requirePasswordChange: true } },
      { token: msp.token },
    );
    expect(createUser.user.mustChangePassword).toBe(false);
  });

  it("creates a user with a registered password, under the id its registration allocated", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const registration = await registerPassword(api.run(msp.token), { tenant: customer.id, password: PASSWORD });
    const username = unique("n").slice(0, 20);
    const { createUser } = await api.gql(
      `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserPayload { user { id hasPassword } } ... on Error { code } } }`,
      { input: { tenantId: customer.id, firstName: "N", lastName: "U", username, email: `${username}@example.test`, role: "USER", passwordRegistrationId: registration.registrationId } },
      { token: msp.token },
    );
    expect(createUser).toEqual({ __typename: "CreateUserPayload", user: { id: registration.userId, hasPassword: true } });
    expect((await logInWithPassword(api.run(), { tenant: customer.slug, login: username, password: PASSWORD })).__typename).toBe("AuthPayload");
  });
});

describe("sealed passwords", () => {
  async function sealedUser() {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user();
    const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    return { msp, customer, user, row, sealed: row.sealedPassword as SealedSecret };
  }

  it("seals a customer user's password to the tenant's key: it opens with the escrowed key only, bound to tenant, user, version and record", async () => {
    const { customer, user, row, sealed } = await sealedUser();
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    const keys = api.app.services.tenantKeys;
    const binding = { tenantId: customer.id, userId: user.id, passwordVersion: row.passwordVersion, record: row.opaqueRecord! };
    const tenantPrivateKey = await keys.privateKey(api.db, customer.id);
    expect(await openFromTenant({ ...binding, tenantPrivateKey, sealed })).toBe(PASSWORD);

    const other = await (await seed(api).msp()).customer();
    const otherKey = await keys.privateKey(api.db, other.id);
    await expect(openFromTenant({ ...binding, tenantPrivateKey: otherKey, sealed })).rejects.toThrow();
    const otherUser = await (await seed(api).msp()).customer();
    for (const altered of [
      { ...binding, userId: otherUser.id },
      { ...binding, tenantId: other.id },
      { ...binding, passwordVersion: binding.passwordVersion + 1 },
      { ...binding, record: randomBytes(192).toString("base64url") },
    ]) {
      await expect(openFromTenant({ ...altered, tenantPrivateKey, sealed })).rejects.toThrow();
    }
  });

  it("never seals an MSP user's password, and refuses a customer user's unsealed", async () => {
    const msp = await seed(api).msp();
    expect((await api.db.user.findUniqueOrThrow({ where: { id: msp.adminId } })).sealedPassword).toBeNull();
    expect(await api.db.tenantKeyPair.count({ where: { tenantId: msp.id } })).toBe(0);
    const { startRegistration, finishRegistration } = await import("@latchkey/passwords");
    const { START_PASSWORD_REGISTRATION, FINISH_PASSWORD_REGISTRATION } = await import("@latchkey/passwords");
    const customer = await msp.customer();
    for (const [tenant, sealedPassword, expected] of [
      [msp.id, { suite: "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM", enc: "AAAA", ciphertext: "AAAA" }, "never sealed"],
      [customer.id, null, "Seal the password"],
    ] as const) {
      const { state, request } = await startRegistration(PASSWORD);
      const started = (await api.gql(START_PASSWORD_REGISTRATION, { input: { tenant, request } }, { token: msp.token })).startPasswordRegistration;
      const { record } = await finishRegistration({ state, response: started.response, password: PASSWORD, ksf: started.ksf, identities: { client: started.userId, server: started.serverIdentity } });
      const { finishPasswordRegistration } = await api.gql(FINISH_PASSWORD_REGISTRATION, { input: { registrationId: started.registrationId, record, sealedPassword } }, { token: msp.token });
      expect(finishPasswordRegistration.__typename).toBe("ValidationError");
      expect(finishPasswordRegistration.message).toContain(expected);
    }
  });
});

describe("registrations are the registrant's", () => {
  it("answers NOT_FOUND for another tenant's user or tenant, and for a registration someone else started", async () => {
    const mine = await seed(api).msp();
    const theirs = await seed(api).msp();
    const theirCustomer = await theirs.customer();
    const theirUser = await theirCustomer.user();
    const { startRegistration, START_PASSWORD_REGISTRATION, FINISH_PASSWORD_REGISTRATION } = await import("@latchkey/passwords");
    const { request } = await startRegistration(PASSWORD);
    for (const input of [{ userId: theirUser.id, request }, { tenant: theirCustomer.id, request }, { userId: theirs.adminId, request }]) {
      const { startPasswordRegistration } = await api.gql(START_PASSWORD_REGISTRATION, { input }, { token: mine.token });
      expect(startPasswordRegistration.__typename, JSON.stringify(input)).toBe("NotFoundError");
    }
    const started = (await api.gql(START_PASSWORD_REGISTRATION, { input: { tenant: theirCustomer.id, request } }, { token: theirs.token })).startPasswordRegistration;
    const { finishPasswordRegistration } = await api.gql(
      FINISH_PASSWORD_REGISTRATION,
      { input: { registrationId: started.registrationId, record: randomBytes(192).toString("base64url") } },
      { token: mine.token },
    );
    expect(finishPasswordRegistration.__typename).toBe("NotFoundError");
  });
});

describe("the OPAQUE server setup", () => {
  it("is generated under DATA_DIR for the embedded default, recorded at the first start, and an instance with another is refused", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-opaque-setup-"));
    const embedded = { DATA_DIR: dataDir, DATABASE_URL: "", OPAQUE_SERVER_SETUP: "", LOGIN_STATE_KEY: "", KEY_ENCRYPTION_KEY: "", KEY_ENCRYPTION_KEY_ID: "" };
    try {
      const first = await Api.start(embedded);
      const file = join(dataDir, "secrets", "opaque-server-setup");
      const generated = await readFile(file, "utf8");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const deployment = await first.db.deployment.findUniqueOrThrow({ where: { id: 1 } });
      expect(deployment.opaqueServerPublicKey).toBe(first.app.services.passwordAuth.serverPublicKey);
      expect(first.app.services.passwordAuth.serverIdentity).toBe(deployment.deploymentId);
      await first.stop();

      await expect(Api.start({ ...embedded, OPAQUE_SERVER_SETUP: await createServerSetup() })).rejects.toThrow(/not the one this database was set up with/);

      const again = await Api.start(embedded);
      try {
        expect(await readFile(file, "utf8")).toBe(generated);
        expect(again.app.services.passwordAuth.serverIdentity).toBe(deployment.deploymentId);
      } finally {
        await again.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it("and the login-state key are required with PostgreSQL, before any connection is opened", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-opaque-config-"));
    try {
      const key = () => randomBytes(32);
      const base = {
        ...loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" }),
        databaseUrl: "postgresql://postgres@127.0.0.1:1/none",
        keyEncryptionKey: { id: "k1", key: key() },
        emailCodeKey: key(),
        deviceCookieKey: key(),
      };
      await expect(buildApp({ ...base, loginStateKey: undefined })).rejects.toThrow(/LOGIN_STATE_KEY is required when DATABASE_URL is set/);
      await expect(buildApp({ ...base, loginStateKey: key(), opaqueServerSetup: undefined })).rejects.toThrow(/OPAQUE_SERVER_SETUP is required when DATABASE_URL is set/);
      expect(() => loadConfig({ DATA_DIR: dataDir, OPAQUE_SERVER_SETUP: "not a setup" })).toThrow(/OPAQUE_SERVER_SETUP/);
      expect(() => loadConfig({ DATA_DIR: dataDir, PASSWORD_KSF: "v0" })).toThrow(/PASSWORD_KSF/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
