// Workstations and desktop login through the public API, with a workstation's
// keys held the way the protocol describes: install tokens, enrollment and
// approval, the signed credential, password and QR login with the sealed
// account instruction, login events live and as history, and tenant isolation
// for every id-taking operation.
import { Authenticator } from "@latchkey/mobile";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPassword } from "@latchkey/passwords";
import { Api, subscribe } from "./harness.ts";
import { desktopPasswordLogin, sweepUnfinishedLogins } from "./password-login.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed } from "./seed.ts";
import { WorkstationKeys, type Instruction } from "./workstation-keys.ts";

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(async () => {
  await api?.stop();
});

const CREATE_TOKEN = `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename
  ... on CreateInstallTokenPayload { installToken token { id prefix status maxUses uses autoApprove } } ... on Error { code message } } }`;
const ENROLL = `mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename
  ... on WorkstationPayload { workstation { id name status hostname os } } ... on Error { code message } ... on ValidationError { fields { path } } } }`;
const APPROVE = `mutation($id: ID!) { approveWorkstation(id: $id) { __typename ... on WorkstationPayload { workstation { id status } } ... on Error { code message } } }`;
const RENAME = `mutation($input: RenameWorkstationInput!) { renameWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id name } } ... on Error { code } } }`;
const REMOVE = `mutation($id: ID!) { removeWorkstation(id: $id) { __typename ... on RemoveWorkstationPayload { workstationId } ... on Error { code } } }`;
const REVOKE_TOKEN = `mutation($id: ID!) { revokeInstallToken(id: $id) { __typename ... on InstallTokenPayload { token { status } } ... on Error { code } } }`;
// The same three in their `input` form; the positional `id` above stays until 2027-06-30.
const APPROVE_INPUT = `mutation($input: ApproveWorkstationInput!) { approveWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id status } } ... on Error { code message } } }`;
const REMOVE_INPUT = `mutation($input: RemoveWorkstationInput!) { removeWorkstation(input: $input) { __typename ... on RemoveWorkstationPayload { workstationId } ... on Error { code } } }`;
const REVOKE_TOKEN_INPUT = `mutation($input: RevokeInstallTokenInput!) { revokeInstallToken(input: $input) { __typename ... on InstallTokenPayload { token { status } } ... on Error { code } } }`;
const SETTINGS = `mutation($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename ... on Error { code message } } }`;
const CONFIG = `{ desktopConfig { workstation { id name status } tenant { id slug displayName } desktopLoginEnabled method passwordFallback branding { text } } }`;
const START = `mutation { startLoginChallenge(input: { kind: DESKTOP_LOGIN }) { __typename
  ... on StartLoginChallengePayload { challenge { id status } qrPayload watchToken redeemSecret } ... on Error { code message } } }`;
const REDEEM = `mutation($input: RedeemDesktopLoginInput!) { redeemDesktopLogin(input: $input) { __typename
  ... on DesktopLoginPayload { instruction { attemptId workstationId username expiresAt passwordSource password { suite enc ciphertext } } } ... on Error { code message } } }`;
const REPORT = `mutation($input: ReportAccountResultInput!) { reportAccountResult(input: $input) { __typename
  ... on ReportAccountResultPayload { loginEvent { id accountOutcome accountDetail } } ... on Error { code } } }`;
const HISTORY = `query($tenantId: ID!) { loginEvents(tenantId: $tenantId, first: 50) { totalCount edges { node {
  id username loginPseudonym method outcome reason accountOutcome workstationId workstationName user { id } } } } }`;
const FEED = `subscription($tenantId: ID!) { loginEvents(tenantId: $tenantId) { id username outcome reason accountOutcome } }`;

type World = { msp: MspSeed; customer: CustomerSeed };

async function world(): Promise<World> {
  const msp = await seed(api).msp();
  const customer = await msp.customer();
  return { msp, customer };
}

async function installToken(w: World, input: Record<string, unknown> = {}) {
  const { createInstallToken } = await api.gql(CREATE_TOKEN, { input: { tenantId: w.customer.id, ...input } }, { token: w.msp.token });
  expect(createInstallToken.__typename).toBe("CreateInstallTokenPayload");
  return createInstallToken as { installToken: string; token: { id: string; prefix: string; status: string } };
}

async function enroll(token: string, keys = WorkstationKeys.generate(), hostname = "FRONTDESK-01") {
  const { enrollWorkstation } = await api.gql(ENROLL, {
    input: { installToken: token, hostname, os: "Windows 11 Pro 24H2", publicKey: keys.publicKey, keyAgreementKey: keys.keyAgreementKey },
  });
  if (enrollWorkstation.__typename === "WorkstationPayload") keys.workstationId = enrollWorkstation.workstation.id;
  return { result: enrollWorkstation, keys };
}

