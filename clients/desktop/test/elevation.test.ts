import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  addLocalAccount,
  AgentError,
  defaultLocalAccountStore,
  elevationSigningBytes,
  ensureElevationAccount,
  findLocalAccount,
  generateAccountPassword,
  verifyElevationInstruction,
  verifyLocalPassword,
  type ElevationExpectation,
  type ElevationInstruction,
} from "../src/index.ts";
import { emptyElevationState } from "../src/elevation-state.ts";

describe("generated account passwords", () => {
  it("have the customer's length and every class of its character set", () => {
    for (let i = 0; i < 50; i += 1) {
      const symbols = generateAccountPassword(24, "ALPHANUMERIC_SYMBOLS");
      expect(symbols).toHaveLength(24);
      for (const pattern of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/]) expect(symbols).toMatch(pattern);
      const plain = generateAccountPassword(16, "ALPHANUMERIC");
      expect(plain).toMatch(/^[A-Za-z0-9]{16}$/);
    }
    expect(new Set(Array.from({ length: 100 }, () => generateAccountPassword(20, "ALPHANUMERIC"))).size).toBe(100);
  });
});

describe("the agent's own admin accounts", () => {
  const now = new Date("2026-01-02T03:04:05Z");

  it("creates the account as a local administrator, records it, and later only changes its password", () => {
    const first = ensureElevationAccount(defaultLocalAccountStore(now), emptyElevationState(), { name: "LatchkeyAdmin", builtInAdministrator: false, password: "first-Password-1" }, now);
    expect(first.decision.outcome).toBe("CREATED");
    expect(findLocalAccount(first.store, "LatchkeyAdmin")!.groups).toEqual(["Administrators"]);
    expect(first.elevation.createdAccounts.map((account) => account.name)).toEqual(["LatchkeyAdmin"]);
    const again = ensureElevationAccount(first.store, first.elevation, { name: "latchkeyadmin", builtInAdministrator: false, password: "second-Password-2" }, now);
    expect(again.decision.outcome).toBe("UPDATED");
    expect(verifyLocalPassword(findLocalAccount(again.store, "LatchkeyAdmin")!, "second-Password-2")).toBe(true);
    expect(verifyLocalPassword(findLocalAccount(again.store, "LatchkeyAdmin")!, "first-Password-1")).toBe(false);
  });

  it("refuses an existing account it did not create: no Administrators membership, no new password", () => {
    const store = addLocalAccount(defaultLocalAccountStore(now), { name: "helpdesk", password: "theirs-Password-1" }, now);
    const result = ensureElevationAccount(store, emptyElevationState(), { name: "HELPDESK", builtInAdministrator: false, password: "ours-Password-2" }, now);
    expect(result.decision.outcome).toBe("REFUSED");
    expect(result.store).toBe(store);
    expect(findLocalAccount(result.store, "helpdesk")!.groups).toEqual(["Users"]);
  });

  it("manages the built-in Administrator only when the customer allows it", () => {
    const store = defaultLocalAccountStore(now);
    expect(ensureElevationAccount(store, emptyElevationState(), { name: "Administrator", builtInAdministrator: false, password: "Password-12345" }, now).decision.outcome).toBe("REFUSED");
    const allowed = ensureElevationAccount(store, emptyElevationState(), { name: "Administrator", builtInAdministrator: true, password: "Password-12345" }, now);
    expect(allowed.decision.outcome).toBe("UPDATED");
    expect(verifyLocalPassword(findLocalAccount(allowed.store, "Administrator")!, "Password-12345")).toBe(true);
  });

  it("refuses a new account that looks like an existing one", () => {
    const store = addLocalAccount(defaultLocalAccountStore(now), { name: "opsadmin" }, now);
    expect(ensureElevationAccount(store, emptyElevationState(), { name: "\u043epsadmin", builtInAdministrator: false, password: "Password-12345" }, now).decision.outcome).toBe("REFUSED");
  });
});

