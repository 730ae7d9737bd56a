// QR approvals end to end: the reference mobile authenticator on one side, a
// real graphql-ws client waiting on the other, the real API between them.
import { Authenticator, AuthenticatorError } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ManualClock, setCookieLine, subscribe } from "./harness.ts";
import { approvePhone, seed, type MspSeed } from "./seed.ts";

let api: Api;
// Codes expire when the test moves this clock, not when the machine gets round to it.
const clock = new ManualClock();
beforeAll(async () => {
  api = await Api.start({}, { clock });
});
afterAll(async () => {
  if (process.env.SHOW_ERRORS) console.log(api.logs.filter((l) => l.includes("unexpected")).join("\n").slice(0, 3000));
  await api?.stop();
});

const START = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id status expiresAt } qrPayload watchToken redeemSecret } ... on Error { code message } } }`;
const WATCH = `subscription($id: ID!, $watchToken: String!) { challengeUpdated(id: $id, watchToken: $watchToken) { id status } }`;
const REDEEM = `mutation($id: ID!, $secret: String!, $delivery: TokenDelivery) { redeemChallenge(id: $id, redeemSecret: $secret, tokenDelivery: $delivery) { __typename
  ... on AuthPayload { token user { id } tenant { id slug } } ... on Error { code message } } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload expiresAt challenge { id status } watchToken } ... on Error { code } } }`;

async function enrolledPhone(server: Api, email: string) {
  const phone = await Authenticator.create({ apiUrl: `${server.url}/graphql` });
  await phone.requestEmailVerification(email);
  await phone.verifyEmail(email, await server.emailedCode(email), "Test phone");
  return phone;
}

/**
 * A phone enrolled and onboarded for `user`, with the admin's token showing the
 * onboarding code. An MSP admin's own phone waits for approval: they approve it.
 */
async function phoneFor(server: Api, adminToken: string, user: { id: string; email: string }) {
  const phone = await enrolledPhone(server, user.email);
  const { startDeviceOnboarding } = await server.gql(ONBOARD, { userId: user.id }, { token: adminToken });
  const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
  if (authenticator.status === "PENDING_APPROVAL") await approvePhone(server, adminToken, authenticator.id);
  return phone;
}

async function startPortalLogin(server: Api, tenant: string) {
  const { startLoginChallenge } = await server.gql(START, { input: { tenant, kind: "PORTAL_LOGIN" } }, { headers: { "user-agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0" } });
  expect(startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
  return startLoginChallenge as { challenge: { id: string; status: string }; qrPayload: string; watchToken: string; redeemSecret: string };
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error, `expected ${code}`).toBeInstanceOf(AuthenticatorError);
  expect((error as AuthenticatorError).code).toBe(code);
}

describe("authenticator enrollment", () => {
  let msp: MspSeed;
  beforeAll(async () => {
    msp = await seed(api).msp();
  });

  it("enrolls by emailed code, then links to its user by the onboarding QR code", async () => {
    const technician = await msp.technician();
    const phone = await enrolledPhone(api, technician.email);
    expect(phone.deviceToken).toBeTruthy();
    const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId: technician.id }, { token: msp.token });
    expect(startDeviceOnboarding.qrPayload).toMatch(/^lk1\./);
    const watcher = subscribe(api.ws(), WATCH, { id: startDeviceOnboarding.challenge.id, watchToken: startDeviceOnboarding.watchToken });
    const onboarded = await phone.onboard(startDeviceOnboarding.qrPayload);
    expect(onboarded.authenticator.name).toBe("Test phone");
    await watcher.waitForCompletion();
    expect(watcher.events.at(-1)!.data!.challengeUpdated.status).toBe("CONSUMED");

    const listed = await phone.list();
    expect(listed.map((a) => a.id)).toEqual([phone.deviceId]);
    const { user } = await api.gql(`query($id: ID!) { user(id: $id) { authenticators { id name } } }`, { id: technician.id }, { token: msp.token });
    expect(user.authenticators).toEqual([{ id: phone.deviceId, name: "Test phone" }]);
    // The user and the tenant's admins are told (by mail sent from a job).
    for (const address of [technician.email, msp.adminEmail]) {
      await api.waitForMail((mail) => mail.includes("New authenticator enrolled") && mail.toLowerCase().includes(`to: ${address.toLowerCase()}`), `about the enrollment to ${address}`);
    }
    // The onboarding code is single-use.
    const second = await enrolledPhone(api, technician.email);
    await expectCode(second.onboard(startDeviceOnboarding.qrPayload), "CONFLICT");
  });

  it("allows at most five tries per code", async () => {
    const technician = await msp.technician();
    const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
    await phone.requestEmailVerification(technician.email);
    const code = await api.emailedCode(technician.email);
    const wrong = code === "00000000" ? "11111111" : "00000000";
    for (let i = 0; i < 5; i += 1) await expectCode(phone.verifyEmail(technician.email, wrong, "Phone"), "UNAUTHENTICATED");
    await expectCode(phone.verifyEmail(technician.email, code, "Phone"), "UNAUTHENTICATED");
    const rows = await api.db.emailVerification.findMany({ where: { emailKey: technician.email.toLowerCase() } });
    expect(JSON.stringify(rows)).not.toContain(code);
  });

  it("refuses to link a phone that verified another address, which cannot even claim the code", async () => {
    const alice = await msp.technician();
    const bob = await msp.technician();
    const phone = await enrolledPhone(api, alice.email);
    const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId: bob.id }, { token: msp.token });
    await expectCode(phone.onboard(startDeviceOnboarding.qrPayload), "NOT_FOUND");
    expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: phone.deviceId! } })).userId).toBeNull();
    expect((await api.db.challenge.findUniqueOrThrow({ where: { id: startDeviceOnboarding.challenge.id } })).status).toBe("PENDING");
  });

  it("lets no phone of another tenant claim an onboarding code, so the user's own phone still can", async () => {
    const user = await msp.technician();
    const stranger = await seed(api).msp();
    const strangerPhone = await phoneFor(api, stranger.token, { id: stranger.adminId, email: stranger.adminEmail });
    const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId: user.id }, { token: msp.token });
    await expectCode(strangerPhone.scan(startDeviceOnboarding.qrPayload), "NOT_FOUND");
    const own = await enrolledPhone(api, user.email);
    const { authenticator } = await own.onboard(startDeviceOnboarding.qrPayload);
    expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: authenticator.id } })).userId).toBe(user.id);
  });

  it("lets an admin revoke a user's phone, and an outsider not", async () => {
    const technician = await msp.technician();
    const phone = await phoneFor(api, msp.token, technician);
    const outsider = await seed(api).msp();
    const REVOKE = `mutation($id: ID!) { revokeAuthenticator(id: $id) { __typename ... on Error { code } } }`;
    const denied = await api.gql(REVOKE, { id: phone.deviceId }, { token: outsider.token });
    expect(denied.revokeAuthenticator).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    const REVOKE_INPUT = `mutation($input: RevokeAuthenticatorInput!) { revokeAuthenticator(input: $input) { __typename ... on Error { code } } }`;
    const deniedInput = await api.gql(REVOKE_INPUT, { input: { id: phone.deviceId } }, { token: outsider.token });
    expect(deniedInput.revokeAuthenticator).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    const revoked = await api.gql(REVOKE, { id: phone.deviceId }, { token: msp.token });
    expect(revoked.revokeAuthenticator.__typename).toBe("RevokeAuthenticatorPayload");
    expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: phone.deviceId! } })).revokedAt).not.toBeNull();
  });

  it("lets a user revoke their phone, after which it can do nothing", async () => {
    const technician = await msp.technician();
    const phone = await phoneFor(api, msp.token, technician);
    const token = phone.deviceToken!;
    await phone.revoke(phone.deviceId!);
    const challenge = await startPortalLogin(api, msp.slug);
    const { scanChallenge } = await api.gql(
      `mutation($qr: String!) { scanChallenge(qrPayload: $qr) { __typename ... on Error { code } } }`,
      { qr: challenge.qrPayload },
      { token },
    );
    expect(scanChallenge).toEqual({ __typename: "UnauthenticatedError", code: "UNAUTHENTICATED" });
  });
});

describe("portal login by QR", () => {
  let msp: MspSeed;
  let phone: Authenticator;
  beforeAll(async () => {
    msp = await seed(api).msp();
    phone = await phoneFor(api, msp.token, { id: msp.adminId, email: msp.adminEmail });
  });

  it("starts nothing but a portal sign-in from a browser, saying so, and writes nothing", async () => {
    const before = await api.db.challenge.count();
    for (const kind of ["DEVICE_ONBOARDING", "BREAK_GLASS_REVEAL", "KEY_OPERATION"]) {
      const { startLoginChallenge } = await api.gql(START, { input: { tenant: msp.slug, kind } });
      expect(startLoginChallenge, kind).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
      expect(startLoginChallenge.message).toMatch(/only a portal sign-in \(PORTAL_LOGIN\)/i);
    }
    expect(await api.db.challenge.count()).toBe(before);
  });

  it("waits on the subscription, sees the approval at once, and redeems it for a session, once", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const watcher = subscribe(api.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
    await watcher.waitForEvents(1);
    expect(watcher.events[0]!.data!.challengeUpdated.status).toBe("PENDING");

    const scan = await phone.scan(started.qrPayload);
    expect(scan).toMatchObject({ tenant: { slug: msp.slug }, requesterKind: "BROWSER", requesterName: "Chrome on Windows", ipMatches: true });
    await phone.approve(started.qrPayload);
    await watcher.waitForCompletion();
    expect(watcher.events.map((e) => e.data!.challengeUpdated.status)).toEqual(["PENDING", "SCANNED", "APPROVED"]);

    const { redeemChallenge } = await api.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(redeemChallenge).toMatchObject({ __typename: "AuthPayload", user: { id: msp.adminId }, tenant: { slug: msp.slug } });
    const { viewer } = await api.gql(`{ viewer { user { id } session { method } } }`, {}, { token: redeemChallenge.token });
    expect(viewer).toEqual({ user: { id: msp.adminId }, session: { method: "QR" } });

    const replay = await api.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(replay.redeemChallenge).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    await expectCode(phone.approve(started.qrPayload), "CONFLICT");
    const { challenge } = await api.gql(`query($id: ID!, $w: String!) { challenge(id: $id, watchToken: $w) { status } }`, { id: started.challenge.id, w: started.watchToken });
    expect(challenge.status).toBe("CONSUMED");
  });

  it("can also be watched over server-sent events", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const controller = new AbortController();
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: WATCH, variables: { id: started.challenge.id, watchToken: started.watchToken } }),
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    let text = "";
    const approved = phone.approve(started.qrPayload);
    while (!text.includes("APPROVED")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await approved;
    controller.abort();
    expect(text).toContain('"status":"PENDING"');
    expect(text).toContain('"status":"APPROVED"');
  });

  it("lets exactly one of several simultaneous redemptions win", async () => {
    const started = await startPortalLogin(api, msp.slug);
    await phone.approve(started.qrPayload);
    const results = await Promise.all(Array.from({ length: 5 }, () => api.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret })));
    expect(results.filter((r) => r.redeemChallenge.__typename === "AuthPayload")).toHaveLength(1);
  });

  it("redeems into an HttpOnly cookie for the portal", async () => {
    const started = await startPortalLogin(api, msp.slug);
    await phone.approve(started.qrPayload);
    const { response, body } = await api.request(REDEEM, { id: started.challenge.id, secret: started.redeemSecret, delivery: "COOKIE" });
    expect(body.data!.redeemChallenge.token).toBeNull();
    expect(setCookieLine(response)).toMatch(/^__Secure-latchkey_session=.*HttpOnly/i);
  });

  it("ends DENIED when the phone denies, and cannot be redeemed", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const watcher = subscribe(api.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
    await phone.deny(started.qrPayload);
    await watcher.waitForCompletion();
    expect(watcher.events.at(-1)!.data!.challengeUpdated.status).toBe("DENIED");
    const { redeemChallenge } = await api.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(redeemChallenge.__typename).toBe("ConflictError");
  });

  it("lets the requester withdraw its code: it expires at once for the waiter and the phone", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const CANCEL = `mutation($id: ID!, $secret: String!) { cancelChallenge(id: $id, redeemSecret: $secret) { __typename
      ... on DecideChallengePayload { challenge { status } } ... on Error { code } } }`;
    const watcher = subscribe(api.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
    await watcher.waitForEvents(1);
    const wrong = await api.gql(CANCEL, { id: started.challenge.id, secret: started.watchToken });
    expect(wrong.cancelChallenge.code).toBe("NOT_FOUND");
    const { cancelChallenge } = await api.gql(CANCEL, { id: started.challenge.id, secret: started.redeemSecret });
    expect(cancelChallenge.challenge.status).toBe("EXPIRED");
    await watcher.waitForCompletion();
    expect(watcher.events.at(-1)!.data!.challengeUpdated.status).toBe("EXPIRED");
    await expectCode(phone.scan(started.qrPayload), "CONFLICT");
    expect((await api.gql(CANCEL, { id: started.challenge.id, secret: started.redeemSecret })).cancelChallenge.code).toBe("CONFLICT");
  });

  it("refuses a wrong watch token or redeem secret as not found", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const { challenge } = await api.gql(`query($id: ID!, $w: String!) { challenge(id: $id, watchToken: $w) { status } }`, { id: started.challenge.id, w: started.redeemSecret });
    expect(challenge).toBeNull();
    await phone.approve(started.qrPayload);
    const { redeemChallenge } = await api.gql(REDEEM, { id: started.challenge.id, secret: started.watchToken });
    expect(redeemChallenge.__typename).toBe("NotFoundError");
  });

  it("refuses a forged signature and leaves the challenge waiting", async () => {
    const started = await startPortalLogin(api, msp.slug);
    await phone.scan(started.qrPayload);
    const forged = await api.gql(
      `mutation($id: ID!, $sig: String!) { approveChallenge(id: $id, signature: $sig) { __typename ... on Error { code } } }`,
      { id: started.challenge.id, sig: Buffer.alloc(64, 7).toString("base64url") },
      { token: phone.deviceToken! },
    );
    expect(forged.approveChallenge).toEqual({ __typename: "ValidationError", code: "VALIDATION" });
    expect((await api.db.challenge.findUniqueOrThrow({ where: { id: started.challenge.id } })).status).toBe("SCANNED");
  });

  it("lets only the phone that scanned decide", async () => {
    const colleague = await msp.admin();
    const other = await phoneFor(api, msp.token, colleague);
    const started = await startPortalLogin(api, msp.slug);
    await phone.scan(started.qrPayload);
    await expectCode(other.approve(started.qrPayload), "CONFLICT");
  });

  it("refuses an authenticator of another tenant as if the code did not exist", async () => {
    const stranger = await seed(api).msp();
    const strangerPhone = await phoneFor(api, stranger.token, { id: stranger.adminId, email: stranger.adminEmail });
    const started = await startPortalLogin(api, msp.slug);
    await expectCode(strangerPhone.scan(started.qrPayload), "NOT_FOUND");
    expect((await api.db.challenge.findUniqueOrThrow({ where: { id: started.challenge.id } })).status).toBe("PENDING");
  });

  it("refuses a QR secret that does not belong to the challenge", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const [prefix, id] = started.qrPayload.split(".");
    await expectCode(phone.scan(`${prefix}.${id}.${Buffer.alloc(32, 1).toString("base64url")}`), "NOT_FOUND");
  });

  it("stores no challenge secret in clear", async () => {
    const started = await startPortalLogin(api, msp.slug);
    const row = JSON.stringify(await api.db.challenge.findUniqueOrThrow({ where: { id: started.challenge.id } }));
    for (const secret of [started.qrPayload.split(".")[2]!, started.watchToken, started.redeemSecret]) expect(row).not.toContain(secret);
  });
});

describe("a technician signing in to a customer by QR", () => {
  it("gets a session of their own working in the customer, only where delegated", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const fabrikam = await msp.customer();
    const technician = await msp.technician();
    await msp.delegate(technician.id, contoso.id);
    const phone = await phoneFor(api, msp.token, technician);

    const started = await startPortalLogin(api, contoso.slug);
    await phone.approve(started.qrPayload);
    const { redeemChallenge } = await api.gql(REDEEM, { id: started.challenge.id, secret: started.redeemSecret });
    expect(redeemChallenge).toMatchObject({ __typename: "AuthPayload", user: { id: technician.id }, tenant: { id: contoso.id } });
    const { viewer, users } = await api.gql(`query($t: ID!) { viewer { user { id } tenant { id } } users(tenantId: $t) { totalCount } }`, { t: contoso.id }, { token: redeemChallenge.token });
    expect(viewer).toEqual({ user: { id: technician.id }, tenant: { id: contoso.id } });
    expect(users).not.toBeNull();

    const elsewhere = await startPortalLogin(api, fabrikam.slug);
    await expectCode(phone.scan(elsewhere.qrPayload), "NOT_FOUND");
  });
});

describe("expiry", () => {
  it("ends EXPIRED after the TTL, seen by the waiter, and refuses a late approval", async () => {
    const msp = await seed(api).msp();
    const phone = await phoneFor(api, msp.token, { id: msp.adminId, email: msp.adminEmail });
    const started = await startPortalLogin(api, msp.slug);
    const watcher = subscribe(api.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
    await watcher.waitForEvents(1);
    clock.advance(91_000);
    // What each waiter's expiry timer does when its moment comes.
    api.app.services.challengeWaiters.wakeAll();
    await watcher.waitForCompletion();
    expect(watcher.events.map((e) => e.data!.challengeUpdated.status)).toEqual(["PENDING", "EXPIRED"]);
    await expectCode(phone.approve(started.qrPayload), "CONFLICT");
  });
});

describe("onboarding one's own phone", () => {
  it("lets a technician show their own onboarding code, but not a colleague's", async () => {
    const msp = await seed(api).msp();
    const technician = await msp.technician();
    const colleague = await msp.technician();
    const token = await technician.token();
    const own = await api.gql(ONBOARD, { userId: technician.id }, { token });
    expect(own.startDeviceOnboarding.qrPayload).toMatch(/^lk1\./);
    const phone = await enrolledPhone(api, technician.email);
    await phone.onboard(own.startDeviceOnboarding.qrPayload);
    const other = await api.gql(ONBOARD, { userId: colleague.id }, { token });
    expect(other.startDeviceOnboarding).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
  });
});

describe("the poll behind pub/sub", () => {
  it("still tells the waiter when a change was never published", async () => {
    const msp = await seed(api).msp();
    const started = await startPortalLogin(api, msp.slug);
    const watcher = subscribe(api.ws(), WATCH, { id: started.challenge.id, watchToken: started.watchToken });
    await watcher.waitForEvents(1);
    // Written behind the API's back: no message is published for this change.
    await api.db.challenge.update({ where: { id: started.challenge.id }, data: { status: "DENIED" } });
    await watcher.waitForCompletion(20_000);
    expect(watcher.events.at(-1)!.data!.challengeUpdated.status).toBe("DENIED");
  }, 30_000);
});
