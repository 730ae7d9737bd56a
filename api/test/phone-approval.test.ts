// A new phone needs approval before it can approve anything: a second phone,
// any phone of an MSP user and any link through a personal email wait for an
// existing phone of the user or an admin, unless an admin showed the user's
// onboarding code. Through the reference authenticator (library and CLI)
// against the real API.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Authenticator, AuthenticatorError, readStateFile } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ManualClock, answerOf } from "./harness.ts";
import { INVITATION_CODE, readable } from "./invitation-mail.ts";
import { seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";

const bin = fileURLToPath(new URL("../../clients/mobile/bin/authenticator.mjs", import.meta.url));
const run = promisify(execFile);

const clock = new ManualClock();
let api: Api;
let dir: string;
let msp: MspSeed;
let customer: CustomerSeed;
beforeAll(async () => {
  api = await Api.start({}, { clock });
  dir = await mkdtemp(join(tmpdir(), "latchkey-phone-approval-"));
  msp = await seed(api).msp();
  customer = await msp.customer();
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

const WAITING = "This phone is waiting for approval by your admin or your other phone";

const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code message } } }`;
const INVITE = `mutation($userId: ID!) { inviteUser(input: { userId: $userId }) { __typename ... on Error { code message } } }`;
const APPROVE = `mutation($input: ApproveAuthenticatorInput!) { approveAuthenticator(input: $input) { __typename
  ... on ApproveAuthenticatorPayload { authenticator { id status approvedAt viewerCanApprove } } ... on Error { code message } } }`;
const PHONES = `query($id: ID!) { user(id: $id) { authenticators { id status viewerCanApprove } } }`;
const START = `mutation($tenant: String!) { startLoginChallenge(input: { tenant: $tenant, kind: PORTAL_LOGIN }) { __typename
  ... on StartLoginChallengePayload { challenge { id } qrPayload redeemSecret } ... on Error { code message } } }`;
const REDEEM = `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename
  ... on AuthPayload { token } ... on Error { code message } } }`;

/** A phone that proved `email` by the emailed code, linked to nobody yet. */
async function enrolledPhone(email: string, name = "Phone") {
  const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
  await phone.requestEmailVerification(email);
  await phone.verifyEmail(email, await api.emailedCode(email), name);
  return phone;
}

/** Links `phone` by the onboarding code that the holder of `token` shows for `userId`. */
async function onboardBy(token: string, userId: string, phone: Authenticator) {
  const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId }, { token });
  expect(startDeviceOnboarding.__typename).toBe("StartDeviceOnboardingPayload");
  return (await phone.onboard(startDeviceOnboarding.qrPayload)).authenticator;
}

/** Invites `user` (as the MSP's admin) and returns the code their email carries. */
async function invitationCode(user: { id: string; email: string }) {
  const invitations = async () => (await api.outbox()).map(readable).filter((text) => text.includes(`To: ${user.email}`) && INVITATION_CODE.test(text));
  const before = (await invitations()).length;
  const { inviteUser } = await api.gql(INVITE, { userId: user.id }, { token: msp.token });
  expect(inviteUser.__typename).toBe("InviteUserPayload");
  const deadline = Date.now() + 20_000;
  while ((await invitations()).length <= before) {
    if (Date.now() > deadline) throw new Error(`no invitation to ${user.email}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return INVITATION_CODE.exec((await invitations()).at(-1)!)![1]!;
}

/** A portal session opened by approving a QR sign-in on `phone`. */
async function signInWithPhone(tenant: string, phone: Authenticator) {
  const { startLoginChallenge } = await api.gql(START, { tenant });
  await phone.approve(startLoginChallenge.qrPayload);
  const { redeemChallenge } = await api.gql(REDEEM, { id: startLoginChallenge.challenge.id, secret: startLoginChallenge.redeemSecret });
  expect(redeemChallenge.__typename).toBe("AuthPayload");
  return redeemChallenge.token as string;
}

async function approve(token: string, id: string) {
  return (await api.gql(APPROVE, { input: { id } }, { token })).approveAuthenticator;
}

async function status(id: string) {
  const row = await api.db.authenticator.findUniqueOrThrow({ where: { id } });
  return { approvedAt: row.approvedAt, approvedById: row.approvedById, revokedAt: row.revokedAt };
}

