// Every mutation takes one `input`. The ten that took positional arguments before that
// convention keep them for one release, deprecated (removed after 2027-06-30): each works
// with `input` and with its old arguments, and both forms at once, or neither, is VALIDATION
// with nothing changed. `logOut` gave way to `revokeCurrentSession`, and the subscriptions
// named after a list to ones named for what they push; the old names work until then too.
import { randomUUID } from "node:crypto";
import { Authenticator, challengeSigningBytes, DeviceKey, parseQrPayload } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopSeed, type DesktopSeed } from "./desktop-seed.ts";
import { Api, setCookieLine, subscribe } from "./harness.ts";
import { desktopPasswordLogin } from "./password-login.ts";
import { adminPhone, PASSWORD, seed, type CustomerSeed, type MspSeed } from "./seed.ts";
import { WorkstationKeys } from "./workstation-keys.ts";

let api: Api;
let msp: MspSeed;
let customer: CustomerSeed;
let desktop: DesktopSeed;
let phone: Authenticator;

beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
  customer = await msp.customer();
  desktop = desktopSeed(api, msp, customer);
  phone = await adminPhone(api, msp);
}, 120_000);
afterAll(() => api?.stop());

const VALIDATION = { __typename: "ValidationError", code: "VALIDATION" };
const ERRORS = `... on Error { code message }`;

/** One mutation, sent as `token` with a document of its own: `args` is its argument list, written out. */
async function call(token: string | null, field: string, args: string, variables: Record<string, unknown>, selection = "") {
  const declared = Object.keys(variables).map((name) => `$${name}: ${VARIABLE_TYPES[name]}`);
  const document = `mutation${declared.length ? `(${declared.join(", ")})` : ""} { ${field}${args ? `(${args})` : ""} { __typename ${selection} ${ERRORS} } }`;
  const { response, body } = await api.request(document, variables, { token });
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return { result: body.data![field] as Record<string, any>, response };
}

const VARIABLE_TYPES: Record<string, string> = {
  id: "ID",
  qrPayload: "String",
  signature: "String",
  redeemSecret: "String",
  tokenDelivery: "TokenDelivery",
  scanInput: "ScanChallengeInput",
  approveInput: "ApproveChallengeInput",
  denyInput: "DenyChallengeInput",
  cancelInput: "CancelChallengeInput",
  redeemInput: "RedeemChallengeInput",
  approveWorkstationInput: "ApproveWorkstationInput",
  removeWorkstationInput: "RemoveWorkstationInput",
  revokeInstallTokenInput: "RevokeInstallTokenInput",
  revokeAuthenticatorInput: "RevokeAuthenticatorInput",
  revokeSessionInput: "RevokeSessionInput",
};

/** Each converted mutation's `input` variable and its deprecated positional arguments. */
const CONVERTED = {
  scanChallenge: { input: "scanInput", positional: ["qrPayload"] },
  approveChallenge: { input: "approveInput", positional: ["id", "signature"] },
  denyChallenge: { input: "denyInput", positional: ["id", "signature"] },
  cancelChallenge: { input: "cancelInput", positional: ["id", "redeemSecret"] },
  redeemChallenge: { input: "redeemInput", positional: ["id", "redeemSecret", "tokenDelivery"] },
  approveWorkstation: { input: "approveWorkstationInput", positional: ["id"] },
  removeWorkstation: { input: "removeWorkstationInput", positional: ["id"] },
  revokeInstallToken: { input: "revokeInstallTokenInput", positional: ["id"] },
  revokeAuthenticator: { input: "revokeAuthenticatorInput", positional: ["id"] },
  revokeSession: { input: "revokeSessionInput", positional: ["id"] },
} as const;

type Converted = keyof typeof CONVERTED;
type Form = "input" | "positional" | "both" | "neither";

/**
 * Sends a converted mutation in one form: `input` alone, the positional arguments alone (those
 * `variables` has), both, or neither; each with the variables it uses.
 */
