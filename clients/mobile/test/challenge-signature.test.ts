// The canonical bytes are a contract with the server: these tests pin them to a
// literal vector (hash computed with openssl, not with our code) and check that
// signatures verify with node:crypto exactly as the server verifies them.
import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { challengeSigningBytes, DeviceKey, type ChallengeSigningInput } from "../src/index.ts";

const INPUT: ChallengeSigningInput = {
  tenantId: "7c1b6f0e-3f1a-4c2d-9e5b-0a1b2c3d4e5f",
  challengeId: "0b8e4c1a-9d2f-4e3b-8a7c-6d5e4f3a2b1c",
  qrSecret: "q8Zt3w0mYkH2pV9xR4sLbA",
  decision: "APPROVE",
  deviceId: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
};

// printf '%s' q8Zt3w0mYkH2pV9xR4sLbA | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '='
const SECRET_HASH = "CQvlycG1CRgBW7tfPDAE0vixSsYChkbpcVelqfYYVaU";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The server's check, as specified: node:crypto on the SPKI DER public key. */
function serverVerifies(algorithm: "P256" | "ED25519", publicKeySpkiBase64: string, data: Uint8Array, signatureBase64url: string): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeySpkiBase64, "base64"), format: "der", type: "spki" });
  const signature = Buffer.from(signatureBase64url, "base64url");
  return algorithm === "P256" ? verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature) : verify(null, data, key, signature);
}

describe("challengeSigningBytes", () => {
  it("encodes the six lines exactly, joined by \\n, without a trailing newline", () => {
    expect(text(challengeSigningBytes(INPUT))).toBe(
      [
        "latchkey-challenge-v1",
        "7c1b6f0e-3f1a-4c2d-9e5b-0a1b2c3d4e5f",
        "0b8e4c1a-9d2f-4e3b-8a7c-6d5e4f3a2b1c",
        SECRET_HASH,
        "APPROVE",
        "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
      ].join("\n"),
    );
  });

  it("hashes the secret as UTF-8 and writes the hash as unpadded base64url", () => {
    // SHA-256("abc") is a published test vector whose plain base64 has '+', '/' and '=' padding.
    const lines = text(challengeSigningBytes({ ...INPUT, qrSecret: "abc" })).split("\n");
    expect(lines[3]).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    expect(lines[3]).not.toMatch(/[+/=]/);
  });

  it("is UTF-8 bytes", () => {
    const bytes = challengeSigningBytes({ ...INPUT, deviceId: "appareil-é" });
    expect(Buffer.from(bytes).subarray(-2)).toEqual(Buffer.from([0xc3, 0xa9]));
  });

  it("gives each decision different bytes", () => {
    const all = (["APPROVE", "DENY", "ONBOARD"] as const).map((decision) => text(challengeSigningBytes({ ...INPUT, decision })));
    expect(new Set(all).size).toBe(3);
    expect(all[1]!.split("\n")[4]).toBe("DENY");
    expect(all[2]!.split("\n")[4]).toBe("ONBOARD");
  });

  it("refuses inputs that would make the encoding ambiguous", () => {
    expect(() => challengeSigningBytes({ ...INPUT, tenantId: "a\nb" })).toThrow(/tenantId must not contain a line break/);
    expect(() => challengeSigningBytes({ ...INPUT, deviceId: "a\rb" })).toThrow(/line break/);
    expect(() => challengeSigningBytes({ ...INPUT, challengeId: "" })).toThrow(/challengeId is required/);
    expect(() => challengeSigningBytes({ ...INPUT, decision: "MAYBE" as never })).toThrow(/decision must be one of APPROVE, DENY, ONBOARD/);
  });
});

describe.each(["P256", "ED25519"] as const)("%s device key", (algorithm) => {
  it("exports an SPKI DER public key node:crypto reads as the right curve", async () => {
    const key = await DeviceKey.generate(algorithm);
    const publicKey = createPublicKey({ key: Buffer.from(key.publicKey, "base64"), format: "der", type: "spki" });
    if (algorithm === "P256") {
      expect(publicKey.asymmetricKeyType).toBe("ec");
      expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    } else {
      expect(publicKey.asymmetricKeyType).toBe("ed25519");
    }
  });

  it("signs the canonical bytes so that the server's node:crypto check accepts them", async () => {
    const key = await DeviceKey.generate(algorithm);
    const data = challengeSigningBytes(INPUT);
    const signature = await key.sign(data);
    expect(signature).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
    expect(Buffer.from(signature, "base64url")).toHaveLength(64); // P1363 r||s, or raw Ed25519
    expect(serverVerifies(algorithm, key.publicKey, data, signature)).toBe(true);
  });

  it("has its signature refused for any other decision, challenge, secret, tenant or device", async () => {
    const key = await DeviceKey.generate(algorithm);
    const signature = await key.sign(challengeSigningBytes(INPUT));
    const others: ChallengeSigningInput[] = [
      { ...INPUT, decision: "DENY" },
      { ...INPUT, challengeId: "0b8e4c1a-9d2f-4e3b-8a7c-6d5e4f3a2b1d" },
      { ...INPUT, qrSecret: `${INPUT.qrSecret}x` },
      { ...INPUT, tenantId: "7c1b6f0e-3f1a-4c2d-9e5b-0a1b2c3d4e50" },
      { ...INPUT, deviceId: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c10" },
    ];
    for (const other of others) expect(serverVerifies(algorithm, key.publicKey, challengeSigningBytes(other), signature)).toBe(false);
  });

  it("is refused under another device's public key", async () => {
    const [mine, theirs] = [await DeviceKey.generate(algorithm), await DeviceKey.generate(algorithm)];
    const data = challengeSigningBytes(INPUT);
    expect(serverVerifies(algorithm, theirs.publicKey, data, await mine.sign(data))).toBe(false);
  });

  it("still signs verifiably after a PKCS8 export and import (the state file round trip)", async () => {
    const original = await DeviceKey.generate(algorithm);
    const restored = await DeviceKey.import(algorithm, original.privateKeyPkcs8, original.publicKey);
    const data = challengeSigningBytes({ ...INPUT, decision: "ONBOARD" });
    expect(serverVerifies(algorithm, original.publicKey, data, await restored.sign(data))).toBe(true);
  });
});

it("refuses a private key of the wrong algorithm", async () => {
  const ed = await DeviceKey.generate("ED25519");
  await expect(DeviceKey.import("P256", ed.privateKeyPkcs8, ed.publicKey)).rejects.toMatchObject({ code: "INVALID_STATE" });
});