/** An approved workstation of the world's customer, with desktop login enabled. */
async function approvedWorkstation(w: World, kind: "ed25519" | "p256" = "ed25519") {
  const { installToken: token } = await installToken(w, { autoApprove: true });
  const { result, keys } = await enroll(token, WorkstationKeys.generate(kind));
  expect(result.workstation.status).toBe("APPROVED");
  return keys;
}

async function enableDesktopLogin(w: World, settings: Record<string, unknown> = {}) {
  const { updateDesktopSettings } = await api.gql(
    SETTINGS,
    { input: { tenantId: w.customer.id, desktopLoginEnabled: true, ...settings } },
    { token: w.msp.token },
  );
  expect(updateDesktopSettings.__typename).toBe("UpdateDesktopSettingsPayload");
}

async function asWorkstation(keys: WorkstationKeys, query: string, variables?: Record<string, unknown>) {
  return api.gql(query, variables, { token: await keys.credential() });
}

/** A password login at this workstation's screen, by OPAQUE: the result as the screen gets it. */
async function login(keys: WorkstationKeys, username: string, password: string) {
  return { desktopLogin: (await desktopPasswordLogin(api, () => keys.credential(), username, password)) as Record<string, any> };
}

async function history(w: World) {
  const { loginEvents } = await api.gql(HISTORY, { tenantId: w.customer.id }, { token: w.msp.token });
  return loginEvents.edges.map((edge: { node: Record<string, unknown> }) => edge.node) as Record<string, any>[];
}

