// "Sign-in requires phone": a password alone does not open a session for an
// MSP's staff (on from sign-up) or for a customer that opts in. The password
// proves, then a QR code that only the user's own approved phone may approve;
// redeeming it opens the session. Through the real API, the OPAQUE client and
// the reference authenticator.
import { Authenticator, AuthenticatorError } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { passwordLogIn } from "./password-login.ts";
import { approvePhone, PASSWORD, seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";

let api: Api;
let msp: MspSeed;
let customer: CustomerSeed;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp({ signInRequiresPhone: true });
  customer = await msp.customer();
});
afterAll(async () => {
  await api?.stop();
});

const SETTINGS = `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename
  ... on UpdateTenantSettingsPayload { tenant { id signInRequiresPhone } } ... on Error { code message } } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code message } } }`;
const REDEEM = `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename
  ... on AuthPayload { token user { id } } ... on Error { code message } } }`;
const WHO = `query { viewer { user { id } session { method } } }`;

/** A phone that proved `email` and was linked by the onboarding code `token`'s holder showed. */
async function linkedPhone(token: string, user: { id: string; email: string }) {
  const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
  await phone.requestEmailVerification(user.email);
  await phone.verifyEmail(user.email, await api.emailedCode(user.email), "Phone");
  const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId: user.id }, { token });
  expect(startDeviceOnboarding.__typename).toBe("StartDeviceOnboardingPayload");
  const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
  return { phone, authenticatorId: authenticator.id as string, status: authenticator.status as string };
}

async function sessionsOf(userId: string) {
  return api.db.session.count({ where: { userId } });
}

async function setRequiresPhone(token: string, tenantId: string, on: boolean) {
  return (await api.gql(SETTINGS, { input: { tenantId, signInRequiresPhone: on } }, { token })).updateTenantSettings;
}

function logIn(user: { tenantSlug: string; email: string }, password = PASSWORD) {
  return passwordLogIn(api, { tenant: user.tenantSlug, login: user.email, password });
}

const owner = () => ({ id: msp.adminId, email: msp.adminEmail, tenantSlug: msp.slug });

