// Technician sessions through the API, with workstations driven by their own
// keys and approvals made with the `authenticator` command line: who sees and
// ends which session (isolation for every id-taking operation of elevated
// access), what ends them (delegation, role, disabled user, revoked phone),
// expiry by the server's clock, and the live feeds of a customer and of an MSP.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTHENTICATOR_BIN, desktopSeed } from "./desktop-seed.ts";
import { Api, ManualClock, subscribe } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";
import type { WorkstationKeys } from "./workstation-keys.ts";

const run = promisify(execFile);
const ERRORS = `... on Error { code message }`;
const clock = new ManualClock();

let api: Api;
let dir: string;
let a: MspSeed;
let b: MspSeed;
let a1: CustomerSeed;
let a2: CustomerSeed;
let b1: CustomerSeed;
let techA1: SeededUser;
let techA2: SeededUser;
let techB1: SeededUser;
let adminA1: SeededUser;
let wsA1: WorkstationKeys;
let wsA1b: WorkstationKeys;
let wsA2: WorkstationKeys;
let wsB1: WorkstationKeys;
const phoneOf = new Map<string, string>();

async function phoneFor(msp: MspSeed, customer: CustomerSeed, user: SeededUser) {
  const path = join(dir, `${user.id}-phone.json`);
  await desktopSeed(api, msp, customer).phone(user, path);
  phoneOf.set(user.id, path);
  return path;
}

const approve = (user: { id: string }, qrPayload: string) =>
  run(process.execPath, [AUTHENTICATOR_BIN, "approve", qrPayload, "--api", `${api.url}/graphql`, "--state", phoneOf.get(user.id)!], { timeout: 30_000 });

const START = `mutation($mode: ElevationMode!, $minutes: Int) { startLoginChallenge(input: { kind: ELEVATED_ACCESS, elevation: { mode: $mode, minutes: $minutes, agentVersion: "1.0.0" } }) { __typename
  ... on StartLoginChallengePayload { challenge { id } qrPayload redeemSecret elevation { id status accountName } } ${ERRORS} ... on ElevationBusyError { holder endsAt sessionId } } }`;
const REDEEM = `mutation($input: RedeemElevationInput!) { redeemElevation(input: $input) { __typename ... on RedeemElevationPayload { instruction { sessionId accountName minutes } } ${ERRORS} } }`;
const REPORT = `mutation($input: ReportTechnicianSessionInput!) { reportTechnicianSession(input: $input) { __typename ... on ReportTechnicianSessionPayload { session { id status endReason } } ${ERRORS} } }`;
const SESSIONS = `query($t: ID!, $active: Boolean) { technicianSessions(tenantId: $t, first: 50, active: $active) { totalCount edges { node { id status endReason customer { id } } } } }`;
const END = `mutation($input: EndTechnicianSessionInput!) { endTechnicianSession(input: $input) { __typename ... on EndTechnicianSessionPayload { session { status endReason } } ${ERRORS} } }`;
const ACK = `mutation($id: ID!) { acknowledgeWorkstationCommand(input: { id: $id }) { __typename ${ERRORS} } }`;

async function asWorkstation(keys: WorkstationKeys, query: string, variables: Record<string, unknown> = {}) {
  return api.gql(query, variables, { token: await keys.credential() });
}

/** A started session of `technician` on `keys`' workstation: requested, approved on the phone, redeemed and reported started. */
async function startedSession(keys: WorkstationKeys, technician: { id: string }, minutes = 10) {
  const { startLoginChallenge: started } = await asWorkstation(keys, START, { mode: "SIGN_IN", minutes });
  expect(started.__typename, JSON.stringify(started)).toBe("StartLoginChallengePayload");
  await approve(technician, started.qrPayload);
  const { redeemElevation } = await asWorkstation(keys, REDEEM, { input: { challengeId: started.challenge.id, redeemSecret: started.redeemSecret } });
  expect(redeemElevation.__typename, JSON.stringify(redeemElevation)).toBe("RedeemElevationPayload");
  const { reportTechnicianSession } = await asWorkstation(keys, REPORT, { input: { sessionId: redeemElevation.instruction.sessionId, event: "STARTED", at: new Date().toISOString() } });
  expect(reportTechnicianSession.session.status).toBe("STARTED");
  return { id: redeemElevation.instruction.sessionId as string, challengeId: started.challenge.id as string, redeemSecret: started.redeemSecret as string };
}

