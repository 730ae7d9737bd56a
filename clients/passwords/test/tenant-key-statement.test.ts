// A tenant key is sealed to only when its statement is signed by the tenant's
// signing key, names the tenant asked for, and neither rolls back the epoch nor
// changes the signing key this client pinned. Statements here are signed with
// Node's own Ed25519, as the API signs them.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateTenantKeyPair, TenantKeyRefused, tenantKeyStatement, verifyTenantKey, type TenantKeyStatement } from "../src/index.ts";

const tenantId = "6f1c3a52-98d4-4b1e-9e0c-2f6d7b8a9c01";

function signingPair() {
  const pair = generateKeyPairSync("ed25519");
  return { privateKey: pair.privateKey, publicKey: pair.publicKey.export({ format: "jwk" }).x! };
}

function signed(statement: TenantKeyStatement, privateKey: KeyObject) {
  const text = tenantKeyStatement(statement);
  return { statement: text, signature: sign(null, Buffer.from(text), privateKey).toString("base64url") };
}

async function world(epoch = 1) {
  const signer = signingPair();
  const { publicKey } = await generateTenantKeyPair();
  const statement: TenantKeyStatement = { tenantId, epoch, publicKey, signingKey: signer.publicKey, custody: "ESCROW" };
  return { signer, statement, answer: signed(statement, signer.privateKey) };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(TenantKeyRefused);
  return (error as Error).message;
}

describe("verifyTenantKey", () => {
  it("accepts a signed statement the first time and pins its signing key and epoch", async () => {
    const { statement, answer } = await world(3);
    const verified = await verifyTenantKey(answer, { tenantId, pinned: null });
    expect(verified.statement).toEqual(statement);
    expect(verified.pin).toEqual({ tenantId, epoch: 3, signingKey: statement.signingKey, publicKey: statement.publicKey });
    // And again, against that pin.
    expect((await verifyTenantKey(answer, { tenantId, pinned: verified.pin })).statement.publicKey).toBe(statement.publicKey);
  });

  it("refuses a substituted public key: the statement no longer matches its signature", async () => {
    const { statement, answer } = await world();
    const substitute = (await generateTenantKeyPair()).publicKey;
    const altered = { ...answer, statement: answer.statement.replace(statement.publicKey, substitute) };
    expect(await refusal(verifyTenantKey(altered, { tenantId, pinned: null }))).toMatch(/not signed by the tenant's signing key/);
  });

  it("refuses a statement the server signed afresh with a signing key of its own, once the real one is pinned", async () => {
    const { statement, answer } = await world();
    const { pin } = await verifyTenantKey(answer, { tenantId, pinned: null });
    const server = signingPair();
    const forged = signed({ ...statement, publicKey: (await generateTenantKeyPair()).publicKey, signingKey: server.publicKey }, server.privateKey);
    expect(await refusal(verifyTenantKey(forged, { tenantId, pinned: pin }))).toMatch(/another signing key/);
  });

  it("refuses another public key for the epoch it pinned, even signed by the pinned signing key", async () => {
    const { signer, statement, answer } = await world(2);
    const { pin } = await verifyTenantKey(answer, { tenantId, pinned: null });
    const swapped = signed({ ...statement, publicKey: (await generateTenantKeyPair()).publicKey }, signer.privateKey);
    expect(await refusal(verifyTenantKey(swapped, { tenantId, pinned: pin }))).toMatch(/another public key for epoch 2/);
  });

  it("refuses an older epoch than one seen before, as a restored database would hand out", async () => {
    const { signer, statement, answer } = await world(2);
    const { pin } = await verifyTenantKey(answer, { tenantId, pinned: null });
    const older = signed({ ...statement, epoch: 1 }, signer.privateKey);
    expect(await refusal(verifyTenantKey(older, { tenantId, pinned: pin }))).toMatch(/epoch 1 is older than epoch 2/);
  });

  it("refuses another tenant's key, a garbled statement and a missing signature", async () => {
    const { answer } = await world();
    expect(await refusal(verifyTenantKey(answer, { tenantId: "0d9e8f7a-1b2c-4d3e-8f4a-5b6c7d8e9f00", pinned: null }))).toMatch(/another tenant's key/);
    expect(await refusal(verifyTenantKey({ ...answer, statement: `${answer.statement}\nextra` }, { tenantId, pinned: null }))).toMatch(/malformed/);
    expect(await refusal(verifyTenantKey({ ...answer, signature: "" }, { tenantId, pinned: null }))).toMatch(/not signed/);
  });
});
