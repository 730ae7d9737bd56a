import { createPublicKey, verify } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Authenticator, challengeSigningBytes, DeviceKey, readStateFile, writeStateFile, type AuthenticatorState } from "../src/index.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "latchkey-mobile-state-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const mode = async (path: string) => (await stat(path)).mode & 0o777;

async function enrolledState(algorithm: "P256" | "ED25519"): Promise<AuthenticatorState> {
  const state = (await Authenticator.create({ apiUrl: "https://api.example/graphql", algorithm })).toState();
  return {
    ...state,
    deviceId: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
    deviceToken: "device-token-secret",
    deviceName: "Test phone",
    email: "ada@example.com",
    userId: "11111111-2222-4333-8444-555555555555",
    tenant: { id: "7c1b6f0e-3f1a-4c2d-9e5b-0a1b2c3d4e5f", slug: "acme-msp", displayName: "Acme" },
  };
}

describe("state file", () => {
  it.each(["P256", "ED25519"] as const)("round-trips a %s authenticator through a 0600 file", async (algorithm) => {
    const state = await enrolledState(algorithm);
    const path = join(dir, "nested", "authenticator.json");
    await (await Authenticator.fromState(state)).save(path);

    expect(await mode(path)).toBe(0o600);
    expect(await readStateFile(path)).toEqual(state);
    const loaded = await Authenticator.load(path);
    expect(loaded.toState()).toEqual(state);
    expect(loaded.apiUrl).toBe("https://api.example/graphql");
    expect(loaded.deviceId).toBe(state.deviceId);
    expect(loaded.isEnrolled).toBe(true);

    // The loaded private key still matches the public key the API holds.
    const data = challengeSigningBytes({ tenantId: "t", challengeId: "c", qrSecret: "s", decision: "APPROVE", deviceId: state.deviceId! });
    const key = await DeviceKey.import(algorithm, state.privateKey, state.publicKey);
    const publicKey = createPublicKey({ key: Buffer.from(state.publicKey, "base64"), format: "der", type: "spki" });
    const signature = Buffer.from(await key.sign(data), "base64url");
    expect(algorithm === "P256" ? verify("sha256", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature) : verify(null, data, publicKey, signature)).toBe(true);
  });

  it("keeps the private key as PKCS8 and the public key as SPKI, both base64", async () => {
    const state = await enrolledState("P256");
    const path = join(dir, "authenticator.json");
    await writeStateFile(path, state);
    const json = JSON.parse(await readFile(path, "utf8"));
    expect(json).toMatchObject({ version: 1, algorithm: "P256", deviceToken: "device-token-secret" });
    expect(createPublicKey({ key: Buffer.from(json.publicKey, "base64"), format: "der", type: "spki" }).asymmetricKeyType).toBe("ec");
    expect(Buffer.from(json.privateKey, "base64").length).toBeGreaterThan(60);
  });

  it("tightens an existing world-readable file to 0600 and leaves no temporary file behind", async () => {
    const path = join(dir, "authenticator.json");
    await writeFile(path, "{}", { mode: 0o644 });
    await writeStateFile(path, await enrolledState("P256"));
    expect(await mode(path)).toBe(0o600);
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(dir)).toEqual(["authenticator.json"]);
  });

  it("keeps the 0600 mode under a permissive umask", async () => {
    const previous = process.umask(0);
    try {
      const path = join(dir, "authenticator.json");
      await writeStateFile(path, await enrolledState("ED25519"));
      expect(await mode(path)).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it("saves enrollment changes to the path it was loaded from", async () => {
    const path = join(dir, "authenticator.json");
    const created = await Authenticator.create({ statePath: path });
    await created.save();
    expect((await readStateFile(path)).deviceToken).toBeNull();
    expect((await Authenticator.load(path, { apiUrl: "http://override/graphql" })).apiUrl).toBe("http://override/graphql");
  });

  it("names a missing file NO_STATE and a damaged one INVALID_STATE", async () => {
    await expect(readStateFile(join(dir, "missing.json"))).rejects.toMatchObject({ code: "NO_STATE" });
    const path = join(dir, "bad.json");
    await writeFile(path, "not json");
    await expect(readStateFile(path)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await writeFile(path, JSON.stringify({ version: 1, apiUrl: "x", algorithm: "RSA", publicKey: "a", privateKey: "b" }));
    await expect(readStateFile(path)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringMatching(/unknown algorithm "RSA"/) });
    await writeFile(path, JSON.stringify({ version: 2 }));
    await expect(readStateFile(path)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringMatching(/unsupported version 2/) });
  });
});