/** Waits (a bounded while) until a feed has received what `done` looks for. */
async function eventually(done: () => boolean, what: string) {
  for (let waited = 0; !done(); waited += 100) {
    if (waited > 15_000) throw new Error(`never saw ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sessionRow = (id: string) => api.db.technicianSession.findUniqueOrThrow({ where: { id } });

async function configure(msp: MspSeed, customer: CustomerSeed) {
  const result = await api.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename } }`, {
    input: { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin", maxSessionMinutes: 60 },
  }, { token: msp.token });
  expect(result.updateElevatedAccessSettings.__typename).toBe("UpdateElevatedAccessSettingsPayload");
}

beforeAll(async () => {
  api = await Api.start({}, { clock });
  dir = await mkdtemp(join(tmpdir(), "latchkey-elevation-sessions-"));
  const s = seed(api);
  [a, b] = [await s.msp(), await s.msp()];
  [a1, a2, b1] = [await a.customer(), await a.customer(), await b.customer()];
  for (const [msp, customer] of [[a, a1], [a, a2], [b, b1]] as const) await configure(msp, customer);
  [techA1, techA2, techB1] = [await a.technician(), await a.technician(), await b.technician()];
  await a.delegate(techA1.id, a1.id);
  await a.delegate(techA2.id, a2.id);
  await b.delegate(techB1.id, b1.id);
  adminA1 = await a1.admin();
  await phoneFor(a, a1, techA1);
  await phoneFor(a, a2, techA2);
  await phoneFor(b, b1, techB1);
  wsA1 = await desktopSeed(api, a, a1).workstation();
  wsA1b = await desktopSeed(api, a, a1).workstation();
  wsA2 = await desktopSeed(api, a, a2).workstation();
  wsB1 = await desktopSeed(api, b, b1).workstation();
}, 180_000);

afterAll(async () => {
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("isolation: another tenant (or workstation) gets NOT_FOUND, as for an id that does not exist", () => {
  let session: { id: string; challengeId: string; redeemSecret: string };
  beforeAll(async () => {
    session = await startedSession(wsA1, techA1);
  }, 60_000);

  it("updateElevatedAccessSettings and the settings themselves", async () => {
    const update = async (token: string, tenantId: string) =>
      (await api.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename ${ERRORS} } }`, { input: { tenantId, maxSessionMinutes: 480 } }, { token }))
        .updateElevatedAccessSettings;
    for (const token of [b.token, await techA2.token(), await techB1.token()]) {
      expect(await update(token, a1.id)).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await update(b.token, randomUUID())).toMatchObject({ code: "NOT_FOUND" });
    expect((await api.db.elevationSettings.findUniqueOrThrow({ where: { tenantId: a1.id } })).maxSessionMinutes).toBe(60);
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { elevatedAccess { sharedAccountName } } }`, { id: a1.id }, { token: await techA1.token() });
    expect(tenant.elevatedAccess.sharedAccountName).toBe("LatchkeyAdmin");
    expect((await api.gql(`query($id: ID!) { tenant(id: $id) { id } }`, { id: a1.id }, { token: b.token })).tenant).toBeNull();
  });

  it("assignWorkstationAccount", async () => {
    for (const token of [b.token, await techA2.token()]) {
      const { assignWorkstationAccount } = await api.gql(
        `mutation($input: AssignWorkstationAccountInput!) { assignWorkstationAccount(input: $input) { __typename ${ERRORS} } }`,
        { input: { workstationId: wsA1.workstationId, accountName: "Hijacked" } },
        { token },
      );
      expect(assignWorkstationAccount).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await api.db.workstationAccount.count({ where: { workstationId: wsA1.workstationId } })).toBe(0);
  });

  it("technicianSessions: a customer's sessions are invisible (null) to technicians without that customer, also MSP-wide", async () => {
    for (const token of [b.token, await techA2.token(), await techB1.token()]) {
      const { body } = await api.request(SESSIONS, { t: a1.id }, { token });
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ technicianSessions: null });
    }
    const ids = async (token: string, tenantId: string) =>
      ((await api.gql(SESSIONS, { t: tenantId }, { token })).technicianSessions.edges as { node: { id: string } }[]).map((edge) => edge.node.id);
    expect(await ids(await techA1.token(), a1.id)).toContain(session.id);
    expect(await ids(await techA1.token(), a.id)).toContain(session.id);
    expect(await ids(a.token, a.id)).toContain(session.id);
    expect(await ids(await adminA1.token(), a1.id)).toContain(session.id);
    expect(await ids(await techA2.token(), a.id)).not.toContain(session.id);
    const { body } = await api.request(SESSIONS, { t: a.id }, { token: b.token });
    expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ technicianSessions: null });
  });

  it("technicianSessionChanged: refused for outsiders; MSP-wide it carries only the customers the viewer reaches", async () => {
    const FEED = `subscription($t: ID!) { technicianSessionChanged(tenantId: $t) { id status customer { id } } }`;
    const refused = subscribe(api.ws(b.token), FEED, { t: a1.id });
    await refused.waitForCompletion();
    expect(JSON.stringify(refused.failure ?? refused.events)).toContain("NOT_FOUND");

    const delegated = subscribe(api.ws(await techA1.token()), FEED, { t: a.id });
    const undelegated = subscribe(api.ws(await techA2.token()), FEED, { t: a.id });
    const customerFeed = subscribe(api.ws(await adminA1.token()), FEED, { t: a1.id });
    const other = await startedSession(wsA2, techA2);
    const mine = await startedSession(wsA1b, techA1);
    await eventually(() => delegated.events.some((event) => event.data?.technicianSessionChanged.id === mine.id && event.data.technicianSessionChanged.status === "STARTED"), "the delegated technician sees A1's session");
    await eventually(() => undelegated.events.some((event) => event.data?.technicianSessionChanged.id === other.id && event.data.technicianSessionChanged.status === "STARTED"), "A2's technician sees A2's session");
    await eventually(() => customerFeed.events.some((event) => event.data?.technicianSessionChanged.id === mine.id && event.data.technicianSessionChanged.status === "STARTED"), "A1's admin sees A1's session");
    expect(delegated.events.map((event) => event.data?.technicianSessionChanged.customer.id)).not.toContain(a2.id);
    expect(undelegated.events.map((event) => event.data?.technicianSessionChanged.customer.id)).not.toContain(a1.id);
    expect(customerFeed.events.map((event) => event.data?.technicianSessionChanged.id)).not.toContain(other.id);
    delegated.unsubscribe();
    undelegated.unsubscribe();
    customerFeed.unsubscribe();
    for (const id of [other.id, mine.id]) await api.gql(END, { input: { id } }, { token: a.token });
  }, 60_000);

  it("endTechnicianSession", async () => {
    for (const token of [b.token, await techA2.token(), await techB1.token()]) {
      expect((await api.gql(END, { input: { id: session.id } }, { token })).endTechnicianSession).toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await api.gql(END, { input: { id: randomUUID() } }, { token: b.token })).endTechnicianSession).toMatchObject({ code: "NOT_FOUND" });
    expect((await sessionRow(session.id)).status).toBe("STARTED");
  });

  it("redeemElevation, reportTechnicianSession and acknowledgeWorkstationCommand from another workstation, even with the secret", async () => {
    const { startLoginChallenge: started } = await asWorkstation(wsA1, START, { mode: "IN_SESSION", minutes: 5 });
    // IN_SESSION without the Windows session's user is refused before anything is written.
    expect(started).toMatchObject({ code: "VALIDATION" });
    const pending = await asWorkstation(wsA2, START, { mode: "SIGN_IN", minutes: 5 });
    await approve(techA2, pending.startLoginChallenge.qrPayload);
    const stolen = await asWorkstation(wsA1b, REDEEM, { input: { challengeId: pending.startLoginChallenge.challenge.id, redeemSecret: pending.startLoginChallenge.redeemSecret } });
    expect(stolen.redeemElevation).toMatchObject({ code: "NOT_FOUND" });
    const missing = await asWorkstation(wsA1b, REDEEM, { input: { challengeId: randomUUID(), redeemSecret: pending.startLoginChallenge.redeemSecret } });
    expect(missing.redeemElevation).toMatchObject({ code: "NOT_FOUND" });

    for (const keys of [wsA1b, wsB1]) {
      const report = await asWorkstation(keys, REPORT, { input: { sessionId: session.id, event: "ENDED", at: new Date().toISOString(), reason: "ENDED_ON_WORKSTATION" } });
      expect(report.reportTechnicianSession).toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await sessionRow(session.id)).status).toBe("STARTED");

    const ended = await api.gql(END, { input: { id: session.id, reason: "isolation check" } }, { token: await adminA1.token() });
    expect(ended.endTechnicianSession.session).toEqual({ status: "ENDED", endReason: "ENDED_BY_ADMIN" });
    const command = await api.db.workstationCommand.findFirstOrThrow({ where: { sessionId: session.id } });
    expect((await asWorkstation(wsA1b, ACK, { id: command.id })).acknowledgeWorkstationCommand).toMatchObject({ code: "NOT_FOUND" });
    expect((await asWorkstation(wsB1, ACK, { id: randomUUID() })).acknowledgeWorkstationCommand).toMatchObject({ code: "NOT_FOUND" });
    const { pendingWorkstationCommands } = await asWorkstation(wsA1b, `query { pendingWorkstationCommands { id } }`);
    expect(pendingWorkstationCommands.map((c: { id: string }) => c.id)).not.toContain(command.id);
    expect((await asWorkstation(wsA1, ACK, { id: command.id })).acknowledgeWorkstationCommand.__typename).toBe("AcknowledgeWorkstationCommandPayload");
  });
});

