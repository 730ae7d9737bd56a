import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPassword } from "@latchkey/passwords";
import { Api, setCookieLine, subscribe } from "./harness.ts";
import { FINISH_PASSWORD_LOG_IN, passwordLogIn, startPasswordLogIn } from "./password-login.ts";
import { PASSWORD, seed } from "./seed.ts";

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(() => api?.stop());

const START_LOG_IN = `mutation($input: StartPasswordLogInInput!) { startPasswordLogIn(input: $input) { __typename ... on Error { code message } } }`;

const VIEWER = `{ viewer { user { id } } }`;

describe("log in", () => {
  it("signs in by email or by username, case-insensitively", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user();
    for (const login of [user.email, user.email.toUpperCase(), user.username, user.username.toUpperCase()]) {
      const { outcome, finish: logIn } = await passwordLogIn(api, { tenant: customer.slug, login, password: PASSWORD });
      expect(outcome, login).toBe("AuthPayload");
      expect(logIn.user.id).toBe(user.id);
      const { viewer } = await api.gql(VIEWER, {}, { token: logIn.token });
      expect(viewer.user.id).toBe(user.id);
    }
  });

  it("logs an unknown login as a keyed hash, never as typed", async () => {
    const msp = await seed(api).msp();
    const typed = "typed-secret-login@example.test";
    // The client's own finish fails for an unknown account; a client that sends one anyway is refused.
    const { result } = await startPasswordLogIn(api, { tenant: msp.slug, login: typed, password: "Typed-Password-In-Login-Box-9" });
    const forged = randomBytes(64).toString("base64url");
    const { body } = await api.request(FINISH_PASSWORD_LOG_IN, { input: { loginId: result.loginId, finish: forged } });
    expect(body.data!.finishPasswordLogIn.code).toBe("UNAUTHENTICATED");
    await api.jobsSettled();
    const line = api.logs.find((entry) => entry.includes("unknown account"));
    expect(line).toBeDefined();
    expect(line).toMatch(/"account":"[0-9a-f]{32}"/);
    expect(api.logs.join("\n")).not.toContain("typed-secret-login");
    expect(api.logs.join("\n")).not.toContain("Typed-Password-In-Login-Box-9");
  });

  it("backs off after repeated failures from one address without locking the account for others", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const attacker = { "x-forwarded-for": "203.0.113.9" };
    void attacker;
    const tenant = user.tenantSlug;
    // A wrong password never gets past the client's own finish: each is a start without one.
    for (let i = 0; i < 5; i += 1) {
      const { outcome } = await passwordLogIn(api, { tenant, login: user.email, password: `wrong-guess-${i}-xyz` });
      expect(outcome).toBe("INCORRECT");
    }
    const throttled = (await startPasswordLogIn(api, { tenant, login: user.email, password: PASSWORD })).result;
    expect(throttled.__typename).toBe("RateLimitedError");
    expect(throttled.code).toBe("RATE_LIMITED");

    // The same account from another client address is not locked out.
    const elsewhere = await Api.start({ TRUSTED_PROXIES: "loopback" });
    try {
      const other = seed(elsewhere);
      const msp2 = await other.msp();
      const victim = await (await msp2.customer()).user();
      const attacker = { headers: { "x-forwarded-for": "203.0.113.9" } };
      for (let i = 0; i < 6; i += 1) {
        await passwordLogIn(elsewhere, { tenant: victim.tenantSlug, login: victim.email, password: `wrong-${i}-guess-abc` }, attacker);
      }
      const blocked = await passwordLogIn(elsewhere, { tenant: victim.tenantSlug, login: victim.email, password: PASSWORD }, attacker);
      expect(blocked.start.__typename).toBe("RateLimitedError");
      const fromHome = await passwordLogIn(elsewhere, { tenant: victim.tenantSlug, login: victim.email, password: PASSWORD }, { headers: { "x-forwarded-for": "198.51.100.7" } });
      expect(fromHome.outcome).toBe("AuthPayload");
    } finally {
      await elsewhere.stop();
    }
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    // Spoofed addresses must not give an attacker a fresh budget per request.
    for (let i = 0; i < 5; i += 1) {
      await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: `nope-${i}-wrong-pw` }, { headers: { "x-forwarded-for": `192.0.2.${i}` } });
    }
    const { start } = await passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password: PASSWORD }, { headers: { "x-forwarded-for": "192.0.2.200" } });
    expect(start.__typename).toBe("RateLimitedError");
  });

  it("refuses a disabled user even with the right password", async () => {
    const msp = await seed(api).msp();
    const customer = await msp.customer();
    const user = await customer.user();
    await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename } }`, { id: user.id }, { token: msp.token });
    const { finish } = await passwordLogIn(api, { tenant: customer.slug, login: user.email, password: PASSWORD });
    expect(finish).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });

  it("refuses an oversized login request before any work on it", async () => {
    const msp = await seed(api).msp();
    const { startPasswordLogIn } = await api.gql(START_LOG_IN, { input: { tenant: msp.slug, login: msp.adminEmail, request: "p".repeat(10_240) } });
    expect(startPasswordLogIn).toMatchObject({ __typename: "ValidationError", code: "VALIDATION" });
  });
});

describe("sessions", () => {
  it("logs out: the token stops working on the next request", async () => {
    const msp = await seed(api).msp();
    const token = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    expect((await api.gql(VIEWER, {}, { token })).viewer).not.toBeNull();
    expect((await api.gql(`mutation { logOut }`, {}, { token })).logOut).toBe(true);
    expect((await api.gql(VIEWER, {}, { token })).viewer).toBeNull();
  });

  it("lists the viewer's sessions and revokes one, or all the others", async () => {
    const msp = await seed(api).msp();
    const second = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const third = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const { sessions } = await api.gql(`{ sessions { id current method } }`, {}, { token: msp.token });
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);

    const { sessions: fromSecond } = await api.gql(`{ sessions { id current } }`, {}, { token: second });
    const secondId = fromSecond.find((s: { current: boolean }) => s.current).id;
    const { revokeSession } = await api.gql(
      `mutation($id: ID!) { revokeSession(id: $id) { __typename ... on RevokeSessionPayload { revokedSessionId } } }`,
      { id: secondId },
      { token: msp.token },
    );
    expect(revokeSession.revokedSessionId).toBe(secondId);
    expect((await api.gql(VIEWER, {}, { token: second })).viewer).toBeNull();

    const { revokeOtherSessions } = await api.gql(
      `mutation { revokeOtherSessions { __typename ... on RevokeOtherSessionsPayload { revokedCount } } }`,
      {},
      { token: msp.token },
    );
    expect(revokeOtherSessions.revokedCount).toBe(1);
    expect((await api.gql(VIEWER, {}, { token: third })).viewer).toBeNull();
    expect((await api.gql(VIEWER, {}, { token: msp.token })).viewer).not.toBeNull();
  });

  it("stores only a hash of each token, and no password in clear", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const token = await user.token();
    const rows = await api.db.session.findMany({ where: { userId: user.id } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(JSON.stringify(row)).not.toContain(token);
      expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    }
    const users = await api.db.user.findMany({ where: { tenant: { OR: [{ id: msp.id }, { parentId: msp.id }] } } });
    for (const row of users) {
      expect(JSON.stringify(row)).not.toContain(PASSWORD);
      // An OPAQUE registration record: no hash of the password, nothing it can be read back from.
      expect(row.opaqueRecord).toMatch(/^[A-Za-z0-9_-]{256}$/);
    }
    const audit = await api.db.auditEvent.findMany({ where: { tenantId: msp.id } });
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
    expect(api.logs.join("\n")).not.toContain(PASSWORD);
    expect(api.logs.join("\n")).not.toContain(token);
  });

  it("delivers the portal's session as an HttpOnly cookie scoped to /graphql and accepts it back", async () => {
    const msp = await seed(api).msp();
    const { response, finish } = await passwordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD, tokenDelivery: "COOKIE" });
    expect(finish.token).toBeNull();
    const setCookie = setCookieLine(response);
    expect(setCookie).toMatch(/^__Secure-latchkey_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\/graphql(;|$)/i);
    const cookie = setCookie.split(";")[0]!;
    const { body: viewer } = await api.request(VIEWER, {}, { headers: { cookie } });
    expect(viewer.data!.viewer).not.toBeNull();
  });

  it("refuses a cookie-authenticated request that could be forged cross-site", async () => {
    const msp = await seed(api).msp();
    const { response } = await passwordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD, tokenDelivery: "COOKIE" });
    const cookie = setCookieLine(response).split(";")[0]!;
    expect(cookie).toMatch(/^__Secure-latchkey_session=/);
    // A form post or an image tag is a "simple" request: no preflight protects it.
    const forged = await fetch(`${api.url}/graphql?query=${encodeURIComponent("{ viewer { user { id } } }")}`, { headers: { cookie } });
    expect(forged.status).toBe(403);
  });

  it("ends the subscriptions of a session when it is revoked", async () => {
    const msp = await seed(api).msp();
    const other = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
    const feed = subscribe(api.ws(other), `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`, { id: msp.id });
    await feed.triggerUntilEvent(() => msp.customer());
    expect(feed.events[0]!.data!.auditEventAdded.action).toBe("customer.created");
    const { sessions } = await api.gql(`{ sessions { id current } }`, {}, { token: msp.token });
    const target = sessions.find((s: { current: boolean }) => !s.current).id;
    await api.gql(`mutation($id: ID!) { revokeSession(id: $id) { __typename } }`, { id: target }, { token: msp.token });
    await feed.waitForCompletion();
    expect(feed.completed).toBe(true);
  });

  it("ends a user's subscriptions when an admin disables them", async () => {
    const msp = await seed(api).msp();
    const colleague = await msp.admin();
    const feed = subscribe(api.ws(await colleague.token()), `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`, { id: msp.id });
    await feed.triggerUntilEvent(() => msp.customer());
    await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename } }`, { id: colleague.id }, { token: msp.token });
    await feed.waitForCompletion();
  });

  it("refuses a subscription without a session, and one to another tenant's feed", async () => {
    const msp = await seed(api).msp();
    const other = await seed(api).msp();
    const anonymous = subscribe(api.ws(), `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`, { id: msp.id });
    await anonymous.waitForCompletion();
    expect(anonymous.events.flatMap((e) => e.data?.auditEventAdded ?? [])).toEqual([]);
    const foreign = subscribe(api.ws(other.token), `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`, { id: msp.id });
    await foreign.waitForCompletion();
    await msp.customer();
    expect(foreign.events.flatMap((e) => e.data?.auditEventAdded ?? [])).toEqual([]);
  });
});

