// The agent's state file, its credential as the API checks it, and applying an
// instruction while the API is out of reach (the outcome is kept and sent
// later). Nothing here needs a running API; the end-to-end tests against the
// real one are in api/test/desktop-agent-cli.test.ts.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sealPassword } from "../../../schema/src/security/account-sealing.ts";
import { verifyWorkstationCredential } from "../../../schema/src/security/workstation-credential.ts";
import { DesktopAgent, findLocalAccount, readStateFile, verifyLocalPassword, writeStateFile, type AgentState, type KeyFamily } from "../src/index.ts";

// fetch refuses port 1 outright ("bad port"): every request fails at once, as
// with the API down, without waiting for a timeout.
const UNREACHABLE_API = "http://127.0.0.1:1/graphql";
const PASSWORD = "orbit-lantern-cascade-42";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "latchkey-desktop-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** An agent as if enrolled, saved at `path`. */
async function enrolledAgent(family: KeyFamily, path = join(dir, "agent.json")) {
  const state: AgentState = {
    ...(await DesktopAgent.create({ apiUrl: UNREACHABLE_API, keys: family })).toState(),
    workstation: { id: randomUUID(), name: "FRONT-DESK-01", hostname: "front-desk-01", os: "Windows 11", status: "APPROVED", enrolledAt: new Date().toISOString() },
  };
  await writeStateFile(path, state);
  return { agent: await DesktopAgent.load(path), state, path };
}