function send(token: string | null, field: Converted, form: Form, variables: Record<string, unknown>, selection = "") {
  const { input, positional }: { input: string; positional: readonly string[] } = CONVERTED[field];
  const old = positional.filter((name) => variables[name] !== undefined);
  const names: string[] = { input: [input], positional: old, both: [input, ...old], neither: [] }[form];
  const args = names.map((name) => `${name === input ? "input" : name}: $${name}`).join(", ");
  // Every converted mutation's result union holds ValidationError.
  return call(token, field, args, Object.fromEntries(names.map((name) => [name, variables[name]])), `${selection} ... on ValidationError { fields { path } }`);
}

/** Both forms at once and neither: VALIDATION each time, naming the arguments given beside `input`, or `input`. */
async function expectBothAndNeitherRefused(token: string | null, field: Converted, variables: Record<string, unknown>) {
  const both = await send(token, field, "both", variables);
  expect(both.result, `${field} with both forms`).toMatchObject(VALIDATION);
  const positional: readonly string[] = CONVERTED[field].positional;
  const besideInput = positional.filter((name) => variables[name] !== undefined);
  expect(both.result.fields.map((problem: { path: string }) => problem.path)).toEqual(besideInput);
  const neither = await send(token, field, "neither", variables);
  expect(neither.result, `${field} with neither form`).toMatchObject({ ...VALIDATION, fields: [{ path: "input" }] });
  return both.response;
}

// ---------------------------------------------------------------------------
// QR challenges
// ---------------------------------------------------------------------------

async function startPortalLogin() {
  const { startLoginChallenge } = await api.gql(
    `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
      ... on StartLoginChallengePayload { challenge { id } qrPayload watchToken redeemSecret } } }`,
    { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } },
  );
  return startLoginChallenge as { challenge: { id: string }; qrPayload: string; watchToken: string; redeemSecret: string };
}

/** The phone's signature over a decision, made here so that the test may send it in either form. */
async function signed(qrPayload: string, decision: "APPROVE" | "DENY") {
  const state = phone.toState();
  const key = await DeviceKey.import(state.algorithm, state.privateKey, state.publicKey);
  const { challengeId, qrSecret } = parseQrPayload(qrPayload);
  return key.sign(challengeSigningBytes({ tenantId: msp.id, challengeId, qrSecret, decision, deviceId: phone.deviceId! }));
}

/** Everything about a challenge that a refused call might have changed. */
async function challengeState(id: string) {
  const challenge = await api.db.challenge.findUniqueOrThrow({ where: { id } });
  const audit = await api.db.auditEvent.count({ where: { tenantId: msp.id } });
  const sessions = await api.db.session.count({ where: { userId: msp.adminId } });
  return { challenge, audit, sessions };
}