describe("verifying an elevation instruction", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const qrSecret = "q".repeat(43);
  const expected: ElevationExpectation = {
    tenantId: "11111111-1111-4111-8111-111111111111",
    workstationId: "22222222-2222-4222-8222-222222222222",
    challengeId: "33333333-3333-4333-8333-333333333333",
    qrSecret,
    mode: "IN_SESSION",
    minutes: 15,
    account: "LatchkeyAdmin",
    accountPrefix: null,
  };
  const secretHash = createHash("sha256").update(qrSecret).digest("base64url");
  const technicianId = "44444444-4444-4444-8444-444444444444";
  const deviceId = "55555555-5555-4555-8555-555555555555";
  const signature = sign("sha256", elevationSigningBytes({ ...expected, secretHash, account: "LatchkeyAdmin", technicianId, deviceId }), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
  const instruction: ElevationInstruction = {
    sessionId: "66666666-6666-4666-8666-666666666666",
    challengeId: expected.challengeId,
    tenantId: expected.tenantId,
    workstationId: expected.workstationId,
    mode: "IN_SESSION",
    accountName: "LatchkeyAdmin",
    accountKind: "SHARED",
    builtInAdministrator: false,
    minutes: 15,
    technicianId,
    technicianName: "Tess Tech <tess@example.test>",
    deviceId,
    deviceAlgorithm: "P256",
    devicePublicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    signature,
    secretHash,
    passwordLength: 24,
    passwordCharacters: "ALPHANUMERIC_SYMBOLS",
    restartGraceMinutes: null,
    endsAt: "2026-01-02T03:19:05.000Z",
  };

  it("accepts what the phone signed", () => {
    expect(() => verifyElevationInstruction(instruction, expected)).not.toThrow();
  });

  it.each([
    ["another technician", { technicianId: "77777777-7777-4777-8777-777777777777" }],
    ["another phone", { deviceId: "77777777-7777-4777-8777-777777777777" }],
    ["more minutes", { minutes: 480 }],
    ["another mode", { mode: "SIGN_IN" as const }],
    ["another account", { accountName: "Administrator" }],
    ["another workstation", { workstationId: "77777777-7777-4777-8777-777777777777" }],
    ["another challenge", { challengeId: "77777777-7777-4777-8777-777777777777" }],
    ["another code", { secretHash: "x".repeat(43) }],
    ["another key", { devicePublicKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "der", type: "spki" }).toString("base64") }],
  ])("refuses %s", (_what, change) => {
    expect(() => verifyElevationInstruction({ ...instruction, ...change }, expected)).toThrow(AgentError);
  });

  it("takes a named account only as <prefix><n>", () => {
    const named = { ...expected, account: null, accountPrefix: "lk-tech" };
    const sign7 = (account: string) =>
      sign("sha256", elevationSigningBytes({ ...expected, secretHash, account, technicianId, deviceId }), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
    expect(() => verifyElevationInstruction({ ...instruction, accountName: "lk-tech7", signature: sign7("lk-tech7") }, named)).not.toThrow();
    expect(() => verifyElevationInstruction({ ...instruction, accountName: "Administrator", signature: sign7("Administrator") }, named)).toThrow(/named technician account/);
  });
});

describe("the workstation's clock", () => {
  it("ends an expired session offline, rotates its password, and restarts after the grace period", async () => {
    const { DesktopAgent, ElevationAgent } = await import("../src/index.ts");
    const { openLogonSession } = await import("../src/elevation-state.ts");
    const start = new Date("2026-01-02T03:00:00Z");
    const agent = await DesktopAgent.create({ apiUrl: "http://127.0.0.1:9/graphql" });
    const created = ensureElevationAccount(agent.localAccounts, emptyElevationState(), { name: "LatchkeyAdmin", builtInAdministrator: false, password: "Session-Password-1" }, start);
    const opened = openLogonSession(created.elevation, { user: "LatchkeyAdmin", kind: "CONSOLE", parentId: null, technicianSessionId: "s1", images: ["explorer.exe"] }, start);
    await agent.updateState((state) => ({
      ...state,
      localAccounts: created.store,
      elevation: {
        ...opened.elevation,
        sessions: [
          {
            id: "s1",
            account: "LatchkeyAdmin",
            mode: "SIGN_IN",
            minutes: 10,
            technicianId: "t",
            technicianName: "Tess",
            logonSessionId: opened.logonSession.id,
            startedAt: start.toISOString(),
            endsAt: new Date(start.getTime() + 10 * 60_000).toISOString(),
            restartGraceMinutes: 5,
            passwordLength: 24,
            passwordCharacters: "ALPHANUMERIC_SYMBOLS",
            endedAt: null,
            endReason: null,
          },
        ],
      },
    }));
    const elevation = new ElevationAgent(agent);
    expect(await elevation.enforce(new Date(start.getTime() + 9 * 60_000))).toEqual([]);
    const ended = await elevation.enforce(new Date(start.getTime() + 10 * 60_000));
    expect(ended.map((session) => session.endReason)).toEqual(["EXPIRED"]);
    expect(elevation.state.logonSessions).toEqual([]);
    expect(verifyLocalPassword(findLocalAccount(agent.localAccounts, "LatchkeyAdmin")!, "Session-Password-1")).toBe(false);
    expect(elevation.state.restartDueAt).toBe(new Date(start.getTime() + 15 * 60_000).toISOString());
    await elevation.enforce(new Date(start.getTime() + 14 * 60_000));
    expect(elevation.state.restarts).toEqual([]);
    await elevation.enforce(new Date(start.getTime() + 15 * 60_000));
    expect(elevation.state.restarts).toEqual([new Date(start.getTime() + 15 * 60_000).toISOString()]);
    expect(elevation.state.restartDueAt).toBeNull();
  });
});