describe("password changes", () => {
  const SET_PASSWORD = `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename
    ... on Error { code message } ... on ValidationError { fields { path } } } }`;

  it("revokes every session of a user whose password an admin sets", async () => {
    const msp = await seed(api).msp();
    const user = await (await msp.customer()).user();
    const token = await user.token();
    const { registrationId } = await registerPassword(api.run(msp.token), { userId: user.id, password: "admin-chosen-passphrase-5" });
    const result = await api.gql(SET_PASSWORD, { input: { userId: user.id, passwordRegistrationId: registrationId } }, { token: msp.token });
    expect(result.setUserPassword.__typename).toBe("SetUserPasswordPayload");
    expect((await api.gql(VIEWER, {}, { token })).viewer).toBeNull();
  });
});

describe("operation limits", () => {
  it("refuses an over-deep query", async () => {
    const msp = await seed(api).msp();
    let selection = "id";
    for (let i = 0; i < 15; i += 1) selection = `parent { ${selection} }`;
    const { body } = await api.request(`{ viewer { tenant { ${selection} } } }`, {}, { token: msp.token });
    expect(body.data).toBeUndefined();
    expect(JSON.stringify(body.errors)).toMatch(/depth/i);
  });

  it("refuses an over-wide query with too many aliases", async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: viewer { user { id } }`).join(" ");
    const { body } = await api.request(`{ ${aliases} }`);
    expect(body.data).toBeUndefined();
    expect(JSON.stringify(body.errors)).toMatch(/alias/i);
  });

  it("refuses a request body over the size limit", async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ viewer { user { id } } }`, variables: { padding: "x".repeat(400_000) } }),
    });
    expect(response.status).toBe(413);
  });
});