describe("QR challenge mutations", () => {
  for (const form of ["input", "positional"] as const) {
    it(`scan, approve and redeem a portal sign-in with ${form === "input" ? "`input`" : "their deprecated positional arguments"}`, async () => {
      const started = await startPortalLogin();
      const id = started.challenge.id;
      const device = phone.deviceToken!;
      const scanned = await send(device, "scanChallenge", form, { scanInput: { qrPayload: started.qrPayload }, qrPayload: started.qrPayload }, `... on ChallengeScan { challenge { id status } }`);
      expect(scanned.result).toEqual({ __typename: "ChallengeScan", challenge: { id, status: "SCANNED" } });

      const signature = await signed(started.qrPayload, "APPROVE");
      const approved = await send(device, "approveChallenge", form, { approveInput: { id, signature }, id, signature }, `... on DecideChallengePayload { challenge { status } }`);
      expect(approved.result).toEqual({ __typename: "DecideChallengePayload", challenge: { status: "APPROVED" } });

      const redeemed = await send(null, "redeemChallenge", form, { redeemInput: { id, redeemSecret: started.redeemSecret }, id, redeemSecret: started.redeemSecret }, `... on AuthPayload { token user { id } }`);
      expect(redeemed.result).toMatchObject({ __typename: "AuthPayload", user: { id: msp.adminId } });
      // BEARER when not asked otherwise, in either form.
      const { viewer } = await api.gql(`{ viewer { user { id } session { method } } }`, {}, { token: redeemed.result.token });
      expect(viewer).toEqual({ user: { id: msp.adminId }, session: { method: "QR" } });
    });

    it(`redeem into the portal's cookie with ${form === "input" ? "`input`" : "the deprecated `tokenDelivery` argument"}`, async () => {
      const started = await startPortalLogin();
      await phone.approve(started.qrPayload);
      const id = started.challenge.id;
      const { result, response } = await send(
        null,
        "redeemChallenge",
        form,
        { redeemInput: { id, redeemSecret: started.redeemSecret, tokenDelivery: "COOKIE" }, id, redeemSecret: started.redeemSecret, tokenDelivery: "COOKIE" },
        `... on AuthPayload { token }`,
      );
      expect(result).toEqual({ __typename: "AuthPayload", token: null });
      expect(setCookieLine(response)).toMatch(/^__Secure-latchkey_session=.+HttpOnly/i);
    });

    it(`deny and cancel with ${form === "input" ? "`input`" : "their deprecated positional arguments"}`, async () => {
      const denied = await startPortalLogin();
      const device = phone.deviceToken!;
      await send(device, "scanChallenge", form, { scanInput: { qrPayload: denied.qrPayload }, qrPayload: denied.qrPayload });
      const id = denied.challenge.id;
      const signature = await signed(denied.qrPayload, "DENY");
      const deny = await send(device, "denyChallenge", form, { denyInput: { id, signature }, id, signature }, `... on DecideChallengePayload { challenge { status } }`);
      expect(deny.result).toEqual({ __typename: "DecideChallengePayload", challenge: { status: "DENIED" } });

      const withdrawn = await startPortalLogin();
      const cancelled = await send(
        null,
        "cancelChallenge",
        form,
        { cancelInput: { id: withdrawn.challenge.id, redeemSecret: withdrawn.redeemSecret }, id: withdrawn.challenge.id, redeemSecret: withdrawn.redeemSecret },
        `... on DecideChallengePayload { challenge { status } }`,
      );
      expect(cancelled.result).toEqual({ __typename: "DecideChallengePayload", challenge: { status: "EXPIRED" } });
    });
  }

  it("refuse both forms at once, and neither, with VALIDATION, at every step, changing nothing", async () => {
    const started = await startPortalLogin();
    const id = started.challenge.id;
    const device = phone.deviceToken!;
    const { redeemSecret, qrPayload } = started;

    let before = await challengeState(id);
    await expectBothAndNeitherRefused(device, "scanChallenge", { scanInput: { qrPayload }, qrPayload });
    expect(await challengeState(id)).toEqual(before);
    expect(before.challenge.status).toBe("PENDING");

    await send(device, "scanChallenge", "input", { scanInput: { qrPayload } });
    before = await challengeState(id);
    const approval = await signed(qrPayload, "APPROVE");
    const denial = await signed(qrPayload, "DENY");
    await expectBothAndNeitherRefused(device, "approveChallenge", { approveInput: { id, signature: approval }, id, signature: approval });
    await expectBothAndNeitherRefused(device, "denyChallenge", { denyInput: { id, signature: denial }, signature: denial });
    await expectBothAndNeitherRefused(null, "cancelChallenge", { cancelInput: { id, redeemSecret }, id, redeemSecret });
    // Old arguments without one the old form required: named, and nothing done.
    const half = await call(device, "approveChallenge", "id: $id", { id }, `... on ValidationError { fields { path } }`);
    expect(half.result).toMatchObject({ ...VALIDATION, fields: [{ path: "signature" }] });
    expect(await challengeState(id)).toEqual(before);
    expect(before.challenge.status).toBe("SCANNED");

    await phone.approve(qrPayload);
    before = await challengeState(id);
    const refused = await expectBothAndNeitherRefused(null, "redeemChallenge", { redeemInput: { id, redeemSecret }, tokenDelivery: "COOKIE" });
    expect(setCookieLine(refused)).toBe("");
    expect(await challengeState(id)).toEqual(before);
    expect(before.challenge.status).toBe("APPROVED");
    // Still redeemable: the refusals spent nothing.
    const { result } = await send(null, "redeemChallenge", "input", { redeemInput: { id, redeemSecret } });
    expect(result.__typename).toBe("AuthPayload");
  });
});