describe("what ends a session", () => {
  async function commandFor(sessionId: string) {
    return api.db.workstationCommand.findFirst({ where: { sessionId, kind: "END_TECHNICIAN_SESSION" } });
  }

  it("a second technician gets ELEVATION_BUSY with the holder and the end; the account is free once the session ends", async () => {
    const session = await startedSession(wsA1, techA1);
    const { startLoginChallenge: busy } = await asWorkstation(wsA1, START, { mode: "SIGN_IN", minutes: 5 });
    expect(busy).toMatchObject({ __typename: "ElevationBusyError", code: "ELEVATION_BUSY", sessionId: session.id, holder: expect.stringContaining(techA1.email), endsAt: expect.any(String) });
    await api.gql(END, { input: { id: session.id } }, { token: await techA1.token() });
    expect((await sessionRow(session.id)).endReason).toBe("ENDED_BY_TECHNICIAN");
    // Every step is in the customer's audit log, with who, where, what and how long.
    const events = await api.db.auditEvent.findMany({ where: { targetId: session.id }, orderBy: { createdAt: "asc" } });
    expect(events.map((event) => event.action)).toEqual(["elevation.requested", "elevation.approved", "elevation.redeemed", "technicianSession.started", "technicianSession.ended"]);
    expect(events.every((event) => event.tenantId === a1.id)).toBe(true);
    expect(events.at(-1)!.data).toMatchObject({ workstationId: wsA1.workstationId, technicianId: techA1.id, account: "LatchkeyAdmin", mode: "SIGN_IN", requestedMinutes: 10, reason: "ENDED_BY_TECHNICIAN" });
    expect(events.at(-1)!.actorId).toBe(techA1.id);
    expect((await asWorkstation(wsA1, START, { mode: "SIGN_IN", minutes: 5 })).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
  }, 60_000);

  it("expiry by the server's clock frees the account and is recorded as EXPIRED", async () => {
    const session = await startedSession(wsA1b, techA1, 5);
    clock.advance(5 * 60_000 + 1000);
    const { technicianSessions } = await api.gql(SESSIONS, { t: a1.id, active: true }, { token: a.token });
    expect(technicianSessions.edges.map((edge: { node: { id: string } }) => edge.node.id)).not.toContain(session.id);
    expect(await sessionRow(session.id)).toMatchObject({ status: "ENDED", endReason: "EXPIRED" });
    expect((await asWorkstation(wsA1b, START, { mode: "SIGN_IN", minutes: 5 })).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
  }, 60_000);

  it("lowering an MSP admin to technician ends their sessions at customers they are not delegated to", async () => {
    const admin2 = await a.admin();
    await phoneFor(a, a2, admin2);
    const session = await startedSession(wsA2, admin2);
    const lowered = await api.gql(`mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { __typename ${ERRORS} } }`, { input: { userId: admin2.id, role: "TECHNICIAN" } }, { token: a.token });
    expect(lowered.setUserRole.__typename).toBe("SetUserRolePayload");
    expect(await sessionRow(session.id)).toMatchObject({ status: "ENDED", endReason: "REVOKED" });
    expect(await commandFor(session.id)).toMatchObject({ acknowledgedAt: null, reason: "REVOKED" });
  }, 60_000);

  it("disabling the technician ends their sessions", async () => {
    const technician = await a.technician();
    await a.delegate(technician.id, a2.id);
    await phoneFor(a, a2, technician);
    const session = await startedSession(wsA2, technician);
    const disabled = await api.gql(`mutation($input: DisableUserInput!) { disableUser(input: $input) { __typename ${ERRORS} } }`, { input: { userId: technician.id } }, { token: a.token });
    expect(disabled.disableUser.__typename).toBe("DisableUserPayload");
    expect(await sessionRow(session.id)).toMatchObject({ status: "ENDED", endReason: "REVOKED" });
    expect(await commandFor(session.id)).not.toBeNull();
    // A disabled user's phone approves nothing more.
    const again = await asWorkstation(wsA2, START, { mode: "SIGN_IN", minutes: 5 });
    await expect(approve(technician, again.startLoginChallenge.qrPayload)).rejects.toThrow(/NOT_FOUND|UNAUTHENTICATED/);
  }, 60_000);

  it("revoking the phone that approved ends its sessions; a revoked phone cannot approve", async () => {
    const technician = await a.technician();
    await a.delegate(technician.id, a2.id);
    const phone = await phoneFor(a, a2, technician);
    const session = await startedSession(wsA2, technician);
    const { deviceId } = JSON.parse(await readFile(phone, "utf8")) as { deviceId: string };
    const revoked = await api.gql(`mutation($id: ID!) { revokeAuthenticator(id: $id) { __typename ${ERRORS} } }`, { id: deviceId }, { token: a.token });
    expect(revoked.revokeAuthenticator.__typename).toBe("RevokeAuthenticatorPayload");
    expect(await sessionRow(session.id)).toMatchObject({ status: "ENDED", endReason: "REVOKED" });
    const again = await asWorkstation(wsA2, START, { mode: "SIGN_IN", minutes: 5 });
    await expect(approve(technician, again.startLoginChallenge.qrPayload)).rejects.toThrow(/UNAUTHENTICATED|NOT_ENROLLED/);
  }, 60_000);

  it("a customer's named accounts give each technician a stable <prefix><n>, bound at the scan", async () => {
    const customer = await a.customer();
    await configure(a, customer);
    await api.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename } }`, { input: { tenantId: customer.id, technicianAccountPrefix: "lk-tech" } }, { token: a.token });
    await a.delegate(techA1.id, customer.id);
    const ws = await desktopSeed(api, a, customer).workstation();
    const first = await startedSession(ws, techA1);
    expect((await sessionRow(first.id)).accountName).toBe("lk-tech1");
    await api.gql(END, { input: { id: first.id } }, { token: a.token });
    const again = await startedSession(ws, techA1);
    expect((await sessionRow(again.id)).accountName).toBe("lk-tech1");
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { elevatedAccess { accounts { kind name number technicianId } } } }`, { id: customer.id }, { token: a.token });
    expect(tenant.elevatedAccess.accounts).toContainEqual({ kind: "TECHNICIAN", name: "lk-tech1", number: 1, technicianId: techA1.id });
    await api.gql(END, { input: { id: again.id } }, { token: a.token });
  }, 60_000);
});

