// A phone's key-agreement key: generated on the phone, registered with the
// phone's own signature over it, and handed to others with that signature, so
// that whoever seals a secret to a phone can check the phone chose the key.
// Through the real API and the reference authenticator (library and CLI).
import { execFile } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Authenticator, AuthenticatorError, DeviceKey, KEY_AGREEMENT_SUITE, keyAgreementKeyBytes } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed } from "./seed.ts";

const bin = fileURLToPath(new URL("../../clients/mobile/bin/authenticator.mjs", import.meta.url));
const run = promisify(execFile);

let api: Api;
let msp: MspSeed;
let customer: CustomerSeed;
let dir: string;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
  customer = await msp.customer();
  dir = await mkdtemp(join(tmpdir(), "latchkey-key-agreement-"));
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ... on Error { code message } } }`;
const REGISTER = `mutation($input: RegisterKeyAgreementKeyInput!) { registerKeyAgreementKey(input: $input) { __typename
  ... on RegisterKeyAgreementKeyPayload { authenticator { id keyAgreementKey { publicKey } } }
  ... on Error { code message } ... on ValidationError { fields { path } } } }`;
const PHONES = `query($id: ID!) { user(id: $id) { authenticators { id algorithm publicKey keyAgreementKey { suite publicKey signature registeredAt } } } }`;

/** A customer user with a phone that enrolled and was linked by the admin's onboarding code. */
async function userWithPhone(statePath?: string) {
  const user = await customer.user();
  const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql`, statePath });
  await phone.requestEmailVerification(user.email);
  await phone.verifyEmail(user.email, await api.emailedCode(user.email), "Phone");
  const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId: user.id }, { token: msp.token });
  await phone.onboard(startDeviceOnboarding.qrPayload);
  return { user, phone };
}

async function storedKey(id: string) {
  const row = await api.db.authenticator.findUniqueOrThrow({ where: { id } });
  return { publicKey: row.keyAgreementPublicKey, signature: row.keyAgreementSignature, registeredAt: row.keyAgreementRegisteredAt };
}

/** Sends registerKeyAgreementKey with the phone's own device token. */
async function register(phone: Authenticator, input: { publicKey: string; signature: string }) {
  return (await api.gql(REGISTER, { input }, { token: phone.deviceToken })).registerKeyAgreementKey;
}