// ---------------------------------------------------------------------------
// Workstations and install tokens
// ---------------------------------------------------------------------------

/** A workstation of the customer waiting for approval. */
async function pendingWorkstation() {
  const token = await desktop.installToken({ autoApprove: false });
  const keys = WorkstationKeys.generate();
  const { enrollWorkstation } = await api.gql(
    `mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id status } } } }`,
    { input: { installToken: token.secret, hostname: "PENDING-01", os: "Windows 11", publicKey: keys.publicKey, keyAgreementKey: keys.keyAgreementKey } },
  );
  expect(enrollWorkstation.workstation.status).toBe("PENDING");
  return enrollWorkstation.workstation.id as string;
}

const workstationRow = (id: string) => api.db.workstation.findUnique({ where: { id } });
const installTokenRow = (id: string) => api.db.installToken.findUniqueOrThrow({ where: { id } });

describe("workstation and install-token mutations", () => {
  for (const form of ["input", "positional"] as const) {
    it(`approveWorkstation, removeWorkstation and revokeInstallToken with ${form === "input" ? "`input`" : "the deprecated `id`"}`, async () => {
      const id = await pendingWorkstation();
      const approved = await send(msp.token, "approveWorkstation", form, { approveWorkstationInput: { id }, id }, `... on WorkstationPayload { workstation { id status } }`);
      expect(approved.result).toEqual({ __typename: "WorkstationPayload", workstation: { id, status: "APPROVED" } });
      const removed = await send(msp.token, "removeWorkstation", form, { removeWorkstationInput: { id }, id }, `... on RemoveWorkstationPayload { workstationId }`);
      expect(removed.result).toEqual({ __typename: "RemoveWorkstationPayload", workstationId: id });
      expect(await workstationRow(id)).toBeNull();

      const token = await desktop.installToken();
      const revoked = await send(msp.token, "revokeInstallToken", form, { revokeInstallTokenInput: { id: token.id }, id: token.id }, `... on InstallTokenPayload { token { status } }`);
      expect(revoked.result).toEqual({ __typename: "InstallTokenPayload", token: { status: "REVOKED" } });
    });
  }

  it("refuse both forms at once, and neither, with VALIDATION, changing nothing", async () => {
    const id = await pendingWorkstation();
    const token = await desktop.installToken();
    const before = { workstation: await workstationRow(id), token: await installTokenRow(token.id) };
    await expectBothAndNeitherRefused(msp.token, "approveWorkstation", { approveWorkstationInput: { id }, id });
    await expectBothAndNeitherRefused(msp.token, "removeWorkstation", { removeWorkstationInput: { id }, id });
    await expectBothAndNeitherRefused(msp.token, "revokeInstallToken", { revokeInstallTokenInput: { id: token.id }, id: token.id });
    expect({ workstation: await workstationRow(id), token: await installTokenRow(token.id) }).toEqual(before);
  });
});

// ---------------------------------------------------------------------------
// Phones and sessions
// ---------------------------------------------------------------------------

/** A phone linked to a technician of the MSP, written straight to the database: only its revocation is tested. */
async function technicianPhone() {
  const technician = await msp.technician();
  const row = await api.db.authenticator.create({
    data: { userId: technician.id, tenantId: msp.id, name: "Technician's phone", algorithm: "P256", publicKey: randomUUID(), tokenHash: randomUUID().replaceAll("-", ""), verifiedEmail: technician.email.toLowerCase() },
  });
  return row.id;
}

/** A new session of the MSP's admin: its token and id. */
async function adminSession() {
  const token = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
  const { viewer } = await api.gql(`{ viewer { session { id } } }`, {}, { token });
  return { token, id: viewer.session.id as string };
}

const signedIn = async (token: string) => (await api.gql(`{ viewer { user { id } } }`, {}, { token })).viewer !== null;