describe("WebSocket sessions", () => {
  async function cookieFor(msp: { slug: string; adminEmail: string }) {
    const { response } = await passwordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD, tokenDelivery: "COOKIE" });
    return setCookieLine(response).split(";")[0]!;
  }
  const FEED = `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`;

  it("accepts the session cookie on a WebSocket from the portal's origin", async () => {
    const msp = await seed(api).msp();
    const cookie = await cookieFor(msp);
    const feed = subscribe(api.ws(undefined, { cookie, origin: "http://portal.test" }), FEED, { id: msp.id });
    await feed.triggerUntilEvent(() => msp.customer());
    expect(feed.events[0]!.data!.auditEventAdded.action).toBe("customer.created");
  });

  it("refuses a WebSocket with the session cookie from any other origin", async () => {
    const msp = await seed(api).msp();
    const cookie = await cookieFor(msp);
    const feed = subscribe(api.ws(undefined, { cookie, origin: "http://evil.test" }), FEED, { id: msp.id });
    await feed.waitForCompletion();
    await msp.customer();
    expect(feed.events).toEqual([]);
    expect(String((feed.failure as { message?: string })?.message ?? feed.failure)).toMatch(/403/);
  });

  it("closes a connection that sends an oversized message", async () => {
    const msp = await seed(api).msp();
    const feed = subscribe(api.ws(msp.token), FEED, { id: msp.id, padding: "x".repeat(200_000) });
    await feed.waitForCompletion();
    expect(feed.events).toEqual([]);
    expect(String((feed.failure as { code?: number })?.code ?? feed.failure)).toMatch(/1009|closed|Too big/i);
  });
});