describe("install tokens and enrollment", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  it("shows the token's secret once and keeps only its hash", async () => {
    const created = await installToken(w, { maxUses: 3, expiresInHours: 2 });
    expect(created.installToken).toMatch(/^lkit_[A-Za-z0-9_-]{43}$/);
    expect(created.token).toMatchObject({ status: "ACTIVE", maxUses: 3, uses: 0, autoApprove: false });
    expect(created.installToken.startsWith(created.token.prefix)).toBe(true);
    const rows = await api.db.installToken.findMany({ where: { tenantId: w.customer.id } });
    expect(JSON.stringify(rows)).not.toContain(created.installToken.slice(12));
    const { tenant } = await api.gql(`query($t: ID!) { tenant(id: $t) { installTokens(first: 10) { totalCount edges { node { id status } } } } }`, { t: w.customer.id }, { token: w.msp.token });
    expect(tenant.installTokens.edges.map((edge: { node: { id: string } }) => edge.node.id)).toContain(created.token.id);
  });

  it("enrolls a workstation as PENDING until an admin approves it", async () => {
    const { installToken: token } = await installToken(w);
    const { result, keys } = await enroll(token);
    expect(result).toMatchObject({ __typename: "WorkstationPayload", workstation: { status: "PENDING", name: "FRONTDESK-01", hostname: "FRONTDESK-01" } });

    // A pending workstation reads its configuration but gets no credential.
    const { desktopConfig } = await asWorkstation(keys, CONFIG);
    expect(desktopConfig.workstation).toEqual({ id: keys.workstationId, name: "FRONTDESK-01", status: "PENDING" });
    await enableDesktopLogin(w);
    const user = await w.customer.user();
    const { desktopLogin } = await login(keys, user.username, PASSWORD);
    expect(desktopLogin).toMatchObject({ __typename: "DesktopLoginRefusedError", code: "WORKSTATION_PENDING" });
    const { startLoginChallenge } = await asWorkstation(keys, START);
    expect(startLoginChallenge).toMatchObject({ __typename: "DesktopLoginRefusedError", code: "WORKSTATION_PENDING" });

    const { approveWorkstation } = await api.gql(APPROVE, { id: keys.workstationId }, { token: w.msp.token });
    expect(approveWorkstation.workstation.status).toBe("APPROVED");
    const again = await login(keys, user.username, PASSWORD);
    expect(again.desktopLogin.__typename).toBe("DesktopLoginPayload");
  });

  it("refuses used-up, expired, revoked and unknown tokens with their own codes, auditing the refusals", async () => {
    const once = await installToken(w, { maxUses: 1 });
    expect((await enroll(once.installToken)).result.__typename).toBe("WorkstationPayload");
    expect((await enroll(once.installToken)).result).toMatchObject({ __typename: "InstallTokenError", code: "INSTALL_TOKEN_USED_UP" });

    const expired = await installToken(w);
    await api.db.installToken.update({ where: { id: expired.token.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await enroll(expired.installToken)).result).toMatchObject({ code: "INSTALL_TOKEN_EXPIRED" });

    const revoked = await installToken(w);
    const { revokeInstallToken } = await api.gql(REVOKE_TOKEN, { id: revoked.token.id }, { token: w.msp.token });
    expect(revokeInstallToken.token.status).toBe("REVOKED");
    expect((await enroll(revoked.installToken)).result).toMatchObject({ code: "INSTALL_TOKEN_REVOKED" });

    expect((await enroll("lkit_not-a-token")).result).toMatchObject({ code: "INSTALL_TOKEN_INVALID" });

    const refusals = await api.db.auditEvent.findMany({ where: { tenantId: w.customer.id, action: "workstation.enrollmentRefused" } });
    expect(refusals.map((event) => (event.data as { reason: string }).reason).sort()).toEqual(
      ["INSTALL_TOKEN_EXPIRED", "INSTALL_TOKEN_REVOKED", "INSTALL_TOKEN_USED_UP"].sort(),
    );
  });

  it("refuses keys of the wrong kind and changes nothing", async () => {
    const { installToken: token, token: row } = await installToken(w);
    const rsa = (await import("node:crypto")).generateKeyPairSync("rsa", { modulusLength: 2048 });
    const { enrollWorkstation } = await api.gql(ENROLL, {
      input: { installToken: token, hostname: "PC", os: "Windows", publicKey: rsa.publicKey.export({ format: "der", type: "spki" }).toString("base64") },
    });
    expect(enrollWorkstation).toMatchObject({ __typename: "ValidationError", fields: [{ path: "publicKey" }] });
    const bad = await api.gql(ENROLL, {
      input: { installToken: token, hostname: "PC", os: "Windows", publicKey: WorkstationKeys.generate().publicKey, keyAgreementKey: "bm90IGEga2V5" },
    });
    expect(bad.enrollWorkstation).toMatchObject({ __typename: "ValidationError", fields: [{ path: "keyAgreementKey" }] });
    expect((await api.db.installToken.findUniqueOrThrow({ where: { id: row.id } })).uses).toBe(0);
  });

  it("accepts P-256 keys as well as Ed25519/X25519", async () => {
    await enableDesktopLogin(w);
    const keys = await approvedWorkstation(w, "p256");
    const user = await w.customer.user();
    const { desktopLogin } = await login(keys, user.username, PASSWORD);
    expect(desktopLogin.instruction).toMatchObject({ workstationId: keys.workstationId, passwordSource: "TYPED", password: null });
  });

  it("refuses credentials that are expired, too long-lived, or signed by another key", async () => {
    const keys = await approvedWorkstation(w);
    const other = WorkstationKeys.generate();
    const forged = await other.credential({ subject: keys.workstationId });
    const tooLong = await keys.credential({ lifetimeSeconds: 3600 });
    for (const token of [forged, tooLong, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]) {
      const { body } = await api.request(CONFIG, {}, { token });
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
  });

  it("accepts each credential once: a copy replayed is refused", async () => {
    const keys = await approvedWorkstation(w);
    const credential = await keys.credential();
    expect((await api.gql(CONFIG, {}, { token: credential })).desktopConfig.workstation.id).toBe(keys.workstationId);
    const { body } = await api.request(CONFIG, {}, { token: credential });
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(api.logs.some((line) => line.includes("workstation credential replayed") && line.includes(keys.workstationId))).toBe(true);
    // The next request, with a fresh credential, is the workstation again.
    expect((await asWorkstation(keys, CONFIG)).desktopConfig.workstation.id).toBe(keys.workstationId);
  });

  it("checks a socket's credential once: the connection then serves every operation", async () => {
    const keys = await approvedWorkstation(w);
    // One connection held open throughout (a lazy client would reconnect, with a new credential, per operation).
    const socket = createClient({
      url: `${api.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${await keys.credential()}` },
    });
    const ask = () =>
      new Promise<Record<string, any>>((resolve, reject) => {
        let result: Record<string, any> = {};
        socket.subscribe({ query: CONFIG }, { next: (value) => void (result = value), error: reject, complete: () => resolve(result) });
      });
    for (let i = 0; i < 3; i += 1) {
      const answer = await ask();
      expect(answer.data?.desktopConfig.workstation.id, `operation ${i}`).toBe(keys.workstationId);
    }
    await socket.dispose();
  });

  it("lets admins rename and remove a workstation; a removed workstation's credential stops at once", async () => {
    const keys = await approvedWorkstation(w);
    const { renameWorkstation } = await api.gql(RENAME, { input: { id: keys.workstationId, name: "Reception" } }, { token: w.msp.token });
    expect(renameWorkstation.workstation.name).toBe("Reception");
    const credential = await keys.credential();
    expect((await api.gql(CONFIG, {}, { token: credential })).desktopConfig.workstation.name).toBe("Reception");

    const { workstations } = await api.gql(
      `query($t: ID!) { workstations(tenantId: $t, first: 50) { totalCount edges { node { id name status } } } }`,
      { t: w.customer.id },
      { token: w.msp.token },
    );
    expect(workstations.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(keys.workstationId);

    const { removeWorkstation } = await api.gql(REMOVE, { id: keys.workstationId }, { token: w.msp.token });
    expect(removeWorkstation.workstationId).toBe(keys.workstationId);
    const { body } = await api.request(CONFIG, {}, { token: await keys.credential() });
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const refused = await login(keys, "anyone", PASSWORD);
    expect(refused.desktopLogin).toMatchObject({ __typename: "UnauthenticatedError" });
  });
});

describe("password login", () => {
  let w: World;
  let keys: WorkstationKeys;
  beforeAll(async () => {
    w = await world();
    await enableDesktopLogin(w);
    keys = await approvedWorkstation(w);
  });

  it("answers a proved password with an instruction to set what was typed: no password in it, the database or the log", async () => {
    const user = await w.customer.user();
    const { desktopLogin } = await login(keys, user.username.toUpperCase(), PASSWORD);
    expect(desktopLogin.__typename).toBe("DesktopLoginPayload");
    const instruction = desktopLogin.instruction;
    expect(instruction).toMatchObject({ workstationId: keys.workstationId, username: user.username, passwordSource: "TYPED", password: null });

    const dump = JSON.stringify(await api.db.user.findMany({ where: { tenantId: w.customer.id } }));
    expect(dump).not.toContain(PASSWORD);
    expect(JSON.stringify(await api.db.loginEvent.findMany({ where: { tenantId: w.customer.id } }))).not.toContain(PASSWORD);
    expect(api.logs.join("\n")).not.toContain(PASSWORD);

    const { reportAccountResult } = await asWorkstation(keys, REPORT, { input: { attemptId: instruction.attemptId, outcome: "CREATED", detail: "new account" } });
    expect(reportAccountResult.loginEvent).toMatchObject({ accountOutcome: "CREATED", accountDetail: "new account" });
    const twice = await asWorkstation(keys, REPORT, { input: { attemptId: instruction.attemptId, outcome: "TAKEN_OVER" } });
    expect(twice.reportAccountResult.code).toBe("CONFLICT");
  });

  it("a password an admin resets works at the workstation's next login, and the old one no longer does", async () => {
    const user = await w.customer.user();
    const changed = "quartz-meadow-harbour-77";
    const { registrationId } = await registerPassword(api.run(w.msp.token), { userId: user.id, password: changed });
    await api.gql(
      `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename } }`,
      { input: { userId: user.id, passwordRegistrationId: registrationId } },
      { token: w.msp.token },
    );
    const old = await login(keys, user.username, PASSWORD);
    expect(old.desktopLogin.code).toBe("INVALID_CREDENTIALS");
    const fresh = await login(keys, user.username, changed);
    expect(fresh.desktopLogin.instruction.passwordSource).toBe("TYPED");
  });

  it("refuses wrong passwords, unknown and disabled users with typed errors, each recorded", async () => {
    const user = await w.customer.user();
    const disabled = await w.customer.user();
    await api.gql(`mutation($input: DisableUserInput!) { disableUser(input: $input) { __typename } }`, { input: { userId: disabled.id } }, { token: w.msp.token });

    const wrong = await login(keys, user.username, "not-the-password-1");
    expect(wrong.desktopLogin).toMatchObject({ __typename: "InvalidCredentialsError", code: "INVALID_CREDENTIALS" });
    const unknown = await login(keys, "nobody-here", PASSWORD);
    expect(unknown.desktopLogin).toMatchObject({ __typename: "InvalidCredentialsError", message: wrong.desktopLogin.message });
    const off = await login(keys, disabled.username, PASSWORD);
    expect(off.desktopLogin).toMatchObject({ __typename: "AccountDisabledError", code: "ACCOUNT_DISABLED" });
    const blank = await login(keys, " ", "");
    expect(blank.desktopLogin.__typename).toBe("ValidationError");

    // The wrong password and the unknown user never got past the agent's own finish: they are failed attempts once they expire.
    await sweepUnfinishedLogins(api, w.customer.id);
    const events = await history(w);
    expect(events.find((e) => e.username === user.username && e.reason === "WRONG_PASSWORD")).toMatchObject({ outcome: "FAILED", method: "PASSWORD", user: { id: user.id } });
    // What was typed for an unknown user is not kept: it may be a password typed in the wrong box.
    const stranger = events.find((e) => e.username === null);
    expect(stranger).toMatchObject({ outcome: "FAILED", reason: "UNKNOWN_USER", user: null, loginPseudonym: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(JSON.stringify(await api.db.loginEvent.findMany({ where: { tenantId: w.customer.id } }))).not.toContain("nobody-here");
    expect(events.find((e) => e.username === disabled.username)).toMatchObject({ outcome: "FAILED", reason: "ACCOUNT_DISABLED" });

    // The workstation itself learns no more than its screen showed: a wrong password and an unknown user read alike.
    const { agentWorkstation } = await asWorkstation(keys, `{ agentWorkstation { id loginEvents(first: 10) { edges { node { username reason } } } } }`);
    expect(agentWorkstation.id).toBe(keys.workstationId);
    const reasons = agentWorkstation.loginEvents.edges.map((edge: { node: { reason: string | null } }) => edge.node.reason);
    expect(reasons).toContain("INVALID_CREDENTIALS");
    expect(reasons).not.toContain("UNKNOWN_USER");
    expect(reasons).not.toContain("WRONG_PASSWORD");
    // The deprecated list answers the same until it is removed.
    const { workstationLoginEvents } = await asWorkstation(keys, `{ workstationLoginEvents(first: 10) { reason } }`);
    expect(workstationLoginEvents.map((e: { reason: string | null }) => e.reason).sort()).toEqual([...reasons].sort());
  });

  it("refuses a typed name with control, invisible or direction characters before recording anything", async () => {
    const before = (await history(w)).length;
    for (const username of ["bob\u0000", "admin\u202Eexe.txt", "zero\u200Bwidth", "line\nbreak"]) {
      const { desktopLogin } = await login(keys, username, PASSWORD);
      expect(desktopLogin.__typename, JSON.stringify(username)).toBe("ValidationError");
    }
    expect((await history(w)).length).toBe(before);
  });

  it("locks an account only for the workstations that guessed wrong; its own workstation and an admin's unlock get it back", async () => {
    const user = await w.customer.user();
    const guessers = [await approvedWorkstation(w), await approvedWorkstation(w), await approvedWorkstation(w)];
    let last: Record<string, any> = {};
    for (let attempt = 0; attempt < 12 && last.__typename !== "AccountLockedError"; attempt += 1) {
      const station = guessers[attempt % guessers.length]!;
      last = (await login(station, user.username, `wrong-${attempt}-password`)).desktopLogin;
    }
    expect(last.__typename).toBe("AccountLockedError");
    expect(new Date(last.unlocksAt).getTime()).toBeGreaterThan(Date.now());
    // Locked for the guessers even with the right password...
    const right = await login(guessers[0]!, user.username, PASSWORD);
    expect(right.desktopLogin.code).toBe("ACCOUNT_LOCKED");
    expect((await history(w)).some((e) => e.username === user.username && e.reason === "ACCOUNT_LOCKED")).toBe(true);
    // ...but not for a workstation that never failed for this account.
    const own = await login(keys, user.username, PASSWORD);
    expect(own.desktopLogin.__typename).toBe("DesktopLoginPayload");

    await api.jobsSettled();
    const USER = `query($id: ID!) { user(id: $id) { locked lockedAt lockedUntil } }`;
    const { user: seen } = await api.gql(USER, { id: user.id }, { token: w.msp.token });
    expect(seen.locked).toBe(true);
    expect(new Date(seen.lockedUntil).getTime()).toBeGreaterThan(new Date(seen.lockedAt).getTime());
    const { unlockUser } = await api.gql(
      `mutation($id: ID!) { unlockUser(input: { userId: $id }) { __typename ... on UnlockUserPayload { user { locked lockedUntil } } } }`,
      { id: user.id },
      { token: w.msp.token },
    );
    expect(unlockUser.user).toEqual({ locked: false, lockedUntil: null });
    const after = await login(guessers[1]!, user.username, PASSWORD);
    expect(after.desktopLogin.__typename).toBe("DesktopLoginPayload");
  });

  it("refuses every login while desktop login is switched off, and password login when only passwordless is allowed", async () => {
    const user = await w.customer.user();
    await enableDesktopLogin(w, { desktopLoginEnabled: false });
    const off = await login(keys, user.username, PASSWORD);
    expect(off.desktopLogin).toMatchObject({ __typename: "DesktopLoginRefusedError", code: "DESKTOP_LOGIN_DISABLED" });
    await enableDesktopLogin(w, { method: "PASSWORDLESS", passwordFallback: false });
    const passwordless = await login(keys, user.username, PASSWORD);
    expect(passwordless.desktopLogin.code).toBe("PASSWORD_LOGIN_NOT_ALLOWED");
    await enableDesktopLogin(w, { method: "PASSWORD", passwordFallback: true });
    const reasons = (await history(w)).filter((e) => e.username === user.username).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["DESKTOP_LOGIN_DISABLED", "PASSWORD_LOGIN_NOT_ALLOWED"]));
  });
});

describe("passwordless login by QR", () => {
  let w: World;
  let keys: WorkstationKeys;
  beforeAll(async () => {
    w = await world();
    await enableDesktopLogin(w, { method: "PASSWORDLESS", passwordFallback: true });
    keys = await approvedWorkstation(w);
    await api.gql(RENAME, { input: { id: keys.workstationId, name: "Front desk" } }, { token: w.msp.token });
  });

  async function phoneFor(user: { id: string; email: string }) {
    const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
    await phone.requestEmailVerification(user.email);
    await phone.verifyEmail(user.email, await api.emailedCode(user.email), "Phone");
    const { startDeviceOnboarding } = await api.gql(
      `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename ... on StartDeviceOnboardingPayload { qrPayload } } }`,
      { userId: user.id },
      { token: w.msp.token },
    );
    await phone.onboard(startDeviceOnboarding.qrPayload);
    return phone;
  }

  it("shows the phone the workstation's name and enrollment, and only that workstation redeems the approval", async () => {
    const user = await w.customer.user();
    const phone = await phoneFor(user);
    const { startLoginChallenge: started } = await asWorkstation(keys, START);
    expect(started.__typename).toBe("StartLoginChallengePayload");

    const watcher = subscribe(api.ws(await keys.credential()), `subscription($id: ID!, $w: String!) { challengeUpdated(id: $id, watchToken: $w) { id status } }`, {
      id: started.challenge.id,
      w: started.watchToken,
    });
    const { scan } = await phone.approve(started.qrPayload);
    expect(scan).toMatchObject({ requesterKind: "WORKSTATION", requesterName: "Front desk" });
    expect(new Date((scan as { requesterEnrolledAt: string }).requesterEnrolledAt ?? 0).getTime()).toBeGreaterThan(Date.now() - 600_000);
    await watcher.waitForCompletion();
    expect(watcher.events.at(-1)!.data!.challengeUpdated.status).toBe("APPROVED");

    // Another workstation, even of the same tenant and holding the secret, cannot redeem it.
    const other = await approvedWorkstation(w);
    const stolen = await asWorkstation(other, REDEEM, { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
    expect(stolen.redeemDesktopLogin).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });

    const { redeemDesktopLogin } = await asWorkstation(keys, REDEEM, { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
    expect(redeemDesktopLogin.instruction).toMatchObject({ username: user.username, workstationId: keys.workstationId });
    expect(await keys.open(redeemDesktopLogin.instruction)).toBe(PASSWORD);
    const again = await asWorkstation(keys, REDEEM, { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
    expect(again.redeemDesktopLogin.code).toBe("CONFLICT");
    expect((await history(w)).find((e) => e.id === redeemDesktopLogin.instruction.attemptId)).toMatchObject({ method: "QR", outcome: "SUCCEEDED" });
  });

  it("leaves a passwordless user's local password to the agent: the server generates and keeps none", async () => {
    const user = await w.customer.user({ password: null });
    const phone = await phoneFor(user);
    for (let round = 0; round < 2; round += 1) {
      const { startLoginChallenge: started } = await asWorkstation(keys, START);
      await phone.approve(started.qrPayload);
      const { redeemDesktopLogin } = await asWorkstation(keys, REDEEM, { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
      expect(redeemDesktopLogin.instruction).toMatchObject({ username: user.username, passwordSource: "AGENT", password: null });
    }
    const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row).toMatchObject({ opaqueRecord: null, sealedPassword: null, passwordVersion: 0 });
  });

  it("lets only the workstation's own tenant's users approve", async () => {
    const otherCustomer = await w.msp.customer();
    const outsider = await otherCustomer.user();
    const phone = await phoneFor(outsider);
    const { startLoginChallenge: started } = await asWorkstation(keys, START);
    await expect(phone.scan(started.qrPayload)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("login events", () => {
  it("reach the tenant's admins live, and nobody else's feed", async () => {
    const w = await world();
    await enableDesktopLogin(w);
    const keys = await approvedWorkstation(w);
    const user = await w.customer.user();
    const customerAdmin = await w.customer.admin();
    const outsider = await world();

    const feed = subscribe(api.ws(await customerAdmin.token()), FEED, { tenantId: w.customer.id });
    const mspFeed = subscribe(api.ws(w.msp.token), FEED, { tenantId: w.customer.id });
    const otherFeed = subscribe(api.ws(outsider.msp.token), FEED, { tenantId: outsider.customer.id });
    const intruder = subscribe(api.ws(outsider.msp.token), FEED, { tenantId: w.customer.id });
    await intruder.waitForCompletion();
    expect((intruder.failure as { message?: string } | null)?.toString() ?? JSON.stringify(intruder.events)).toMatch(/not found|NOT_FOUND/i);

    let instruction: Instruction | null = null;
    await feed.triggerUntilEvent(async () => {
      instruction = (await login(keys, user.username, PASSWORD)).desktopLogin.instruction;
    });
    await mspFeed.waitForEvents(1);
    expect(feed.events[0]!.data!.loginEvents).toMatchObject({ username: user.username, outcome: "SUCCEEDED" });
    const count = feed.events.length;
    await asWorkstation(keys, REPORT, { input: { attemptId: instruction!.attemptId, outcome: "TAKEN_OVER" } });
    await feed.waitForEvents(count + 1);
    expect(feed.events.at(-1)!.data!.loginEvents).toMatchObject({ id: instruction!.attemptId, accountOutcome: "TAKEN_OVER" });
    expect(otherFeed.events).toEqual([]);
  });
});

describe("workstation changes", () => {
  it("reach the tenant's admins live as workstations enroll, are approved, renamed and removed; nobody else", async () => {
    const w = await world();
    const outsider = await world();
    const CHANGES = `subscription($t: ID!) { workstationChanged(tenantId: $t) { workstationId change workstation { id name status } } }`;
    const feed = subscribe(api.ws(w.msp.token), CHANGES, { t: w.customer.id });
    const intruder = subscribe(api.ws(outsider.msp.token), CHANGES, { t: w.customer.id });
    await intruder.waitForCompletion();
    expect(JSON.stringify(intruder.failure ?? intruder.events)).toMatch(/not found/i);

    const { installToken: token } = await installToken(w, { maxUses: 5 });
    let keys: WorkstationKeys | null = null;
    await feed.triggerUntilEvent(async () => {
      keys = (await enroll(token)).keys;
    });
    const first = feed.events[0]!.data!.workstationChanged;
    expect(first).toMatchObject({ change: "ENROLLED", workstation: { status: "PENDING" } });
    const id = first.workstationId as string;
    const seen = feed.events.length;
    await api.gql(APPROVE, { id }, { token: w.msp.token });
    await api.gql(RENAME, { input: { id, name: "Lobby" } }, { token: w.msp.token });
    await api.gql(REMOVE, { id }, { token: w.msp.token });
    await feed.waitForEvents(seen + 3);
    expect(feed.events.slice(seen).map((e) => e.data!.workstationChanged)).toEqual([
      { workstationId: id, change: "APPROVED", workstation: { id, name: "FRONTDESK-01", status: "APPROVED" } },
      { workstationId: id, change: "RENAMED", workstation: { id, name: "Lobby", status: "APPROVED" } },
      { workstationId: id, change: "REMOVED", workstation: null },
    ]);
    expect(keys).not.toBeNull();
  });
});

describe("dashboard figures", () => {
  it("count each customer's workstations and its logins and failed logins of the last 24 hours", async () => {
    const w = await world();
    const quiet = await w.msp.customer();
    await enableDesktopLogin(w);
    const keys = await approvedWorkstation(w);
    await approvedWorkstation(w);
    const user = await w.customer.user();
    await login(keys, user.username, PASSWORD);
    await login(keys, user.username, "wrong-password-1");
    await login(keys, "nobody", "wrong-password-2");
    await sweepUnfinishedLogins(api, w.customer.id);
    const { customers } = await api.gql(
      `{ customers(first: 10) { edges { node { id workstationCount loginsLast24h successfulLoginsLast24h failedLoginsLast24h } } } }`,
      {},
      { token: w.msp.token },
    );
    const figures = Object.fromEntries(customers.edges.map((e: { node: { id: string } }) => [e.node.id, e.node]));
    expect(figures[w.customer.id]).toMatchObject({ workstationCount: 2, loginsLast24h: 3, successfulLoginsLast24h: 1, failedLoginsLast24h: 2 });
    expect(figures[quiet.id]).toMatchObject({ workstationCount: 0, loginsLast24h: 0, successfulLoginsLast24h: 0, failedLoginsLast24h: 0 });
  });
});

describe("isolation", () => {
  it("answers NOT_FOUND to another MSP for every workstation, token and login-event id", async () => {
    const w = await world();
    await enableDesktopLogin(w);
    const keys = await approvedWorkstation(w);
    const { token } = await installToken(w);
    const other = await world();
    const as = { token: other.msp.token };

    expect((await api.gql(CREATE_TOKEN, { input: { tenantId: w.customer.id } }, as)).createInstallToken.code).toBe("NOT_FOUND");
    expect((await api.gql(REVOKE_TOKEN, { id: token.id }, as)).revokeInstallToken.code).toBe("NOT_FOUND");
    expect((await api.gql(APPROVE, { id: keys.workstationId }, as)).approveWorkstation.code).toBe("NOT_FOUND");
    expect((await api.gql(RENAME, { input: { id: keys.workstationId, name: "Mine" } }, as)).renameWorkstation.code).toBe("NOT_FOUND");
    expect((await api.gql(REMOVE, { id: keys.workstationId }, as)).removeWorkstation.code).toBe("NOT_FOUND");
    expect((await api.gql(REVOKE_TOKEN_INPUT, { input: { id: token.id } }, as)).revokeInstallToken.code).toBe("NOT_FOUND");
    expect((await api.gql(APPROVE_INPUT, { input: { id: keys.workstationId } }, as)).approveWorkstation.code).toBe("NOT_FOUND");
    expect((await api.gql(REMOVE_INPUT, { input: { id: keys.workstationId } }, as)).removeWorkstation.code).toBe("NOT_FOUND");
    expect((await api.gql(`query($id: ID!) { workstation(id: $id) { id } }`, { id: keys.workstationId }, as)).workstation).toBeNull();
    // Lists of a tenant out of reach are null, as for a tenant that does not exist.
    for (const [field, query] of [
      ["workstations", `query($t: ID!) { workstations(tenantId: $t, first: 5) { totalCount } }`],
      ["loginEvents", `query($t: ID!) { loginEvents(tenantId: $t, first: 5) { totalCount } }`],
    ] as const) {
      const { body } = await api.request(query, { t: w.customer.id }, as);
      expect(body.errors, query).toBeUndefined();
      expect(body.data, query).toEqual({ [field]: null });
    }
    const { body: tokens } = await api.request(`query($t: ID!) { tenant(id: $t) { installTokens(first: 5) { totalCount } } }`, { t: w.customer.id }, as);
    expect(tokens.data).toEqual({ tenant: null });
    // The deprecated root list keeps its old answer until it is removed.
    const { body: deprecated } = await api.request(`query($t: ID!) { installTokens(tenantId: $t) { id } }`, { t: w.customer.id }, as);
    expect(deprecated.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    // A workstation cannot report on another workstation's attempt.
    const user = await w.customer.user();
    const { desktopLogin } = await login(keys, user.username, PASSWORD);
    await enableDesktopLogin(other);
    const foreign = await approvedWorkstation(other);
    const report = await asWorkstation(foreign, REPORT, { input: { attemptId: desktopLogin.instruction.attemptId, outcome: "CREATED" } });
    expect(report.reportAccountResult.code).toBe("NOT_FOUND");
    // Nor log in a user of another tenant.
    const cross = await login(foreign, user.username, PASSWORD);
    expect(cross.desktopLogin.code).toBe("INVALID_CREDENTIALS");
  });

  it("lets a delegated technician see a customer's workstations, and an undelegated one not", async () => {
    const w = await world();
    const keys = await approvedWorkstation(w);
    const delegated = await w.msp.technician();
    const undelegated = await w.msp.technician();
    await w.msp.delegate(delegated.id, w.customer.id);
    const query = `query($id: ID!) { workstation(id: $id) { id } }`;
    expect((await api.gql(query, { id: keys.workstationId }, { token: await delegated.token() })).workstation).toEqual({ id: keys.workstationId });
    expect((await api.gql(query, { id: keys.workstationId }, { token: await undelegated.token() })).workstation).toBeNull();
  });
});