describe("an MSP", () => {
  let ownerPhone: Authenticator;
  let technician: SeededUser;
  let technicianToken: string;

  it("asks for the phone from sign-up on", async () => {
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { signInRequiresPhone } }`, { id: msp.id }, { token: msp.token });
    expect(tenant.signInRequiresPhone).toBe(true);
  });

  it("lets its owner in by password while no admin has a phone that could approve a first one", async () => {
    const attempt = await logIn(owner());
    expect(attempt.outcome).toBe("AuthPayload");
    const { viewer } = await api.gql(WHO, {}, { token: attempt.finish.token });
    expect(viewer.session.method).toBe("PASSWORD");
  });

  it("then hands a QR code for the owner's own phone instead of a session, and opens it once the phone approves", async () => {
    const linked = await linkedPhone(msp.token, owner());
    expect(linked.status).toBe("PENDING_APPROVAL");
    await approvePhone(api, msp.token, linked.authenticatorId);
    ownerPhone = linked.phone;

    const before = await sessionsOf(msp.adminId);
    const attempt = await logIn(owner());
    expect(attempt.outcome).toBe("PhoneApprovalRequiredError");
    expect(attempt.finish).toMatchObject({ code: "PHONE_APPROVAL_REQUIRED", challenge: { status: "PENDING" } });
    expect(attempt.finish.token).toBeUndefined();
    expect(await sessionsOf(msp.adminId)).toBe(before);
    const challenge = await api.db.challenge.findUniqueOrThrow({ where: { id: attempt.finish.challenge.id } });
    expect(challenge).toMatchObject({ kind: "PORTAL_LOGIN", targetUserId: msp.adminId, tenantId: msp.id });
    const proved = await api.db.auditEvent.findFirst({ where: { action: "session.passwordProved", targetId: challenge.id } });
    expect(proved).toMatchObject({ tenantId: msp.id, actorId: msp.adminId });

    // Not yet approved: nothing to redeem.
    const early = await api.gql(REDEEM, { id: challenge.id, secret: attempt.finish.redeemSecret });
    expect(early.redeemChallenge.code).toBe("CONFLICT");

    await ownerPhone.approve(attempt.finish.qrPayload);
    const { redeemChallenge } = await api.gql(REDEEM, { id: challenge.id, secret: attempt.finish.redeemSecret });
    expect(redeemChallenge.__typename).toBe("AuthPayload");
    expect(redeemChallenge.user.id).toBe(msp.adminId);
    const { viewer } = await api.gql(WHO, {}, { token: redeemChallenge.token });
    expect(viewer.session.method).toBe("PASSWORD_AND_PHONE");
    const signedIn = await api.db.auditEvent.findFirst({ where: { action: "session.loggedIn", data: { path: ["challengeId"], equals: challenge.id } } });
    expect(signedIn?.data).toMatchObject({ method: "PASSWORD_AND_PHONE" });
  });

  it("refuses a technician with no approved phone once an admin has one: the password alone opens nothing", async () => {
    technician = await msp.technician();
    const before = await api.db.challenge.count({ where: { targetUserId: technician.id } });
    const attempt = await logIn(technician);
    expect(attempt.outcome).toBe("ForbiddenError");
    expect(attempt.finish.code).toBe("PHONE_REQUIRED");
    expect(await sessionsOf(technician.id)).toBe(0);
    expect(await api.db.challenge.count({ where: { targetUserId: technician.id } })).toBe(before);
  });

  it("lets nobody else's phone approve the code handed to one user, though that phone may sign in there by QR itself", async () => {
    // The owner showed the technician's onboarding code: the phone is approved as it links.
    const linked = await linkedPhone(msp.token, technician);
    expect(linked.status).toBe("ACTIVE");
    const attempt = await logIn(owner());
    expect(attempt.outcome).toBe("PhoneApprovalRequiredError");
    const error = await linked.phone.approve(attempt.finish.qrPayload).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticatorError);
    expect((error as AuthenticatorError).code).toBe("NOT_FOUND");
    const challenge = await api.db.challenge.findUniqueOrThrow({ where: { id: attempt.finish.challenge.id } });
    expect(challenge).toMatchObject({ status: "PENDING", scannedById: null, approvedUserId: null });

    // The technician now has an approved phone: their own password leads to their own phone.
    const own = await logIn(technician);
    expect(own.outcome).toBe("PhoneApprovalRequiredError");
    await linked.phone.approve(own.finish.qrPayload);
    const { redeemChallenge } = await api.gql(REDEEM, { id: own.finish.challenge.id, secret: own.finish.redeemSecret });
    expect(redeemChallenge.user.id).toBe(technician.id);
    technicianToken = redeemChallenge.token;
  });

  it("opens nothing when the phone denies, and nothing for a wrong password", async () => {
    const before = await sessionsOf(msp.adminId);
    const attempt = await logIn(owner());
    await ownerPhone.deny(attempt.finish.qrPayload);
    const { redeemChallenge } = await api.gql(REDEEM, { id: attempt.finish.challenge.id, secret: attempt.finish.redeemSecret });
    expect(redeemChallenge.code).toBe("CONFLICT");

    const challenges = await api.db.challenge.count({ where: { targetUserId: msp.adminId } });
    const wrong = await logIn(owner(), "not the password at all 1");
    expect(wrong.outcome).toBe("INCORRECT");
    expect(await api.db.challenge.count({ where: { targetUserId: msp.adminId } })).toBe(challenges);
    expect(await sessionsOf(msp.adminId)).toBe(before);
  });

  it("may be switched off by its admin, audited, and a technician may not switch it", async () => {
    expect((await setRequiresPhone(technicianToken, msp.id, false)).code).toBe("NOT_FOUND");
    expect((await api.db.tenant.findUniqueOrThrow({ where: { id: msp.id } })).signInRequiresPhone).toBe(true);

    expect(await setRequiresPhone(msp.token, msp.id, false)).toMatchObject({ tenant: { signInRequiresPhone: false } });
    const event = await api.db.auditEvent.findFirst({ where: { tenantId: msp.id, action: "tenant.settingsUpdated" }, orderBy: { createdAt: "desc" } });
    expect(event?.data).toMatchObject({ signInRequiresPhone: false });
    expect((await logIn(owner())).outcome).toBe("AuthPayload");
    expect(await setRequiresPhone(msp.token, msp.id, true)).toMatchObject({ tenant: { signInRequiresPhone: true } });
  });
});

describe("a customer", () => {
  it("signs its users in by password alone until it opts in, then asks for their phone", async () => {
    const user = await customer.user();
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { signInRequiresPhone } }`, { id: customer.id }, { token: msp.token });
    expect(tenant.signInRequiresPhone).toBe(false);
    expect((await logIn(user)).outcome).toBe("AuthPayload");

    // The customer's first phone is approved as it is linked.
    const linked = await linkedPhone(msp.token, user);
    expect(linked.status).toBe("ACTIVE");
    expect(await setRequiresPhone(msp.token, customer.id, true)).toMatchObject({ tenant: { signInRequiresPhone: true } });
    const attempt = await logIn(user);
    expect(attempt.outcome).toBe("PhoneApprovalRequiredError");
    await linked.phone.approve(attempt.finish.qrPayload);
    const { redeemChallenge } = await api.gql(REDEEM, { id: attempt.finish.challenge.id, secret: attempt.finish.redeemSecret });
    expect(redeemChallenge.user.id).toBe(user.id);
  });

  it("is switched off by an admin only: a delegated technician may switch it on, not weaken it", async () => {
    const other = await seed(api).msp();
    const theirs = await other.customer();
    const technician = await other.technician();
    await other.delegate(technician.id, theirs.id);
    const token = await technician.token();
    expect(await setRequiresPhone(token, theirs.id, true)).toMatchObject({ tenant: { signInRequiresPhone: true } });
    expect((await setRequiresPhone(token, theirs.id, false)).code).toBe("FORBIDDEN");
    expect((await api.db.tenant.findUniqueOrThrow({ where: { id: theirs.id } })).signInRequiresPhone).toBe(true);
    expect(await setRequiresPhone(other.token, theirs.id, false)).toMatchObject({ tenant: { signInRequiresPhone: false } });
  });

  it("is switched by another tenant's admin like a tenant that does not exist, and keeps its setting", async () => {
    const other = await seed(api).msp();
    const before = (await api.db.tenant.findUniqueOrThrow({ where: { id: customer.id } })).signInRequiresPhone;
    expect((await setRequiresPhone(other.token, customer.id, !before)).code).toBe("NOT_FOUND");
    expect((await api.db.tenant.findUniqueOrThrow({ where: { id: customer.id } })).signInRequiresPhone).toBe(before);
  });
});
