// The sealed password in an account instruction, opened the way the desktop
// agent opens it: @hpke/core with the workstation's own private key (PKCS8,
// imported through WebCrypto) and associated data rebuilt from the fields.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { accountAssociatedData, sealPassword, type SealedSecret } from "../src/security/account-sealing.ts";
import type { KeyAgreementAlgorithm } from "../src/security/workstation-credential.ts";

type KeyAgreementPair = { algorithm: KeyAgreementAlgorithm; publicKey: string; privateKeyPkcs8: Buffer };

function keyAgreementPair(algorithm: KeyAgreementAlgorithm): KeyAgreementPair {
  const { publicKey, privateKey } = algorithm === "X25519" ? generateKeyPairSync("x25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    algorithm,
    publicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
    privateKeyPkcs8: privateKey.export({ format: "der", type: "pkcs8" }),
  };
}

/**
 * A copy in an ArrayBuffer of its own: a small Buffer is a view into Node's
 * shared pool, and @hpke/core reads some inputs through `.buffer`.
 */
const fromBase64url = (text: string) => new Uint8Array(Buffer.from(text, "base64url"));

/** Opens a sealed secret as the agent does; throws when it does not open. */
async function open(pair: KeyAgreementPair, sealed: SealedSecret, aad: string): Promise<string> {
  const kem = pair.algorithm === "X25519" ? new DhkemX25519HkdfSha256() : new DhkemP256HkdfSha256();
  const suite = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const params = pair.algorithm === "X25519" ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  // Extractable: @hpke/core 1.9 derives the recipient's public key by exporting
  // it, and its fallback for a non-extractable P-256 key gets the point's sign
  // wrong half the time, so such a box would fail to open about once in two.
  const recipientKey = await crypto.subtle.importKey("pkcs8", new Uint8Array(pair.privateKeyPkcs8), params, true, ["deriveBits"]);
  const recipient = await suite.createRecipientContext({
    recipientKey,
    enc: fromBase64url(sealed.enc).buffer,
    info: new TextEncoder().encode("latchkey account instruction v1"),
  });
  const plaintext = await recipient.open(fromBase64url(sealed.ciphertext), new TextEncoder().encode(aad));
  return new TextDecoder().decode(plaintext);
}

function attempt(pair: KeyAgreementPair, password = "Zebra-Quartz-Lantern-7 ü") {
  return {
    keyAgreementAlgorithm: pair.algorithm,
    keyAgreementPublicKey: pair.publicKey,
    workstationId: randomUUID(),
    attemptId: randomUUID(),
    expiresAt: new Date(Date.now() + 120_000),
    password,
  };
}

describe("sealPassword", () => {
  it.each([
    ["X25519", "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM", 32],
    ["P256", "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM", 65],
  ] as const)("seals to a %s key; the matching private key opens it", async (algorithm, suite, encLength) => {
    const pair = keyAgreementPair(algorithm);
    const input = attempt(pair);
    const sealed = await sealPassword(input);
    expect(sealed.suite).toBe(suite);
    // base64url without padding on the wire.
    expect(sealed.enc).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed.ciphertext).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed.enc, "base64url")).toHaveLength(encLength);
    // The password plus the 16-byte GCM tag, nothing in clear.
    expect(Buffer.from(sealed.ciphertext, "base64url")).toHaveLength(Buffer.byteLength(input.password) + 16);
    expect(Buffer.from(sealed.ciphertext, "base64url").toString("latin1")).not.toContain("Lantern");

    const aad = `latchkey-account-v1|${input.workstationId}|${input.attemptId}|${input.expiresAt.toISOString()}`;
    expect(await open(pair, sealed, aad)).toBe(input.password);
  });

  it.each(["X25519", "P256"] as const)("opens every time with %s, whatever the keys' points", async (algorithm) => {
    // A point-encoding mistake shows only for some keys (e.g. one sign of y):
    // many fresh key pairs catch what one would miss.
    for (let round = 0; round < 32; round += 1) {
      const pair = keyAgreementPair(algorithm);
      const input = attempt(pair, `password-${round}`);
      expect(await open(pair, await sealPassword(input), accountAssociatedData(input))).toBe(input.password);
    }
  });

  it("seals afresh each time: a new ephemeral key per box", async () => {
    const pair = keyAgreementPair("X25519");
    const input = attempt(pair);
    const [first, second] = [await sealPassword(input), await sealPassword(input)];
    expect(first.enc).not.toBe(second.enc);
    expect(first.ciphertext).not.toBe(second.ciphertext);
  });

  it.each(["X25519", "P256"] as const)("does not open with another workstation's %s key", async (algorithm) => {
    const pair = keyAgreementPair(algorithm);
    const other = keyAgreementPair(algorithm);
    const input = attempt(pair);
    const sealed = await sealPassword(input);
    await expect(open(other, sealed, accountAssociatedData(input))).rejects.toThrow();
  });

  it.each(["X25519", "P256"] as const)("does not open for another attempt, workstation or expiry (%s)", async (algorithm) => {
    const pair = keyAgreementPair(algorithm);
    const input = attempt(pair);
    const sealed = await sealPassword(input);
    await expect(open(pair, sealed, accountAssociatedData(input))).resolves.toBe(input.password);
    await expect(open(pair, sealed, accountAssociatedData({ ...input, attemptId: randomUUID() }))).rejects.toThrow();
    await expect(open(pair, sealed, accountAssociatedData({ ...input, workstationId: randomUUID() }))).rejects.toThrow();
    await expect(open(pair, sealed, accountAssociatedData({ ...input, expiresAt: new Date(input.expiresAt.getTime() + 3_600_000) }))).rejects.toThrow();
  });

  it("does not open when the ciphertext was altered", async () => {
    const pair = keyAgreementPair("X25519");
    const input = attempt(pair);
    const sealed = await sealPassword(input);
    const bytes = Buffer.from(sealed.ciphertext, "base64url");
    bytes[0]! ^= 1;
    await expect(open(pair, { ...sealed, ciphertext: bytes.toString("base64url") }, accountAssociatedData(input))).rejects.toThrow();
  });

  it("throws when the enrolled key is not the algorithm named", async () => {
    const x25519 = keyAgreementPair("X25519");
    await expect(sealPassword({ ...attempt(x25519), keyAgreementAlgorithm: "P256" })).rejects.toThrow();
    await expect(sealPassword({ ...attempt(x25519), keyAgreementPublicKey: "bm90IGEga2V5" })).rejects.toThrow();
  });
});

describe("accountAssociatedData", () => {
  it("is the purpose, workstation, attempt and expiry as the instruction carries it", () => {
    const expiresAt = new Date("2030-01-02T03:04:05.678Z");
    const expected = "latchkey-account-v1|ws-1|attempt-1|2030-01-02T03:04:05.678Z";
    expect(accountAssociatedData({ workstationId: "ws-1", attemptId: "attempt-1", expiresAt })).toBe(expected);
    expect(accountAssociatedData({ workstationId: "ws-1", attemptId: "attempt-1", expiresAt: "2030-01-02T03:04:05.678Z" })).toBe(expected);
  });

  it("refuses parts that would make two attempts share one string", () => {
    const expiresAt = new Date();
    expect(() => accountAssociatedData({ workstationId: "a|b", attemptId: "c", expiresAt })).toThrow();
    expect(() => accountAssociatedData({ workstationId: "a", attemptId: "", expiresAt })).toThrow();
  });
});
