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

describe("verifyTenantKey across epochs", () => {
  /** Epoch 2 with custody MASTER_KEY, holders listed, signed by its own key and handed over by epoch 1's. */
  async function nextEpoch(first: Awaited<ReturnType<typeof world>>) {
    const signer = signingPair();
    const holderKey = (await generateTenantKeyPair()).publicKey;
    const statement: TenantKeyStatement = {
      tenantId,
      epoch: 2,
      publicKey: (await generateTenantKeyPair()).publicKey,
      signingKey: signer.publicKey,
      custody: "MASTER_KEY",
      holders: [{ kind: "PHONE", id: "0b6e2c1a-3d4f-4a5b-8c6d-7e8f9a0b1c2d", keyAgreementKey: holderKey }],
    };
    const own = signed(statement, signer.privateKey);
    const handover = sign(null, Buffer.from(own.statement), first.signer.privateKey).toString("base64url");
    return { signer, statement, answer: { ...own, handover, history: [{ ...first.answer, handover: null }] } };
  }

  it("follows a hand-over from the pinned epoch to the next, and pins the new signing key", async () => {
    const first = await world(1);
    const { pin } = await verifyTenantKey(first.answer, { tenantId, pinned: null });
    const second = await nextEpoch(first);
    const verified = await verifyTenantKey(second.answer, { tenantId, pinned: pin });
    expect(verified.statement).toEqual(second.statement);
    expect(verified.pin).toMatchObject({ epoch: 2, signingKey: second.signer.publicKey });
    // Without the history too: the pin is enough to check the hand-over.
    expect((await verifyTenantKey({ ...second.answer, history: [] }, { tenantId, pinned: pin })).pin.epoch).toBe(2);
  });

  it("refuses a next epoch the pinned key did not hand over, a skipped epoch, and a holder added after signing", async () => {
    const first = await world(1);
    const { pin } = await verifyTenantKey(first.answer, { tenantId, pinned: null });
    const second = await nextEpoch(first);
    const stranger = signingPair();
    const forgedHandover = sign(null, Buffer.from(second.answer.statement), stranger.privateKey).toString("base64url");
    expect(await refusal(verifyTenantKey({ ...second.answer, handover: forgedHandover }, { tenantId, pinned: pin }))).toMatch(/not handed over/);
    expect(await refusal(verifyTenantKey({ ...second.answer, handover: null }, { tenantId, pinned: pin }))).toMatch(/not handed over/);
    const skipped = signed({ ...second.statement, epoch: 3 }, second.signer.privateKey);
    const skippedHandover = sign(null, Buffer.from(skipped.statement), first.signer.privateKey).toString("base64url");
    expect(await refusal(verifyTenantKey({ ...skipped, handover: skippedHandover }, { tenantId, pinned: pin }))).toMatch(/does not follow epoch 1/);
    const fakeHolder = `${second.answer.statement}\nholder PHONE 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f ${(await generateTenantKeyPair()).publicKey}`;
    expect(await refusal(verifyTenantKey({ ...second.answer, statement: fakeHolder }, { tenantId, pinned: pin }))).toMatch(/not signed/);
  });

  it("refuses a master key statement without holders and an escrow statement with them", async () => {
    const first = await world(1);
    const second = await nextEpoch(first);
    const withoutHolders = second.answer.statement.split("\n").slice(0, 7).join("\n");
    expect(await refusal(verifyTenantKey({ ...second.answer, statement: withoutHolders }, { tenantId, pinned: null }))).toMatch(/malformed/);
    const escrowWithHolder = `${first.answer.statement}\nholder PHONE 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f ${first.statement.publicKey}`;
    expect(await refusal(verifyTenantKey({ ...first.answer, statement: escrowWithHolder }, { tenantId, pinned: null }))).toMatch(/malformed/);
  });
});
