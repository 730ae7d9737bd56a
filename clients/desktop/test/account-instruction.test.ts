// Opening the account instruction's sealed password as the workstation does.
// Boxes are sealed here with @hpke/core directly, following the contract
// (info, associated data, encodings) rather than the server's code, and once
// with the server's own sealPassword to prove the two sides agree.
import { randomUUID } from "node:crypto";
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { sealDelivery } from "@latchkey/passwords";
import { sealPassword } from "../../../schema/src/security/account-sealing.ts";
import {
  AgentError,
  generateWorkstationKeys,
  keyAgreementPrivateKey,
  openAccountInstruction,
  openPhoneDelivery,
  type AccountInstruction,
  type KeyFamily,
  type StoredKeyPair,
  type KeyAgreementAlgorithm,
} from "../src/index.ts";

const PASSWORD = "orbit-lantern-cascade-42 ü";

/** Seals as the contract says: RFC 9180 base mode, the fixed info, the associated data from the fields. */
async function seal(key: StoredKeyPair<KeyAgreementAlgorithm>, fields: { workstationId: string; attemptId: string; expiresAt: string }, password = PASSWORD) {
  const x25519 = key.algorithm === "X25519";
  const suite = new CipherSuite({ kem: x25519 ? new DhkemX25519HkdfSha256() : new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const params = x25519 ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  const recipientPublicKey = await crypto.subtle.importKey("spki", new Uint8Array(Buffer.from(key.publicKey, "base64")), params, true, []);
  const sender = await suite.createSenderContext({ recipientPublicKey, info: new TextEncoder().encode("latchkey account instruction v1") });
  const aad = `latchkey-account-v1|${fields.workstationId}|${fields.attemptId}|${fields.expiresAt}`;
  const ciphertext = await sender.seal(new TextEncoder().encode(password), new TextEncoder().encode(aad));
  return {
    suite: `DHKEM(${x25519 ? "X25519" : "P-256"},HKDF-SHA256)/HKDF-SHA256/AES-256-GCM`,
    enc: Buffer.from(sender.enc).toString("base64url"),
    ciphertext: Buffer.from(ciphertext).toString("base64url"),
  };
}

async function workstation(family: KeyFamily) {
  const keys = generateWorkstationKeys(family);
  const id = randomUUID();
  return { id, keys, own: { workstationId: id, algorithm: keys.keyAgreementKey.algorithm, privateKey: await keyAgreementPrivateKey(keys.keyAgreementKey) } };
}

async function instructionFor(ws: Awaited<ReturnType<typeof workstation>>, overrides: Partial<AccountInstruction> = {}): Promise<AccountInstruction> {
  const fields = { workstationId: ws.id, attemptId: randomUUID(), expiresAt: new Date(Date.now() + 120_000).toISOString() };
  return {
    action: "ENSURE_LOCAL_ACCOUNT",
    ...fields,
    username: "ada",
    fullName: "Ada Lovelace",
    passwordSource: "SEALED",
    password: await seal(ws.keys.keyAgreementKey, fields),
    ...overrides,
  };
}

/** The sealed box of an instruction made by instructionFor. */
const box = (instruction: AccountInstruction) => instruction.password!;

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => "opened",
    (error: unknown) => (error instanceof AgentError ? error.code : `not an AgentError: ${String(error)}`),
  );

describe("openAccountInstruction", () => {
  it.each(["ed25519", "p256"] as const)("opens a password sealed to this workstation's %s-family key", async (family) => {
    const ws = await workstation(family);
    // Several fresh boxes: a point-encoding slip shows only for some keys.
    for (let round = 0; round < 8; round += 1) {
      expect(await openAccountInstruction(await instructionFor(ws), ws.own)).toBe(PASSWORD);
    }
  });

  it.each(["ed25519", "p256"] as const)("opens what the server's sealPassword sealed (%s family)", async (family) => {
    const ws = await workstation(family);
    const attemptId = randomUUID();
    const expiresAt = new Date(Date.now() + 120_000);
    const password = await sealPassword({
      keyAgreementAlgorithm: ws.keys.keyAgreementKey.algorithm,
      keyAgreementPublicKey: ws.keys.keyAgreementKey.publicKey,
      workstationId: ws.id,
      attemptId,
      expiresAt,
      password: PASSWORD,
    });
    const instruction: AccountInstruction = { action: "ENSURE_LOCAL_ACCOUNT", workstationId: ws.id, attemptId, expiresAt: expiresAt.toISOString(), username: "ada", fullName: "Ada", passwordSource: "SEALED", password };
    expect(await openAccountInstruction(instruction, ws.own)).toBe(PASSWORD);
  });

  it("refuses an instruction for another workstation before opening anything", async () => {
    const ws = await workstation("ed25519");
    expect(await code(openAccountInstruction(await instructionFor(ws, { workstationId: randomUUID() }), ws.own))).toBe("WRONG_WORKSTATION");
  });

  it("refuses an instruction past its expiry", async () => {
    const ws = await workstation("ed25519");
    const instruction = await instructionFor(ws);
    expect(await code(openAccountInstruction(instruction, ws.own, new Date(Date.parse(instruction.expiresAt) + 1)))).toBe("INSTRUCTION_EXPIRED");
  });

  it("does not open a box replayed under another attempt or a stretched expiry (other associated data)", async () => {
    const ws = await workstation("p256");
    const instruction = await instructionFor(ws);
    expect(await code(openAccountInstruction({ ...instruction, attemptId: randomUUID() }, ws.own))).toBe("SEAL_BROKEN");
    const later = new Date(Date.parse(instruction.expiresAt) + 3_600_000).toISOString();
    expect(await code(openAccountInstruction({ ...instruction, expiresAt: later }, ws.own))).toBe("SEAL_BROKEN");
  });

  it("does not open a box sealed to another workstation's key, even relabelled for this one", async () => {
    const mine = await workstation("ed25519");
    const theirs = await workstation("ed25519");
    const stolen = await instructionFor(theirs, {});
    const relabelled = { ...stolen, workstationId: mine.id, password: await seal(theirs.keys.keyAgreementKey, { ...stolen, workstationId: mine.id }) };
    expect(await code(openAccountInstruction(relabelled, mine.own))).toBe("SEAL_BROKEN");
  });

  it("does not open an altered ciphertext", async () => {
    const ws = await workstation("ed25519");
    const instruction = await instructionFor(ws);
    const bytes = Buffer.from(box(instruction).ciphertext, "base64url");
    bytes[bytes.length - 1]! ^= 0x80;
    expect(await code(openAccountInstruction({ ...instruction, password: { ...box(instruction), ciphertext: bytes.toString("base64url") } }, ws.own))).toBe("SEAL_BROKEN");
  });

  it("refuses a suite other than its own key's, and an action it does not know", async () => {
    const ws = await workstation("ed25519");
    const instruction = await instructionFor(ws);
    const p256Suite = "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM";
    expect(await code(openAccountInstruction({ ...instruction, password: { ...box(instruction), suite: p256Suite } }, ws.own))).toBe("WRONG_SUITE");
    expect(await code(openAccountInstruction({ ...instruction, action: "DELETE_LOCAL_ACCOUNT" }, ws.own))).toBe("UNKNOWN_ACTION");
  });
});

describe("a password the user's phone sealed to the workstation (master key on)", () => {
  async function delivered(family: KeyFamily, challengeId = randomUUID(), expiresAt = new Date(Date.now() + 120_000).toISOString()) {
    const ws = await workstation(family);
    const delivery = { challengeId, passwordVersion: 3, expiresAt };
    const sealed = await sealDelivery({ ...delivery, workstationId: ws.id, algorithm: ws.keys.keyAgreementKey.algorithm, keyAgreementKey: ws.keys.keyAgreementKey.publicKey, password: PASSWORD });
    const instruction = await instructionFor(ws, { passwordSource: "PHONE", password: sealed, delivery });
    return { ws, instruction, challengeId };
  }

  it("opens for the login this workstation started, with either key family", async () => {
    for (const family of ["ed25519", "p256"] as KeyFamily[]) {
      const { ws, instruction, challengeId } = await delivered(family);
      expect(await openPhoneDelivery(instruction, { ...ws.own, challengeId }, new Date())).toBe(PASSWORD);
    }
  });

  it("refuses one for another login, one past the phone's expiry, and one bound to another password version", async () => {
    const { ws, instruction, challengeId } = await delivered("ed25519");
    await expect(code(openPhoneDelivery(instruction, { ...ws.own, challengeId: randomUUID() }, new Date()))).resolves.toBe("BAD_INSTRUCTION");
    await expect(code(openPhoneDelivery(instruction, { ...ws.own, challengeId }, new Date(Date.now() + 600_000)))).resolves.toBe("INSTRUCTION_EXPIRED");
    const altered = { ...instruction, delivery: { ...instruction.delivery!, passwordVersion: 4 } };
    await expect(code(openPhoneDelivery(altered, { ...ws.own, challengeId }, new Date()))).resolves.toBe("SEAL_MISMATCH");
  });
});