describe("state file", () => {
  it.each(["ed25519", "p256"] as const)("round-trips a %s-family agent through a 0600 file", async (family) => {
    const { state, path } = await enrolledAgent(family, join(dir, "nested", "agent.json"));
    expect(await mode(path)).toBe(0o600);
    expect(await readStateFile(path)).toEqual(state);
    const loaded = await DesktopAgent.load(path, { apiUrl: "http://override.test/graphql" });
    expect(loaded.toState()).toEqual(state);
    expect(loaded.apiUrl).toBe("http://override.test/graphql");
    expect(state.signingKey.algorithm).toBe(family === "ed25519" ? "ED25519" : "P256");
    expect(state.keyAgreementKey.algorithm).toBe(family === "ed25519" ? "X25519" : "P256");
    expect(state.signingKey.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it("keeps 0600 under a permissive umask, tightens an existing file, and leaves no temporary file", async () => {
    const path = join(dir, "agent.json");
    await writeFile(path, "{}", { mode: 0o644 });
    const previous = process.umask(0);
    try {
      await writeStateFile(path, (await DesktopAgent.create()).toState());
    } finally {
      process.umask(previous);
    }
    expect(await mode(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(["agent.json"]);
  });

  it("names a missing file NO_STATE and a damaged one INVALID_STATE", async () => {
    await expect(readStateFile(join(dir, "missing.json"))).rejects.toMatchObject({ code: "NO_STATE" });
    const path = join(dir, "bad.json");
    await writeFile(path, "not json");
    await expect(readStateFile(path)).rejects.toMatchObject({ code: "INVALID_STATE" });
    const state = (await DesktopAgent.create()).toState();
    await writeFile(path, JSON.stringify({ ...state, signingKey: { ...state.signingKey, algorithm: "RSA" } }));
    await expect(readStateFile(path)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringMatching(/unknown algorithm "RSA"/) });
  });

  it("refuses a private key that is not the one whose public half the API knows", async () => {
    const one = (await DesktopAgent.create()).toState();
    const other = (await DesktopAgent.create()).toState();
    await expect(DesktopAgent.fromState({ ...one, signingKey: { ...one.signingKey, privateKey: other.signingKey.privateKey } })).rejects.toMatchObject({ code: "INVALID_STATE" });
  });
});

describe("workstation credential", () => {
  it.each(["ed25519", "p256"] as const)("is a fresh %s-family JWT the API's verifier accepts", async (family) => {
    const { agent, state } = await enrolledAgent(family);
    const id = state.workstation!.id;
    const lookup = async (workstationId: string) =>
      workstationId === id ? { signingAlgorithm: state.signingKey.algorithm, signingPublicKey: state.signingKey.publicKey } : null;
    const [first, second] = [await agent.credential(), await agent.credential()];
    expect(await verifyWorkstationCredential(first, lookup)).toMatchObject({ workstationId: id, jti: decodeJwt(first).jti });
    expect(decodeProtectedHeader(first)).toEqual({ alg: family === "ed25519" ? "EdDSA" : "ES256", typ: "JWT" });
    const claims = decodeJwt(first);
    expect(claims).toMatchObject({ iss: id, sub: id, aud: "latchkey" });
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(Buffer.from(claims.jti!, "base64url")).toHaveLength(16);
    // A new credential per request: never the same token twice.
    expect(decodeJwt(second).jti).not.toBe(claims.jti);
  });

  it("is not minted before enrollment", async () => {
    await expect((await DesktopAgent.create()).credential()).rejects.toMatchObject({ code: "NOT_ENROLLED" });
  });
});

describe("applying an instruction while the API is unreachable", () => {
  async function instructionFor(state: AgentState, expiresAt = new Date(Date.now() + 120_000), username = "ada") {
    const attemptId = randomUUID();
    const workstationId = state.workstation!.id;
    const password = await sealPassword({
      keyAgreementAlgorithm: state.keyAgreementKey.algorithm,
      keyAgreementPublicKey: state.keyAgreementKey.publicKey,
      workstationId,
      attemptId,
      expiresAt,
      password: PASSWORD,
    });
    return {
      action: "ENSURE_LOCAL_ACCOUNT",
      attemptId,
      workstationId,
      username,
      fullName: "Ada Lovelace",
      expiresAt: expiresAt.toISOString(),
      passwordSource: "SEALED" as const,
      password,
    };
  }

  it("creates the account, saves it, and keeps the report to send later; the password is nowhere in the file", async () => {
    const { agent, state, path } = await enrolledAgent("ed25519");
    const instruction = await instructionFor(state);
    const result = await agent.applyInstruction(instruction, "PASSWORD");
    expect(result).toMatchObject({ outcome: "CREATED", password: PASSWORD, loginEvent: null });
    expect(result.instruction).not.toHaveProperty("password");

    const saved = await readStateFile(path);
    expect(verifyLocalPassword(findLocalAccount(saved.localAccounts, "ada")!, PASSWORD)).toBe(true);
    expect(saved.pendingReports).toEqual([{ attemptId: instruction.attemptId, outcome: "CREATED", detail: 'created local account "ada"' }]);
    expect(await readFile(path, "utf8")).not.toContain(PASSWORD);
  });

  it.each([
    ["Admіnistrator", /looks like the reserved Windows account name "Administrator"/],
    ["ada\u200B", /^"ada\\u\{200B\}": Invisible/],
    ["COM¹", /device names/],
  ])("refuses an instruction for %j, which the directory would not have let in, creating nothing", async (username, detail) => {
    const { agent, state, path } = await enrolledAgent("ed25519");
    const before = (await readStateFile(path)).localAccounts;
    const instruction = await instructionFor(state, undefined, username);
    const result = await agent.applyInstruction(instruction, "PASSWORD");
    expect(result).toMatchObject({ outcome: "REFUSED", detail: expect.stringMatching(detail) });
    const saved = await readStateFile(path);
    expect(saved.localAccounts).toEqual(before);
    expect(saved.pendingReports).toEqual([{ attemptId: instruction.attemptId, outcome: "REFUSED", detail: result.detail }]);
  });

  it("reports an expired instruction as REFUSED and does not touch the accounts", async () => {
    const { agent, state, path } = await enrolledAgent("p256");
    const instruction = await instructionFor(state, new Date(Date.now() - 1_000));
    await expect(agent.applyInstruction(instruction, "QR")).rejects.toMatchObject({ code: "INSTRUCTION_EXPIRED" });
    const saved = await readStateFile(path);
    expect(findLocalAccount(saved.localAccounts, "ada")).toBeUndefined();
    expect(saved.pendingReports).toEqual([{ attemptId: instruction.attemptId, outcome: "REFUSED", detail: expect.stringMatching(/^INSTRUCTION_EXPIRED: /) }]);
  });
});