describe("phone and session mutations", () => {
  for (const form of ["input", "positional"] as const) {
    it(`revokeAuthenticator and revokeSession with ${form === "input" ? "`input`" : "the deprecated `id`"}`, async () => {
      const phoneId = await technicianPhone();
      const revoked = await send(msp.token, "revokeAuthenticator", form, { revokeAuthenticatorInput: { id: phoneId }, id: phoneId }, `... on RevokeAuthenticatorPayload { revokedAuthenticatorId }`);
      expect(revoked.result).toEqual({ __typename: "RevokeAuthenticatorPayload", revokedAuthenticatorId: phoneId });
      expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: phoneId } })).revokedAt).not.toBeNull();

      const session = await adminSession();
      const ended = await send(msp.token, "revokeSession", form, { revokeSessionInput: { id: session.id }, id: session.id }, `... on RevokeSessionPayload { revokedSessionId }`);
      expect(ended.result).toEqual({ __typename: "RevokeSessionPayload", revokedSessionId: session.id });
      expect(await signedIn(session.token)).toBe(false);
    });
  }

  it("refuse both forms at once, and neither, with VALIDATION, changing nothing", async () => {
    const phoneId = await technicianPhone();
    const session = await adminSession();
    await expectBothAndNeitherRefused(msp.token, "revokeAuthenticator", { revokeAuthenticatorInput: { id: phoneId }, id: phoneId });
    await expectBothAndNeitherRefused(msp.token, "revokeSession", { revokeSessionInput: { id: session.id }, id: session.id });
    expect((await api.db.authenticator.findUniqueOrThrow({ where: { id: phoneId } })).revokedAt).toBeNull();
    expect(await signedIn(session.token)).toBe(true);
  });

  it("revokeCurrentSession signs out the session it is sent with; signed out, it answers UNAUTHENTICATED and clears the cookie", async () => {
    const session = await adminSession();
    const { result } = await call(session.token, "revokeCurrentSession", "", {}, `... on RevokeCurrentSessionPayload { revokedSessionId }`);
    expect(result).toEqual({ __typename: "RevokeCurrentSessionPayload", revokedSessionId: session.id });
    expect(await signedIn(session.token)).toBe(false);
    expect(await signedIn(msp.token)).toBe(true);

    const again = await call(session.token, "revokeCurrentSession", "", {});
    expect(again.result).toMatchObject({ __typename: "UnauthenticatedError", code: "UNAUTHENTICATED" });
    expect(setCookieLine(again.response)).toMatch(/^__Secure-latchkey_session=;/);
  });

  it("logOut still signs out, deprecated: true, then false once signed out", async () => {
    const session = await adminSession();
    expect((await api.gql(`mutation { logOut }`, {}, { token: session.token })).logOut).toBe(true);
    expect(await signedIn(session.token)).toBe(false);
    expect((await api.gql(`mutation { logOut }`, {}, { token: session.token })).logOut).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Renamed subscriptions
// ---------------------------------------------------------------------------

/** A new API key of the customer with these permissions: its secret. */
async function apiKey(permissions: string[]) {
  const { createApiKey } = await api.gql(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { apiKey } ... on Error { code message } } }`,
    { input: { name: `feed-${randomUUID().slice(0, 8)}`, tenantId: customer.id, permissions } },
    { token: msp.token },
  );
  expect(createApiKey.__typename, JSON.stringify(createApiKey)).toBe("CreateApiKeyPayload");
  return createApiKey.apiKey as string;
}

/** Waits (a bounded while) until `done`. */
async function eventually(done: () => boolean, what: string) {
  for (let waited = 0; !done(); waited += 100) {
    if (waited > 15_000) throw new Error(`never saw ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("subscriptions named for what they push", () => {
  it("loginEventAdded pushes each desktop login, as its old name loginEvents still does, to people and to keys with READ_LOGIN_EVENTS", async () => {
    await desktop.settings({ desktopLoginEnabled: true });
    const keys = await desktop.workstation();
    const user = await customer.user();
    const ADDED = `subscription($tenantId: ID!) { loginEventAdded(tenantId: $tenantId) { id username outcome } }`;
    const OLD = `subscription($tenantId: ID!) { loginEvents(tenantId: $tenantId) { id username outcome } }`;
    const socket = api.ws(msp.token);
    const added = subscribe(socket, ADDED, { tenantId: customer.id });
    const old = subscribe(socket, OLD, { tenantId: customer.id });
    const byKey = subscribe(api.ws(await apiKey(["READ_LOGIN_EVENTS"])), ADDED, { tenantId: customer.id });
    const refused = subscribe(api.ws(await apiKey(["READ_AUDIT", "READ_WORKSTATIONS"])), ADDED, { tenantId: customer.id });
    await refused.waitForCompletion();
    expect(JSON.stringify(refused.failure ?? refused.events)).toMatch(/FORBIDDEN|READ_LOGIN_EVENTS/);

    const logIn = () => desktopPasswordLogin(api, () => keys.credential(), user.username, PASSWORD);
    for (const feed of [added, old, byKey]) await feed.triggerUntilEvent(logIn);
    // All are listening now: one more login reaches each, the same event.
    const { instruction } = (await logIn()) as { instruction: { attemptId: string } };
    const feeds: [typeof added, string][] = [[added, "loginEventAdded"], [old, "loginEvents"], [byKey, "loginEventAdded"]];
    const pushed = ([feed, field]: [typeof added, string]) => feed.events.map((event) => event.data?.[field]);
    await eventually(() => feeds.every((feed) => pushed(feed).some((event) => event?.id === instruction.attemptId)), "the login on every feed");
    const event = { id: instruction.attemptId, username: user.username, outcome: "SUCCEEDED" };
    for (const feed of feeds) expect(pushed(feed)).toContainEqual(event);
  });

  it("workstationCommandAdded pushes each new command to its agent, as its old name workstationCommands still does", async () => {
    const keys = await desktop.workstation();
    const technician = await msp.technician();
    const socket = api.ws(await keys.credential());
    const selection = `{ id kind sessionId }`;
    const added = subscribe(socket, `subscription { workstationCommandAdded ${selection} }`, {});
    const old = subscribe(socket, `subscription { workstationCommands ${selection} }`, {});

    // A technician session open on the workstation, written to the database (how it was approved
    // is not what is tested here); ending it through the API issues the command.
    const endOne = async () => {
      const session = await api.db.technicianSession.create({
        data: {
          tenantId: customer.id, challengeId: randomUUID(), workstationId: keys.workstationId, workstationName: "Front desk", mode: "SIGN_IN",
          accountName: "LatchkeyAdmin", accountKey: "LATCHKEYADMIN", requestedMinutes: 30, status: "STARTED", technicianId: technician.id,
          technicianLabel: "Tech Nician", approvedAt: new Date(), startedAt: new Date(), endsAt: new Date(Date.now() + 30 * 60_000),
        },
      });
      const { endTechnicianSession } = await api.gql(
        `mutation($input: EndTechnicianSessionInput!) { endTechnicianSession(input: $input) { __typename ... on Error { code message } } }`,
        { input: { id: session.id } },
        { token: msp.token },
      );
      expect(endTechnicianSession.__typename, JSON.stringify(endTechnicianSession)).toBe("EndTechnicianSessionPayload");
      return session.id;
    };
    await added.triggerUntilEvent(endOne);
    await old.triggerUntilEvent(endOne);

    const sessionId = await endOne();
    const pushed = (feed: typeof added, field: string) => feed.events.map((event) => event.data?.[field]?.sessionId);
    await eventually(() => pushed(added, "workstationCommandAdded").includes(sessionId) && pushed(old, "workstationCommands").includes(sessionId), "the command on both");
    const command = await api.db.workstationCommand.findFirstOrThrow({ where: { sessionId } });
    const expected = { id: command.id, kind: "END_TECHNICIAN_SESSION", sessionId };
    expect(added.events.map((e) => e.data!.workstationCommandAdded)).toContainEqual(expected);
    expect(old.events.map((e) => e.data!.workstationCommands)).toContainEqual(expected);
  });
});
