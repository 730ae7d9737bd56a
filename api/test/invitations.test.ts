// Linking a phone by invitation, without an admin at the user's elbow: the admin
// invites, the email carries a code, the user's authenticator (the reference CLI)
// verifies that address and presents the code. Against the real API.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Api, ManualClock, answerOf } from "./harness.ts";
import { INVITATION_CODE, readable } from "./invitation-mail.ts";
import { seed, type MspSeed } from "./seed.ts";

const bin = fileURLToPath(new URL("../../clients/mobile/bin/authenticator.mjs", import.meta.url));
const run = promisify(execFile);

const clock = new ManualClock();
let api: Api;
let dir: string;
let msp: MspSeed;
beforeAll(async () => {
  api = await Api.start({}, { clock });
  dir = await mkdtemp(join(tmpdir(), "latchkey-invitation-"));
  msp = await seed(api).msp();
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

const INVITE = `mutation($input: InviteUserInput!) { inviteUser(input: $input) { __typename
  ... on InviteUserPayload { user { id } expiresAt } ... on Error { code message } } }`;

/** Runs the authenticator CLI on its own state file; resolves with the exit code and output either way. */
function phone(state: string, args: string[]) {
  return run(process.execPath, [bin, ...args, "--api", `${api.url}/graphql`, "--state", join(dir, state)], { timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** A phone that proved `email` by the emailed code, linked to nobody yet. */
async function enrolledPhone(state: string, email: string) {
  const { requestEmailVerification } = await api.gql(`mutation($e: String!) { requestEmailVerification(input: { email: $e }) { __typename } }`, { e: email });
  expect(requestEmailVerification.__typename).toBe("RequestEmailVerificationPayload");
  const enrolled = await phone(state, ["enroll", "--email", email, "--code", await api.emailedCode(email), "--name", "Jane's phone"]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  expect(enrolled.stdout).toContain("redeem-invitation");
}

/** The code of invitation number `index` (0: the first) emailed to `address`, waited for. */
async function invitationCode(address: string, index = 0) {
  const invitations = async () => (await api.outbox()).map(readable).filter((text) => text.includes(`To: ${address}`) && INVITATION_CODE.test(text));
  const deadline = Date.now() + 20_000;
  while ((await invitations()).length <= index) {
    if (Date.now() > deadline) throw new Error(`no invitation number ${index + 1} to ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return INVITATION_CODE.exec((await invitations())[index]!)![1]!;
}

describe("inviting a user to link their phone", () => {
  it("emails what to install, the organisation and a code, which links the phone that verified that address", async () => {
    const customer = await msp.customer();
    const user = await customer.user({ password: null });
    const { inviteUser } = await api.gql(INVITE, { input: { userId: user.id } }, { token: msp.token });
    expect(inviteUser.__typename).toBe("InviteUserPayload");
    expect(new Date(inviteUser.expiresAt).getTime() - clock.now()).toBe(7 * 24 * 3600_000);

    const mail = readable(await api.waitForMail((text) => text.includes(`To: ${user.email}`) && readable(text).includes("invitation code"), "the invitation"));
    expect(mail).toContain("Install the Latchkey authenticator");
    expect(mail).toContain(`Your organisation is ${customer.slug}`);
    expect(mail).toContain(`/login?tenant=${customer.slug}`);
    const code = await invitationCode(user.email);
    // Only a keyed hash of the code is kept.
    const rows = await api.db.invitation.findMany({ where: { userId: user.id } });
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(JSON.stringify(rows)).not.toContain(code.replace(/-/g, ""));

    await enrolledPhone("jane.json", user.email);
    // Typed as people type: lower case, spaces instead of hyphens.
    const linked = await phone("jane.json", ["redeem-invitation", code.toLowerCase().replace(/-/g, " ")]);
    expect(linked.code, linked.stderr).toBe(0);
    expect(linked.stdout).toContain(`Linked: this device now approves sign-ins for ${user.email} in Customer ${customer.name} (${customer.slug})`);
    const listed = await phone("jane.json", ["list"]);
    expect(listed.stdout).toContain("Jane's phone");

    // The user and the tenant's admins hear of it; the audit log says how it came.
    await api.waitForMail((text) => text.includes(`To: ${user.email}`) && text.includes("New authenticator enrolled"), "the link's announcement");
    const enrolled = await api.db.auditEvent.findFirst({ where: { tenantId: customer.id, action: "authenticator.enrolled" } });
    expect(enrolled?.data).toMatchObject({ userId: user.id, via: "invitation" });
    expect(await api.db.auditEvent.count({ where: { tenantId: customer.id, action: "user.invited", targetId: user.id } })).toBe(1);

    // Used once: the same code links no other phone.
    await enrolledPhone("jane-2.json", user.email);
    const again = await phone("jane-2.json", ["redeem-invitation", code]);
    expect(again.stderr).toMatch(/^error: NOT_FOUND: /m);
  });

  it("lets a first-time user who scans a relayed sign-in code sign nobody in, before or after linking their phone", async () => {
    const customer = await msp.customer();
    const user = await customer.user({ password: null });
    await api.gql(INVITE, { input: { userId: user.id } }, { token: msp.token });
    // Someone else's browser asks to sign in to the customer, and sends the code to the new user.
    const { startLoginChallenge: relayed } = await api.gql(
      `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
        ... on StartLoginChallengePayload { challenge { id } qrPayload watchToken redeemSecret } } }`,
      { input: { tenant: customer.slug, kind: "PORTAL_LOGIN" } },
    );
    await enrolledPhone("relayed.json", user.email);
    // Not linked yet: the code is as good as one that does not exist, and it stays untouched.
    for (const command of ["scan", "approve"]) {
      const refused = await phone("relayed.json", [command, relayed.qrPayload]);
      expect(refused.stderr, command).toMatch(/^error: NOT_FOUND: /m);
    }
    const linked = await phone("relayed.json", ["redeem-invitation", await invitationCode(user.email)]);
    expect(linked.code, linked.stderr).toBe(0);
    // Linking is by the invitation code alone: it approved nothing the phone had scanned.
    const status = async () =>
      (await api.gql(`query($id: ID!, $w: String!) { challenge(id: $id, watchToken: $w) { status } }`, { id: relayed.challenge.id, w: relayed.watchToken })).challenge.status;
    expect(await status()).toBe("PENDING");
    const { redeemChallenge } = await api.gql(
      `mutation($id: ID!, $secret: String!) { redeemChallenge(id: $id, redeemSecret: $secret) { __typename ... on Error { code } } }`,
      { id: relayed.challenge.id, secret: relayed.redeemSecret },
    );
    expect(redeemChallenge).toEqual({ __typename: "ConflictError", code: "CONFLICT" });
    expect(await api.db.session.count({ where: { userId: user.id } })).toBe(0);
  });

  it("answers a phone whose address has no invitation plainly, and spends an invitation on wrong codes", async () => {
    const customer = await msp.customer();
    const user = await customer.user({ password: null });
    await enrolledPhone("stranger.json", user.email);
    const none = await phone("stranger.json", ["redeem-invitation", "AAAA-BBBB-CCCC"]);
    expect(none.stderr).toContain(`error: NOT_FOUND: No invitation waits for ${user.email}: ask your admin`);

    await api.gql(INVITE, { input: { userId: user.id } }, { token: msp.token });
    const code = await invitationCode(user.email);
    for (let i = 0; i < 5; i += 1) {
      const wrong = await phone("stranger.json", ["redeem-invitation", `WRNG-000${i}-ABCD`]);
      expect(wrong.stderr).toMatch(/^error: VALIDATION: This invitation code is not right/m);
    }
    // Five wrong codes: even the right one no longer works; a new invitation does.
    expect((await phone("stranger.json", ["redeem-invitation", code])).stderr).toMatch(/^error: NOT_FOUND: /m);
    await api.gql(INVITE, { input: { userId: user.id } }, { token: msp.token });
    const fresh = await invitationCode(user.email, 1);
    expect(fresh).not.toBe(code);
    expect((await phone("stranger.json", ["redeem-invitation", fresh])).code).toBe(0);
  });

  it("a new invitation voids the old one, and none works after seven days", async () => {
    const customer = await msp.customer();
    const user = await customer.user({ password: null });
    await api.gql(INVITE, { input: { userId: user.id } }, { token: msp.token });
    const first = await invitationCode(user.email);
    await api.gql(INVITE, { input: { userId: user.id } }, { token: msp.token });
    const second = await invitationCode(user.email, 1);
    await enrolledPhone(`${user.username}.json`, user.email);
    expect((await phone(`${user.username}.json`, ["redeem-invitation", first])).stderr).toMatch(/^error: VALIDATION: /m);

    clock.advance(7 * 24 * 3600_000 + 1_000);
    try {
      expect((await phone(`${user.username}.json`, ["redeem-invitation", second])).stderr).toMatch(/^error: NOT_FOUND: /m);
    } finally {
      clock.advance(-(7 * 24 * 3600_000 + 1_000));
    }
  });

  it("another tenant's admin gets NOT_FOUND inviting a user, exactly as for an id that does not exist, and nothing is sent", async () => {
    const customer = await msp.customer();
    const user = await customer.user();
    const other = await seed(api).msp();
    const mailsBefore = (await api.outbox()).length;
    const real = await api.request(INVITE, { input: { userId: user.id } }, { token: other.token });
    const missing = await api.request(INVITE, { input: { userId: randomUUID() } }, { token: other.token });
    expect(answerOf(real.body)).toEqual(answerOf(missing.body));
    expect(real.body.data?.inviteUser).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    // A customer's own user cannot invite either.
    const { inviteUser } = await api.gql(INVITE, { input: { userId: user.id } }, { token: await (await customer.user()).token() });
    expect(inviteUser.code).toBe("NOT_FOUND");
    await api.jobsSettled();
    expect((await api.outbox()).length).toBe(mailsBefore);
    expect(await api.db.invitation.count({ where: { userId: user.id } })).toBe(0);
  });
});