describe("refusals and malformed ids", () => {
  it("refuses elevation where it is not configured, too long, from an outdated agent, or from a pending workstation", async () => {
    const customer = await a.customer();
    const desk = desktopSeed(api, a, customer);
    const ws = await desk.workstation();
    expect((await asWorkstation(ws, START, { mode: "SIGN_IN", minutes: 5 })).startLoginChallenge).toMatchObject({ __typename: "ElevationRefusedError", code: "ELEVATION_NOT_CONFIGURED" });
    await api.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename } }`, {
      input: { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin", maxSessionMinutes: 10, minimumAgentVersion: "1.2.0" },
    }, { token: a.token });
    expect((await asWorkstation(ws, START, { mode: "SIGN_IN", minutes: 5 })).startLoginChallenge).toMatchObject({ code: "AGENT_OUTDATED" });
    await api.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename } }`, { input: { tenantId: customer.id, minimumAgentVersion: "1.0.0" } }, { token: a.token });
    expect((await asWorkstation(ws, START, { mode: "SIGN_IN", minutes: 11 })).startLoginChallenge).toMatchObject({ code: "MINUTES_NOT_ALLOWED" });
    expect((await asWorkstation(ws, START, { mode: "SIGN_IN", minutes: 481 })).startLoginChallenge).toMatchObject({ code: "VALIDATION" });
    expect((await asWorkstation(ws, START, { mode: "SIGN_IN", minutes: 10 })).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");

    const token = await desk.installToken();
    const pending = (await import("./workstation-keys.ts")).WorkstationKeys.generate();
    const { enrollWorkstation } = await api.gql(`mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { ... on WorkstationPayload { workstation { id } } } }`, {
      input: { installToken: token.secret, hostname: "pending", os: "Windows 11", publicKey: pending.publicKey },
    });
    pending.workstationId = enrollWorkstation.workstation.id;
    expect((await asWorkstation(pending, START, { mode: "SIGN_IN", minutes: 5 })).startLoginChallenge).toMatchObject({ code: "WORKSTATION_PENDING" });
    // Nobody but a workstation starts one.
    const { body } = await api.request(START, { mode: "SIGN_IN", minutes: 5 }, { token: a.token });
    expect(body.data?.startLoginChallenge).toMatchObject({ code: "UNAUTHENTICATED" });
  }, 60_000);

  it("answers NOT_FOUND (null for a list), never an internal error, to malformed ids", async () => {
    for (const id of ["not-a-uuid", "", "1; DROP TABLE \"User\"", "x".repeat(2000)]) {
      expect((await api.gql(END, { input: { id } }, { token: a.token })).endTechnicianSession, id).toMatchObject({ code: "NOT_FOUND" });
      expect((await asWorkstation(wsA1, ACK, { id })).acknowledgeWorkstationCommand, id).toMatchObject({ code: "NOT_FOUND" });
      const report = await asWorkstation(wsA1, REPORT, { input: { sessionId: id, event: "STARTED", at: new Date().toISOString() } });
      expect(report.reportTechnicianSession, id).toMatchObject({ code: "NOT_FOUND" });
      const redeem = await asWorkstation(wsA1, REDEEM, { input: { challengeId: id, redeemSecret: "secret" } });
      expect(redeem.redeemElevation, id).toMatchObject({ code: "NOT_FOUND" });
      const sessions = await api.request(SESSIONS, { t: id }, { token: a.token });
      expect(sessions.body.errors, id).toBeUndefined();
      expect(sessions.body.data, id).toEqual({ technicianSessions: null });
    }
  }, 60_000);

  it("signed out, the elevation mutations answer UNAUTHENTICATED", async () => {
    const { body } = await api.request(END, { input: { id: randomUUID() } });
    expect(body.data?.endTechnicianSession).toMatchObject({ code: "UNAUTHENTICATED" });
    const redeem = await api.request(REDEEM, { input: { challengeId: randomUUID(), redeemSecret: "secret" } });
    expect(redeem.body.data?.redeemElevation).toMatchObject({ code: "UNAUTHENTICATED" });
    const ack = await api.request(ACK, { id: randomUUID() });
    expect(ack.body.data?.acknowledgeWorkstationCommand).toMatchObject({ code: "UNAUTHENTICATED" });
  });
});
