// A stranger's wrong passwords cannot lock a user out: whether a client may try
// a password is decided before it is checked, from that client's own history.
// A browser the user signed in on before (its device cookie) and the user's own
// workstation keep working, as does the phone; unknown clients share one small
// budget per account, and unknown accounts behave exactly like known ones.
import { Authenticator } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ManualClock, setCookieLine } from "./harness.ts";
import { answerLogin, registerPassword } from "@latchkey/passwords";
import { FINISH_PASSWORD_LOG_IN, desktopPasswordLogin, passwordLogIn, startPasswordLogIn } from "./password-login.ts";
import { PASSWORD, seed, type SeededUser } from "./seed.ts";
import { WorkstationKeys } from "./workstation-keys.ts";

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id } qrPayload watchToken redeemSecret } ... on Error { code } } }`;
const REDEEM = `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename ... on Error { code } } }`;
const SET_PASSWORD = `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename
  ... on ValidationError { code fields { path message } } ... on Error { code message } } }`;
const USER = `query($id: ID!) { user(id: $id) { locked lockedAt lockedUntil } }`;

let api: Api;
const clock = new ManualClock();
beforeAll(async () => {
  // Addresses come from X-Forwarded-For, so one test stands for many clients.
  api = await Api.start({ TRUSTED_PROXIES: "loopback" }, { clock });
});
afterAll(() => api?.stop());

const from = (address: string, cookie?: string) => ({ headers: { "x-forwarded-for": address, ...(cookie ? { cookie } : {}) } });

/**
 * A portal log in by OPAQUE, answered as the portal shows it: the start's
 * typed error, the finish's result, or UNAUTHENTICATED when the client's own
 * finish failed (a wrong password never reaches the second step).
 */
async function logIn(user: { tenantSlug: string; email: string }, password: string, options: { headers: Record<string, string> }) {
  const result = await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password, tokenDelivery: "COOKIE" }, options);
  const answer =
    result.outcome === "INCORRECT"
      ? { __typename: "UnauthenticatedError", code: "UNAUTHENTICATED" }
      : result.outcome === "REFUSED_AT_START"
        ? result.start
        : result.finish;
  return { response: result.response, body: { data: { logIn: answer as Record<string, any> } } };
}

/** The device cookie a browser keeps after signing in, ready to send back. */
async function signedInBrowser(user: SeededUser, address: string) {
  const { response, body } = await logIn(user, PASSWORD, from(address));
  expect(body.data!.logIn.__typename).toBe("AuthPayload");
  const line = setCookieLine(response, "__Secure-latchkey_device");
  expect(line).toMatch(/HttpOnly/i);
  return line.split(";")[0]!;
}

async function phoneFor(user: { id: string; email: string }, adminToken: string) {
  const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
  await phone.requestEmailVerification(user.email);
  await phone.verifyEmail(user.email, await api.emailedCode(user.email), "Phone");
  const { startDeviceOnboarding } = await api.gql(
    `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename ... on StartDeviceOnboardingPayload { qrPayload } } }`,
    { userId: user.id },
    { token: adminToken },
  );
  await phone.onboard(startDeviceOnboarding.qrPayload);
  return phone;
}

async function qrSignIn(tenant: string, phone: Authenticator, address: string) {
  const { startLoginChallenge: started } = await api.gql(START, { input: { tenant, kind: "PORTAL_LOGIN" } }, from(address));
  expect(started.__typename).toBe("StartLoginChallengePayload");
  await phone.approve(started.qrPayload);
  const { body } = await api.request(REDEEM, { id: started.challenge.id, secret: started.redeemSecret }, from(address));
  return body.data!.redeemChallenge.__typename as string;
}

describe("portal sign-in under attack", () => {
  it("keeps the victim's browser and phone working after 100 wrong passwords from 10 addresses", async () => {
    const msp = await seed(api).msp();
    const victim = await (await msp.customer()).user();
    const phone = await phoneFor(victim, msp.token);
    const deviceCookie = await signedInBrowser(victim, "198.51.100.1");

    for (let address = 1; address <= 10; address += 1) {
      for (let i = 0; i < 10; i += 1) {
        const { body } = await logIn(victim, `wrong-guess-${address}-${i}`, from(`203.0.113.${address}`));
        expect(["UnauthenticatedError", "RateLimitedError", "AccountLockedError"]).toContain(body.data!.logIn.__typename);
      }
    }
    // A browser nobody knows, even with the right password, is refused: the account is locked for strangers.
    const { body: stranger } = await logIn(victim, PASSWORD, from("192.0.2.77"));
    expect(stranger.data!.logIn).toMatchObject({ __typename: "AccountLockedError", code: "ACCOUNT_LOCKED" });
    // The victim's own browser, from anywhere, is not.
    const { body: own } = await logIn(victim, PASSWORD, from("192.0.2.78", deviceCookie));
    expect(own.data!.logIn.__typename).toBe("AuthPayload");
    // Nor is the phone.
    expect(await qrSignIn(victim.tenantSlug, phone, "192.0.2.79")).toBe("AuthPayload");
  });

  it("keeps users with their device cookie signing in from an address that made 300 wrong guesses", async () => {
    const msp = await seed(api).msp();
    const colleague = await (await msp.customer()).user();
    const office = "198.51.100.200";
    const deviceCookie = await signedInBrowser(colleague, office);
    // Guesses at logins that do not even exist count like any others.
    for (let i = 0; i < 300; i += 1) {
      await logIn({ tenantSlug: colleague.tenantSlug, email: `guess${i % 60}@example.test` }, `wrong-${i}-password`, from(office));
    }
    const { body: unknownBrowser } = await logIn(colleague, PASSWORD, from(office));
    expect(unknownBrowser.data!.logIn.__typename).toBe("RateLimitedError");
    const { body: knownBrowser } = await logIn(colleague, PASSWORD, from(office, deviceCookie));
    expect(knownBrowser.data!.logIn.__typename).toBe("AuthPayload");
  });

  it("treats a login that matches nobody exactly like a real one: locked after as many guesses, with the same answer", async () => {
    const msp = await seed(api).msp();
    const real = await (await msp.customer()).user();
    const ghost = { tenantSlug: real.tenantSlug, email: `nobody-${real.username}@example.test` };
    const answers = async (who: { tenantSlug: string; email: string }, prefix: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        const { body } = await logIn(who, `wrong-${i}`, from(`${prefix}.${i}`));
        seen.push(body.data!.logIn.code);
      }
      return seen;
    };
    const forReal = await answers(real, "203.0.113");
    const forGhost = await answers(ghost, "198.51.100");
    expect(forGhost).toEqual(forReal);
    expect(forReal.slice(0, 10)).toEqual(Array(10).fill("UNAUTHENTICATED"));
    expect(forReal.slice(10)).toEqual(["ACCOUNT_LOCKED", "ACCOUNT_LOCKED"]);
  });

  it("shows admins a locked account, lets them unlock it, and an admin's password reset unlocks it too", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user();
    const lock = async () => {
      for (let i = 0; i < 10; i += 1) await logIn(user, `wrong-${i}`, from(`203.0.113.${100 + i}`));
    };
    await lock();
    await api.jobsSettled();
    const { user: locked } = await api.gql(USER, { id: user.id }, { token: msp.token });
    expect(locked.locked).toBe(true);
    expect(new Date(locked.lockedUntil).getTime()).toBeGreaterThan(new Date(locked.lockedAt).getTime());
    const events = await api.gql(`query($t: ID!) { auditEvents(tenantId: $t, first: 20) { edges { node { action targetId } } } }`, { t: customer.id }, { token: msp.token });
    expect(events.auditEvents.edges.map((e: { node: { action: string } }) => e.node.action)).toContain("user.locked");

    await api.gql(`mutation($id: ID!) { unlockUser(input: { userId: $id }) { __typename } }`, { id: user.id }, { token: msp.token });
    expect((await api.gql(USER, { id: user.id }, { token: msp.token })).user.locked).toBe(false);
    expect((await logIn(user, PASSWORD, from("192.0.2.10"))).body.data!.logIn.__typename).toBe("AuthPayload");

    await lock();
    const reset = "Fresh-Passphrase-Reset-2026";
    const { registrationId } = await registerPassword(api.run(msp.token), { userId: user.id, password: reset });
    const { setUserPassword } = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: registrationId } }, { token: msp.token });
    expect(setUserPassword.__typename).toBe("SetUserPasswordPayload");
    expect((await logIn(user, reset, from("192.0.2.11"))).body.data!.logIn.__typename).toBe("AuthPayload");
  });

  it("lets a customer user's own lock be seen by their admins and nobody else", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const outsider = await seed(api).msp();
    const { user: seen } = await api.gql(USER, { id: user.id }, { token: outsider.token });
    expect(seen).toBeNull();
    const { unlockUser } = await api.gql(`mutation($id: ID!) { unlockUser(input: { userId: $id }) { __typename ... on Error { code } } }`, { id: user.id }, { token: outsider.token });
    expect(unlockUser.code).toBe("NOT_FOUND");
  });
});

describe("a refused proof for an account that exists and for one that does not", () => {
  it("runs the same statements, and answers before anything about the account is written", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const known = await customer.user();
    const unknown = { tenantSlug: known.tenantSlug, email: `nobody-${known.username}@example.test` };
    await api.jobsSettled();
    // No worker runs now: an answer that came back cannot have waited on one.
    await api.app.jobs.pauseWorkers();
    try {
      const attempt = async (who: { tenantSlug: string; email: string }, address: string) => {
        const started = await startPasswordLogIn(api, { tenant: who.tenantSlug, login: who.email, password: PASSWORD }, from(address));
        // A finish message nobody proved: what a guesser without the password can send.
        const forged = Buffer.alloc(64, 7).toString("base64url");
        const start = api.queries.length;
        const { body } = await api.request(FINISH_PASSWORD_LOG_IN, { input: { loginId: started.result.loginId, finish: forged } }, from(address));
        return { answer: body.data!.finishPasswordLogIn, sql: api.requestQueriesSince(start) };
      };
      const forKnown = await attempt(known, "192.0.2.101");
      const forUnknown = await attempt(unknown, "192.0.2.102");
      expect(forKnown.answer).toMatchObject({ __typename: "UnauthenticatedError" });
      expect(forUnknown.answer).toEqual(forKnown.answer);
      expect(forUnknown.sql).toEqual(forKnown.sql);
      // The login state taken, then one job enqueued: no audit event, no lock written by the request itself.
      expect(forKnown.sql.filter((sql) => /"AuditEvent"/.test(sql) || /^UPDATE/.test(sql))).toEqual([]);
      expect(forKnown.sql.filter((sql) => /INSERT INTO \w+\.job/.test(sql))).toHaveLength(1);
    } finally {
      await api.app.jobs.resumeWorkers();
    }
    await api.jobsSettled();
    // The job then writes the known account's trail, and nothing for the other.
    const { auditEvents } = await api.gql(
      `query($t: ID!) { auditEvents(tenantId: $t, first: 20) { edges { node { action targetId } } } }`,
      { t: customer.id },
      { token: msp.token },
    );
    expect(auditEvents.edges.filter((e: { node: { action: string; targetId: string } }) => e.node.action === "session.logInFailed" && e.node.targetId === known.id)).toHaveLength(1);
  });
});

describe("desktop sign-in under attack", () => {
  it("keeps the victim's own workstation and QR login working after wrong passwords from two other workstations", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    await api.gql(
      `mutation($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename } }`,
      { input: { tenantId: customer.id, desktopLoginEnabled: true, method: "PASSWORDLESS", passwordFallback: true } },
      { token: msp.token },
    );
    const station = async () => {
      const { createInstallToken } = await api.gql(
        `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename ... on CreateInstallTokenPayload { installToken } } }`,
        { input: { tenantId: customer.id, autoApprove: true } },
        { token: msp.token },
      );
      const keys = WorkstationKeys.generate();
      const { enrollWorkstation } = await api.gql(
        `mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id } } } }`,
        { input: { installToken: createInstallToken.installToken, hostname: "pc", os: "Windows 11", publicKey: keys.publicKey, keyAgreementKey: keys.keyAgreementKey } },
      );
      keys.workstationId = enrollWorkstation.workstation.id;
      return keys;
    };
    const victim = await customer.user();
    const phone = await phoneFor(victim, msp.token);
    const [own, first, second] = [await station(), await station(), await station()];
    const desktopLogin = (keys: WorkstationKeys, password: string) => desktopPasswordLogin(api, () => keys.credential(), victim.username, password);

    for (let i = 0; i < 10; i += 1) await desktopLogin(i % 2 ? first : second, `wrong-${i}-password`);
    // The guessers are refused even with the right password (backed off, and the account locked for them)...
    expect(["ACCOUNT_LOCKED", "RATE_LIMITED"]).toContain((await desktopLogin(first, PASSWORD)).code);
    await api.jobsSettled();
    expect((await api.gql(USER, { id: victim.id }, { token: msp.token })).user.locked).toBe(true);
    // ...the victim's own workstation is not.
    expect((await desktopLogin(own, PASSWORD)).__typename).toBe("DesktopLoginPayload");

    const { startLoginChallenge: started } = await api.gql(START, { input: { kind: "DESKTOP_LOGIN" } }, { token: await first.credential() });
    expect(started.__typename).toBe("StartLoginChallengePayload");
    await phone.approve(started.qrPayload);
    const { redeemDesktopLogin } = await api.gql(
      `mutation($input: RedeemDesktopLoginInput!) { redeemDesktopLogin(input: $input) { __typename ... on Error { code } } }`,
      { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } },
      { token: await first.credential() },
    );
    expect(redeemDesktopLogin.__typename).toBe("DesktopLoginPayload");
  });
});

describe("changing one's own password", () => {
  it("counts a wrong current password like a wrong sign-in, and audits a refused proof", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user();
    const token = await user.token();
    const change = async (currentPassword: string) => {
      const { registrationId } = await registerPassword(api.run(token), { userId: user.id, password: "A-Much-Better-Passphrase-7" });
      const started = await startPasswordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: currentPassword }, from("203.0.113.250"));
      if (started.result.__typename !== "StartPasswordLogInPayload") return started.result.code!;
      const proof = await answerLogin(started.result, started.state, currentPassword).catch(() => null);
      if (!proof) return "VALIDATION";
      const { setUserPassword } = await api.gql(
        SET_PASSWORD,
        { input: { userId: user.id, passwordRegistrationId: registrationId, currentPasswordLogin: { loginId: proof.loginId, finish: proof.finish } } },
        { token, ...from("203.0.113.250") },
      );
      return setUserPassword.code ?? setUserPassword.__typename;
    };
    const codes: string[] = [];
    for (let i = 0; i < 7; i += 1) codes.push(await change(`guess-${i}`));
    expect(codes.slice(0, 5)).toEqual(Array(5).fill("VALIDATION"));
    expect(codes.slice(5)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    // The right password from that address now waits too: it is a sign-in like any other.
    expect(await change(PASSWORD)).toBe("RATE_LIMITED");

    // A proof that does not prove the password is refused and audited as a failed change.
    const started = await startPasswordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: PASSWORD }, from("198.51.100.250"));
    const { registrationId } = await registerPassword(api.run(token), { userId: user.id, password: "A-Much-Better-Passphrase-7" });
    const { setUserPassword: forged } = await api.gql(
      SET_PASSWORD,
      { input: { userId: user.id, passwordRegistrationId: registrationId, currentPasswordLogin: { loginId: started.result.loginId, finish: Buffer.alloc(64, 9).toString("base64url") } } },
      { token, ...from("198.51.100.250") },
    );
    expect(forged).toMatchObject({ __typename: "ValidationError", fields: [{ path: "currentPasswordLogin" }] });
    await api.jobsSettled();
    const events = await api.gql(`query($t: ID!) { auditEvents(tenantId: $t, first: 50) { edges { node { action targetId } } } }`, { t: customer.id }, { token: msp.token });
    const failures = events.auditEvents.edges.filter((e: { node: { action: string; targetId: string } }) => e.node.action === "user.passwordChangeFailed" && e.node.targetId === user.id);
    expect(failures).toHaveLength(1);
  });

  it("lets a passwordless user set a first password only just after approving a sign-in on their phone", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user({ password: null });
    const phone = await phoneFor(user, msp.token);
    const signInByPhone = async () => {
      const { startLoginChallenge: started } = await api.gql(START, { input: { tenant: customer.slug, kind: "PORTAL_LOGIN" } });
      await phone.approve(started.qrPayload);
      const { redeemChallenge } = await api.gql(
        `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename ... on AuthPayload { token } } }`,
        { id: started.challenge.id, secret: started.redeemSecret },
      );
      return redeemChallenge.token as string;
    };
    const first = "First-Passphrase-Ever-2026";

    const earlier = await signInByPhone();
    clock.advance(6 * 60_000);
    const registered = async (token: string) => (await registerPassword(api.run(token), { userId: user.id, password: first })).registrationId;
    const late = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: await registered(earlier) } }, { token: earlier });
    expect(late.setUserPassword.code, JSON.stringify(late)).toBe("FORBIDDEN");
    expect((await api.db.user.findUniqueOrThrow({ where: { id: user.id } })).opaqueRecord).toBeNull();

    const freshToken = await signInByPhone();
    const fresh = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: await registered(freshToken) } }, { token: freshToken });
    expect(fresh.setUserPassword.__typename).toBe("SetUserPasswordPayload");
  });
});