async function expectCode(promise: Promise<unknown>, code: string, message?: string) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error, `expected ${code}`).toBeInstanceOf(AuthenticatorError);
  expect((error as AuthenticatorError).code).toBe(code);
  if (message) expect((error as AuthenticatorError).message).toBe(message);
}

/** Runs the authenticator CLI on its own state file; resolves with the exit code and output either way. */
function cli(state: string, args: string[]) {
  return run(process.execPath, [bin, ...args, "--api", `${api.url}/graphql`, "--state", join(dir, state)], { timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** A customer user whose first phone, linked by the admin's onboarding code, approves sign-ins. */
async function userWithPhone(): Promise<{ user: SeededUser; first: Authenticator }> {
  const user = await customer.user();
  const first = await enrolledPhone(user.email, "First phone");
  expect((await onboardBy(msp.token, user.id, first)).status).toBe("ACTIVE");
  return { user, first };
}

describe("which links wait for approval", () => {
  it("a customer user's first phone, by their own invitation to their company email, approves at once", async () => {
    const user = await customer.user({ password: null });
    const phone = await enrolledPhone(user.email);
    const { authenticator } = await phone.redeemInvitation(await invitationCode(user));
    expect(authenticator.status).toBe("ACTIVE");
    expect(await status(authenticator.id)).toMatchObject({ approvedById: user.id });
    expect(await api.db.auditEvent.findFirst({ where: { action: "authenticator.enrolled", targetId: authenticator.id } })).toMatchObject({
      data: { via: "invitation", waitsForApproval: false },
    });
  });

  it("a second phone waits for the first one's approval, and the announcement says who can approve it", async () => {
    const { user } = await userWithPhone();
    const second = await enrolledPhone(user.email, "Second phone");
    // The user's own onboarding code, from their password session: no admin was there.
    const linked = await onboardBy(await user.token(), user.id, second);
    expect(linked.status).toBe("PENDING_APPROVAL");
    expect((await status(linked.id)).approvedAt).toBeNull();
    const mail = readable(
      await api.waitForMail((text) => text.includes(`To: ${user.email}`) && text.includes("waiting for approval") && readable(text).includes('"Second phone"'), "the waiting link's announcement"),
    );
    expect(mail).toContain("It waits for approval and approves no sign-in until then.");
    expect(mail).toContain("within five minutes of signing in there with their other phone");
    expect(await api.db.auditEvent.findFirst({ where: { action: "authenticator.enrolled", targetId: linked.id } })).toMatchObject({ data: { waitsForApproval: true } });
  });

  it("an MSP user's phone linked by invitation waits, and the authenticator says so", async () => {
    const technician = await msp.technician();
    const code = await invitationCode(technician);
    await api.gql(`mutation($e: String!) { requestEmailVerification(input: { email: $e }) { __typename } }`, { e: technician.email });
    const enrolled = await cli("technician.json", ["enroll", "--email", technician.email, "--code", await api.emailedCode(technician.email), "--name", "Tech phone"]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const linked = await cli("technician.json", ["redeem-invitation", code]);
    expect(linked.code, linked.stderr).toBe(0);
    expect(linked.stdout).toContain(`Linked: this device is linked for ${technician.email} in MSP ${msp.slug} (${msp.slug}), and waits for approval before it approves any sign-in`);
    expect((await cli("technician.json", ["list"])).stdout).toContain("waiting for approval");

    // Until approved, the phone's scan and approve end with the API's typed error.
    const { startLoginChallenge } = await api.gql(START, { tenant: msp.slug });
    for (const command of ["scan", "approve"]) {
      const refused = await cli("technician.json", [command, startLoginChallenge.qrPayload]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(`error: FORBIDDEN: ${WAITING}`);
    }
    const state = await readStateFile(join(dir, "technician.json"));
    expect((await status(state.deviceId!)).approvedAt).toBeNull();
  });

  it("a phone that proved the user's personal email waits, even as their first", async () => {
    const user = await customer.user();
    const personal = `${user.username}@home.test`;
    const updated = await api.gql(`mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }`, { input: { userId: user.id, personalEmail: personal } }, { token: msp.token });
    expect(updated.updateUser.__typename).toBe("UpdateUserPayload");
    const phone = await enrolledPhone(personal);
    const { authenticator } = await phone.redeemInvitation(await invitationCode(user));
    expect(authenticator.status).toBe("PENDING_APPROVAL");
  });

  it("an onboarding code an admin showed links an active phone, approved by that admin, whatever the case", async () => {
    const technician = await msp.technician();
    const phone = await enrolledPhone(technician.email);
    const linked = await onboardBy(msp.token, technician.id, phone);
    expect(linked.status).toBe("ACTIVE");
    expect(await status(linked.id)).toMatchObject({ approvedById: msp.adminId });
    // A second phone too, when the admin shows the code.
    const second = await enrolledPhone(technician.email);
    expect((await onboardBy(msp.token, technician.id, second)).status).toBe("ACTIVE");
    // The technician's own code, shown in their own session, is no admin's.
    const third = await enrolledPhone(technician.email);
    expect((await onboardBy(await technician.token(), technician.id, third)).status).toBe("PENDING_APPROVAL");
  });

  it("a waiting phone linked again by an admin's onboarding code is approved by that admin", async () => {
    const technician = await msp.technician();
    const phone = await enrolledPhone(technician.email);
    expect((await phone.redeemInvitation(await invitationCode(technician))).authenticator.status).toBe("PENDING_APPROVAL");
    expect((await onboardBy(msp.token, technician.id, phone)).status).toBe("ACTIVE");
    expect(await status(phone.deviceId!)).toMatchObject({ approvedById: msp.adminId });
  });
});

describe("a phone waiting for approval", () => {
  it("cannot scan, approve or deny a portal sign-in, and nothing changes", async () => {
    const { user } = await userWithPhone();
    const waiting = await enrolledPhone(user.email, "Waiting phone");
    await onboardBy(await user.token(), user.id, waiting);
    const { startLoginChallenge } = await api.gql(START, { tenant: customer.slug });
    const before = await api.db.challenge.findUniqueOrThrow({ where: { id: startLoginChallenge.challenge.id } });
    const audit = await api.db.auditEvent.count({ where: { tenantId: customer.id } });

    await expectCode(waiting.scan(startLoginChallenge.qrPayload), "FORBIDDEN", WAITING);
    await expectCode(waiting.approve(startLoginChallenge.qrPayload), "FORBIDDEN", WAITING);
    await expectCode(waiting.deny(startLoginChallenge.qrPayload), "FORBIDDEN", WAITING);
    // Straight at the decision, naming the challenge: the same answer.
    const { approveChallenge } = await api.gql(
      `mutation($id: ID!) { approveChallenge(id: $id, signature: "AAAA") { __typename ... on Error { code message } } }`,
      { id: startLoginChallenge.challenge.id },
      { token: waiting.deviceToken },
    );
    expect(approveChallenge).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: WAITING });

    const after = await api.db.challenge.findUniqueOrThrow({ where: { id: startLoginChallenge.challenge.id } });
    expect(after).toEqual(before);
    expect(after.status).toBe("PENDING");
    expect(await api.db.auditEvent.count({ where: { tenantId: customer.id } })).toBe(audit);
    const { redeemChallenge } = await api.gql(REDEEM, { id: startLoginChallenge.challenge.id, secret: startLoginChallenge.redeemSecret });
    expect(redeemChallenge.code).toBe("CONFLICT");
  });
});

describe("approving a waiting phone", () => {
  it("an admin who manages the user approves it: it is announced, audited, and then approves sign-ins", async () => {
    const { user } = await userWithPhone();
    const second = await enrolledPhone(user.email, "Second phone");
    const linked = await onboardBy(await user.token(), user.id, second);
    const { user: listed } = await api.gql(PHONES, { id: user.id }, { token: msp.token });
    expect(listed.authenticators.find((phone: { id: string }) => phone.id === linked.id)).toEqual({ id: linked.id, status: "PENDING_APPROVAL", viewerCanApprove: true });

    const approved = await approve(msp.token, linked.id);
    expect(approved).toMatchObject({ __typename: "ApproveAuthenticatorPayload", authenticator: { id: linked.id, status: "ACTIVE", viewerCanApprove: false } });
    expect(await status(linked.id)).toMatchObject({ approvedById: msp.adminId });
    expect(await api.db.auditEvent.findFirst({ where: { action: "authenticator.approved", targetId: linked.id } })).toMatchObject({
      tenantId: customer.id,
      actorId: msp.adminId,
      data: { userId: user.id, name: "Second phone" },
    });
    await api.waitForMail((text) => text.includes(`To: ${user.email}`) && text.includes("Your new authenticator was approved"), "the approval's announcement");

    expect(await approve(msp.token, linked.id)).toMatchObject({ __typename: "ConflictError", code: "CONFLICT", message: "This phone is already approved" });
    await signInWithPhone(customer.slug, second);
  });

  it("the user approves it in a session their other phone approved in the last five minutes, not with a password or later", async () => {
    const { user, first } = await userWithPhone();
    const second = await enrolledPhone(user.email, "Second phone");
    const linked = await onboardBy(await user.token(), user.id, second);

    const refusal = "To approve this phone, sign in with your other phone and approve it within five minutes, or ask your admin";
    expect(await approve(await user.token(), linked.id)).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: refusal });
    const stale = await signInWithPhone(customer.slug, first);
    clock.advance(5 * 60_000 + 1_000);
    try {
      const { user: seen } = await api.gql(PHONES, { id: user.id }, { token: stale });
      expect(seen.authenticators.find((phone: { id: string }) => phone.id === linked.id)).toMatchObject({ status: "PENDING_APPROVAL", viewerCanApprove: false });
      expect(await approve(stale, linked.id)).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: refusal });
    } finally {
      clock.advance(-(5 * 60_000 + 1_000));
    }
    expect((await status(linked.id)).approvedAt).toBeNull();

    const fresh = await signInWithPhone(customer.slug, first);
    const { user: seen } = await api.gql(PHONES, { id: user.id }, { token: fresh });
    expect(seen.authenticators.find((phone: { id: string }) => phone.id === linked.id)).toMatchObject({ viewerCanApprove: true });
    expect(await approve(fresh, linked.id)).toMatchObject({ __typename: "ApproveAuthenticatorPayload", authenticator: { status: "ACTIVE" } });
    expect(await status(linked.id)).toMatchObject({ approvedById: user.id });
    await signInWithPhone(customer.slug, second);
  });

  it("an admin without another approved phone approves their own, and with one needs it", async () => {
    const owner = await seed(api).msp();
    const phone = await enrolledPhone(owner.adminEmail, "Owner's phone");
    const linked = await onboardBy(owner.token, owner.adminId, phone);
    expect(linked.status).toBe("PENDING_APPROVAL");
    expect(await approve(owner.token, linked.id)).toMatchObject({ __typename: "ApproveAuthenticatorPayload", authenticator: { status: "ACTIVE" } });
    expect(await status(linked.id)).toMatchObject({ approvedById: owner.adminId });

    const spare = await enrolledPhone(owner.adminEmail, "Owner's spare");
    const second = await onboardBy(owner.token, owner.adminId, spare);
    expect(second.status).toBe("PENDING_APPROVAL");
    expect(await approve(owner.token, second.id)).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(await approve(await signInWithPhone(owner.slug, phone), second.id)).toMatchObject({ __typename: "ApproveAuthenticatorPayload" });
  });

  it("another tenant's admin, or a user who manages nobody, gets NOT_FOUND exactly as for a missing id", async () => {
    const { user } = await userWithPhone();
    const waiting = await enrolledPhone(user.email);
    const linked = await onboardBy(await user.token(), user.id, waiting);
    const other = await seed(api).msp();
    const real = await api.request(APPROVE, { input: { id: linked.id } }, { token: other.token });
    const missing = await api.request(APPROVE, { input: { id: randomUUID() } }, { token: other.token });
    expect(answerOf(real.body)).toEqual(answerOf(missing.body));
    expect(real.body.data?.approveAuthenticator).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    const colleague = await (await customer.user()).token();
    expect(await approve(colleague, linked.id)).toEqual(await approve(colleague, randomUUID()));
    expect(await approve(colleague, linked.id)).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect((await status(linked.id)).approvedAt).toBeNull();
  });

  it("a revoked phone cannot be approved", async () => {
    const { user } = await userWithPhone();
    const waiting = await enrolledPhone(user.email);
    const linked = await onboardBy(await user.token(), user.id, waiting);
    const revoked = await api.gql(`mutation($id: ID!) { revokeAuthenticator(id: $id) { __typename } }`, { id: linked.id }, { token: msp.token });
    expect(revoked.revokeAuthenticator.__typename).toBe("RevokeAuthenticatorPayload");
    expect(await approve(msp.token, linked.id)).toEqual({ __typename: "ConflictError", code: "CONFLICT", message: "This phone was revoked; it cannot be approved" });
    expect((await status(linked.id)).approvedAt).toBeNull();
  });
});