describe("a phone's key-agreement key", () => {
  it("is registered as the phone enrolls, and handed to the user's admin with a signature that verifies with the phone's signing key", async () => {
    const { user, phone } = await userWithPhone();
    const { user: listed } = await api.gql(PHONES, { id: user.id }, { token: msp.token });
    const [record] = listed.authenticators;
    expect(record.keyAgreementKey).toMatchObject({ suite: KEY_AGREEMENT_SUITE, publicKey: phone.keyAgreementPublicKey });
    // Checked as a sealing client would, from what the API answered and nothing else.
    const signingKey = createPublicKey({ key: Buffer.from(record.publicKey, "base64"), format: "der", type: "spki" });
    const bytes = keyAgreementKeyBytes(record.id, record.keyAgreementKey.publicKey);
    const signature = Buffer.from(record.keyAgreementKey.signature, "base64url");
    expect(verify("sha256", bytes, { key: signingKey, dsaEncoding: "ieee-p1363" }, signature)).toBe(true);
    // A key the phone did not vouch for would not verify.
    const substitute = (await Authenticator.create()).keyAgreementPublicKey!;
    expect(verify("sha256", keyAgreementKeyBytes(record.id, substitute), { key: signingKey, dsaEncoding: "ieee-p1363" }, signature)).toBe(false);
  });

  it("refuses a key signed by another key, or signed for another phone, or not an X25519 key, and writes nothing", async () => {
    const { phone } = await userWithPhone();
    const before = await storedKey(phone.deviceId!);
    const events = await api.db.auditEvent.count({ where: { targetId: phone.deviceId! } });
    const newKey = (await Authenticator.create()).keyAgreementPublicKey!;

    const stranger = await DeviceKey.generate("P256");
    const wrongSigner = await register(phone, { publicKey: newKey, signature: await stranger.sign(keyAgreementKeyBytes(phone.deviceId!, newKey)) });
    expect(wrongSigner).toMatchObject({ code: "VALIDATION", fields: [{ path: "signature" }] });

    // The phone's own signature, but over bytes naming another phone: not a certification of this one.
    const other = await userWithPhone();
    const state = phone.toState();
    const ownKey = await DeviceKey.import(state.algorithm, state.privateKey, state.publicKey);
    const forOther = await register(phone, { publicKey: newKey, signature: await ownKey.sign(keyAgreementKeyBytes(other.phone.deviceId!, newKey)) });
    expect(forOther).toMatchObject({ code: "VALIDATION", fields: [{ path: "signature" }] });

    for (const publicKey of ["", "not a key", Buffer.alloc(31, 9).toString("base64url"), state.publicKey]) {
      const answer = await register(phone, { publicKey, signature: await ownKey.sign(keyAgreementKeyBytes(phone.deviceId!, publicKey)) });
      expect(answer, publicKey).toMatchObject({ code: "VALIDATION", fields: [{ path: "publicKey" }] });
    }
    expect(await storedKey(phone.deviceId!)).toEqual(before);
    expect(await api.db.auditEvent.count({ where: { targetId: phone.deviceId! } })).toBe(events);
  });

  it("answers UNAUTHENTICATED without a device token, and to a revoked phone", async () => {
    const { user, phone } = await userWithPhone();
    const publicKey = phone.keyAgreementPublicKey!;
    const anonymous = await api.gql(REGISTER, { input: { publicKey, signature: "x" } });
    expect(anonymous.registerKeyAgreementKey.code).toBe("UNAUTHENTICATED");
    // A user's session is not a phone: the key is the phone's to vouch for.
    const session = await api.gql(REGISTER, { input: { publicKey, signature: "x" } }, { token: await user.token() });
    expect(session.registerKeyAgreementKey.code).toBe("UNAUTHENTICATED");

    const token = phone.deviceToken!;
    await phone.revoke(phone.deviceId!);
    const revoked = await api.gql(REGISTER, { input: { publicKey, signature: "x" } }, { token });
    expect(revoked.registerKeyAgreementKey.code).toBe("UNAUTHENTICATED");
  });

  it("keeps its private half on the phone: it is in no row and no request", async () => {
    const { phone } = await userWithPhone();
    const privateKey = phone.toState().keyAgreementKey!.privateKey;
    const raw = Buffer.from(privateKey, "base64");
    // The 32-byte secret scalar at the end of the PKCS8 encoding, in every spelling a row might hold.
    const scalar = raw.subarray(raw.length - 32);
    const row = JSON.stringify(await api.db.authenticator.findUniqueOrThrow({ where: { id: phone.deviceId! } }));
    for (const spelling of [privateKey, scalar.toString("base64"), scalar.toString("base64url"), scalar.toString("hex")]) {
      expect(row.includes(spelling.replace(/=+$/, ""))).toBe(false);
    }
  });

  it("is replaced by the CLI's register-key for a phone whose state file predates such keys, and audited", async () => {
    const statePath = join(dir, "old-phone.json");
    const { user, phone } = await userWithPhone(statePath);
    // A state file written before phones had key-agreement keys.
    const old = JSON.parse(await readFile(statePath, "utf8"));
    delete old.keyAgreementKey;
    await writeFile(statePath, JSON.stringify(old), { mode: 0o600 });

    const cli = await run(process.execPath, [bin, "register-key", "--api", `${api.url}/graphql`, "--state", statePath], { timeout: 30_000 });
    const saved = JSON.parse(await readFile(statePath, "utf8"));
    expect(saved.keyAgreementKey.publicKey).not.toBe(phone.keyAgreementPublicKey);
    expect(cli.stdout).toContain(`Registered key-agreement key ${saved.keyAgreementKey.publicKey}`);
    expect((await storedKey(phone.deviceId!)).publicKey).toBe(saved.keyAgreementKey.publicKey);
    const events = await api.db.auditEvent.findMany({ where: { action: "authenticator.keyAgreementKeyRegistered", targetId: phone.deviceId! }, orderBy: { createdAt: "asc" } });
    expect(events.at(-1)).toMatchObject({ tenantId: customer.id, actorId: user.id, data: { publicKey: saved.keyAgreementKey.publicKey } });
  });

  it("is shown to another tenant's admin no more than the phone itself: not at all", async () => {
    const { user } = await userWithPhone();
    const other = await seed(api).msp();
    const { user: seen } = await api.gql(PHONES, { id: user.id }, { token: other.token });
    expect(seen).toBeNull();
  });

  it("loads from a state file only when its halves belong together", async () => {
    const { phone } = await userWithPhone();
    const state = phone.toState();
    const mismatched = { ...state, keyAgreementKey: { ...state.keyAgreementKey!, publicKey: (await Authenticator.create()).keyAgreementPublicKey! } };
    await expect(Authenticator.fromState(mismatched)).rejects.toSatisfy(
      (error: unknown) => error instanceof AuthenticatorError && error.code === "INVALID_STATE",
    );
  });
});
