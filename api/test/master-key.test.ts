// Turning a customer's master key on: the portal starts a key operation, a
// customer admin's phone (the reference authenticator) makes the new key,
// re-seals every secret to it and wraps it to every holder, and the server
// switches over and deletes its escrow. Afterwards nothing the server has (its
// database, its configuration, its logs) opens a sealed secret, while each
// holder's own key does. Through the real API, the phone library and its CLI.
import { execFile } from "node:child_process";
import { createPublicKey, randomBytes, randomUUID, verify } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  browserKeyHash,
  workstationKeyHash,
  generateTenantKeyPair,
  keyUseEvidence,
  openRevealInBrowser,
  revealSubject,
  newRecoveryCode,
  openDelivery,
  sealBreakGlass,
  openAsHolder,
  parseTenantKeyStatement,
  openFromTenant,
  registerPassword,
  verifyTenantKey,
  type SealedSecret,
  type TenantKeyAnswer,
} from "@latchkey/passwords";
import { Authenticator, DeviceKey, keyAgreementPrivateKeyBytes, OPERATIONS, readStateFile, doKeyOperation, type KeyOperationWork } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrapTenantPrivateKey } from "../../schema/src/security/tenant-keys.ts";
import { Api, readOutbox, subscribe } from "./harness.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";
import { WorkstationKeys } from "./workstation-keys.ts";

const bin = fileURLToPath(new URL("../../clients/mobile/bin/authenticator.mjs", import.meta.url));
const run = promisify(execFile);

// This server's key-encryption key, so the test can try it on everything; and budgets for
// the many phones these worlds link from one address (the defaults suit one office).
const settings = {
  KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  KEY_ENCRYPTION_KEY_ID: `master-key-${randomBytes(4).toString("hex")}`,
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    emailCodePerIp: { points: 1000, durationSeconds: 3600 },
    emailVerifyPerIp: { points: 1000, durationSeconds: 3600 },
    challengeStartPerIp: { points: 1000, durationSeconds: 60 },
  }),
};

let api: Api;
let msp: MspSeed;
let dir: string;
beforeAll(async () => {
  api = await Api.start(settings);
  msp = await seed(api).msp();
  dir = await mkdtemp(join(tmpdir(), "latchkey-master-key-"));
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ERRORS = "... on Error { code message }";
const START = `mutation($input: StartKeyOperationInput!) { startKeyOperation(input: $input) { __typename
  ... on StartKeyOperationPayload { keyOperation { id status purpose tenantId } qrPayload watchToken } ${ERRORS} } }`;
const TENANT_KEY = `query($id: ID!) { tenantKey(tenantId: $id) { epoch custody publicKey statement signature handover
  holders { kind id keyAgreementKey } history { epoch statement signature handover } } }`;
const MASTER_KEY = `query($id: ID!) { tenant(id: $id) { masterKey { on epoch rotationDue holders { id kind name lastActedAt } awaitingAdmission { id name } } } }`;
const WORK = `query($id: ID!) { keyOperationWork(id: $id) { __typename ... on KeyOperationWork { keyOperation { id } secrets { id } } ${ERRORS} } }`;
const ONBOARD = `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { __typename
  ... on StartDeviceOnboardingPayload { qrPayload } ${ERRORS} } }`;

/** A user's phone, linked (and so approved) with an onboarding code the MSP's admin showed. */
async function phoneOf(user: SeededUser, statePath?: string, mspToken = msp.token) {
  const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql`, statePath });
  await phone.requestEmailVerification(user.email);
  await phone.verifyEmail(user.email, await api.emailedCode(user.email), `${user.username}'s phone`);
  const { startDeviceOnboarding } = await api.gql(ONBOARD, { userId: user.id }, { token: mspToken });
  await phone.onboard(startDeviceOnboarding.qrPayload);
  return phone;
}

type Purpose = "ENABLE_MASTER_KEY" | "ROTATE_TENANT_KEY" | "CREATE_RECOVERY_KIT" | "RECOVER_TENANT_KEY";

/** Starts a key operation as the portal does, for the MSP's admin unless told otherwise. */
async function start(customer: { id: string }, purpose: Purpose, token = msp.token) {
  return (await api.gql(START, { input: { tenantId: customer.id, purpose } }, { token })).startKeyOperation;
}

/** A customer with two admins holding phones, a user with a password, and the escrow's statement pinned by a client. */
async function world() {
  const customer = await msp.customer();
  const admins = [await customer.admin(), await customer.admin()];
  const phones = [await phoneOf(admins[0]!, join(dir, `${admins[0]!.username}.json`)), await phoneOf(admins[1]!)];
  const user = await customer.user();
  const { tenantKey } = await api.gql(TENANT_KEY, { id: customer.id }, { token: msp.token });
  const { pin } = await verifyTenantKey(tenantKey, { tenantId: customer.id, pinned: null });
  return { customer, admins, phones, user, escrowPin: pin };
}

async function userRow(id: string) {
  return api.db.user.findUniqueOrThrow({ where: { id } });
}

/** Every candidate key in `texts`: each base64, base64url or hex token that decodes to 32 bytes. */
function candidateKeys(texts: string[]): Uint8Array[] {
  const found = new Map<string, Uint8Array>();
  for (const text of texts) {
    for (const token of text.match(/[A-Za-z0-9+/_=-]{40,}/g) ?? []) {
      for (const bytes of [Buffer.from(token, "base64"), Buffer.from(token, "base64url"), /^[0-9a-f]{64}$/i.test(token) ? Buffer.from(token, "hex") : null]) {
        if (bytes?.length === 32) found.set(bytes.toString("hex"), new Uint8Array(bytes));
      }
    }
  }
  return [...found.values()];
}

/** Every private key `keys` and the key-encryption key give: the keys themselves, and whatever the KEK unwraps as this tenant's key. */
function keysFrom(texts: string[], tenantId: string, kek: Buffer): Uint8Array[] {
  const unwrapped: Uint8Array[] = [];
  for (const text of texts) {
    for (const token of text.match(/[A-Za-z0-9+/=]{60,}/g) ?? []) {
      try {
        unwrapped.push(unwrapTenantPrivateKey({ id: "any", key: kek }, tenantId, token));
      } catch {
        // Not wrapped under this key for this tenant.
      }
    }
  }
  return [...candidateKeys(texts), ...unwrapped];
}

async function opensAny(keys: Uint8Array[], tenantId: string, users: { id: string; passwordVersion: number; opaqueRecord: string | null; sealedPassword: unknown }[]) {
  let opened = 0;
  for (const key of keys) {
    for (const user of users) {
      try {
        await openFromTenant({ tenantPrivateKey: key, tenantId, userId: user.id, passwordVersion: user.passwordVersion, record: user.opaqueRecord!, sealed: user.sealedPassword as SealedSecret });
        opened += 1;
      } catch {
        // Does not open: what we hope for.
      }
    }
  }
  return opened;
}

/** This customer's rows of every table, as text. */
async function customerRows(customerId: string, userIds: string[]) {
  const tables = await api.db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT table_name::text AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = current_schema()`,
  );
  const ids = [customerId, ...userIds];
  const rows: string[] = [];
  for (const { name } of tables) {
    const found = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
    rows.push(...found.map((r) => r.row).filter((row) => ids.some((id) => row.includes(id))));
  }
  return rows;
}

describe("turning the master key on", () => {
  it("makes the key on a customer admin's phone, hands it to every holder, re-seals every password and deletes the escrow", async () => {
    const { customer, admins, phones, user, escrowPin } = await world();
    const before = await userRow(user.id);
    const started = await start(customer, "ENABLE_MASTER_KEY");
    expect(started).toMatchObject({ __typename: "StartKeyOperationPayload", keyOperation: { status: "PENDING", purpose: "ENABLE_MASTER_KEY", tenantId: customer.id } });

    // The portal watches the operation while the phone works.
    const watch = subscribe(api.ws(), `subscription($id: ID!, $w: String!) { keyOperationUpdated(id: $id, watchToken: $w) { status } }`, {
      id: started.keyOperation.id,
      w: started.watchToken,
    });
    await watch.waitForEvents(1);
    // The admin at the first phone admits the second by the fingerprint it shows.
    const { scan, tenantKey } = await phones[0]!.enableMasterKey(started.qrPayload, { admit: [await phones[1]!.fingerprint()] });
    expect(scan.requesterName).toContain("turn on the master key");
    await watch.waitForCompletion();
    expect(watch.events.map((event) => event.data?.keyOperationUpdated.status)).toEqual(["PENDING", "SCANNED", "APPROVED"]);
    expect(tenantKey).toMatchObject({ epoch: escrowPin.epoch + 1, custody: "MASTER_KEY" });

    // The server kept no way in: no escrowed private or signing key.
    const pair = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    expect(pair).toMatchObject({ custody: "MASTER_KEY", epoch: 2, wrappedPrivateKey: null, wrappedSigningKey: null, keyId: null });

    // A client pinned at the escrow's epoch follows the hand-over to the new one.
    const { tenantKey: answer } = await api.gql(TENANT_KEY, { id: customer.id }, { token: msp.token });
    const { statement, pin } = await verifyTenantKey(answer as TenantKeyAnswer, { tenantId: customer.id, pinned: escrowPin });
    expect(pin.epoch).toBe(2);
    expect(statement.holders!.map((holder) => holder.id).sort()).toEqual(phones.map((phone) => phone.deviceId).sort());
    expect(answer.history).toHaveLength(1);

    // Each holder's own key opens its copy, and the copy opens the user's password, re-sealed under the new epoch.
    const after = await userRow(user.id);
    expect(after.sealedPasswordEpoch).toBe(2);
    expect(after.sealedPassword).not.toEqual(before.sealedPassword);
    for (const phone of phones) {
      const material = await heldKey(phone, customer.id, 2);
      expect(material).toMatchObject({ publicKey: statement.publicKey, signingKey: statement.signingKey });
      const password = await openFromTenant({
        tenantPrivateKey: material.privateKey,
        tenantId: customer.id,
        userId: user.id,
        passwordVersion: after.passwordVersion,
        record: after.opaqueRecord!,
        sealed: after.sealedPassword as SealedSecret,
      });
      expect(password).toBe(PASSWORD);
    }

    // The admins see it on, with both phones; the phone's use of the key is audited with evidence only it could sign.
    const { tenant } = await api.gql(MASTER_KEY, { id: customer.id }, { token: msp.token });
    expect(tenant.masterKey).toMatchObject({ on: true, epoch: 2 });
    expect(tenant.masterKey.holders).toHaveLength(2);
    expect(tenant.masterKey.awaitingAdmission).toEqual([]);
    const event = await api.db.auditEvent.findFirstOrThrow({ where: { tenantId: customer.id, action: "tenantKey.masterKeyEnabled" } });
    const data = event.data as { evidence: { authenticatorId: string; signedAt: string; signature: string }; keyOperationId: string; admitted: string[] };
    expect(data.admitted.sort()).toEqual(phones.map((phone) => phone.deviceId).sort());
    expect(data.evidence.authenticatorId).toBe(phones[0]!.deviceId);
    const bytes = await keyUseEvidence({ tenantId: customer.id, epoch: 2, purpose: "ENABLE_MASTER_KEY", operationId: data.keyOperationId, signedAt: data.evidence.signedAt, statement: answer.statement });
    const deviceKey = createPublicKey({ key: Buffer.from(phones[0]!.publicKey, "base64"), format: "der", type: "spki" });
    expect(verify("sha256", bytes, { key: deviceKey, dsaEncoding: "ieee-p1363" }, Buffer.from(data.evidence.signature, "base64url"))).toBe(true);
    expect(admins).toHaveLength(2);
  });

  it("leaves nothing in the database, the configuration or the logs that opens a sealed password, where before the escrow did", async () => {
    const { customer, phones, user } = await world();
    const second = await customer.user({ password: `Second ${crypto.randomUUID()} password` });
    // The server's configuration: its settings and every file it keeps its secrets in.
    const secretsDir = join(api.dataDir, "secrets");
    const secretFiles = await readdir(secretsDir).then((names) => Promise.all(names.map((name) => readFile(join(secretsDir, name), "utf8"))), () => []);
    const kek = Buffer.from(settings.KEY_ENCRYPTION_KEY, "base64");
    const configuration = [JSON.stringify(settings), JSON.stringify(process.env), ...secretFiles];
    const everything = async () => [...(await customerRows(customer.id, [user.id, second.id])), ...configuration, ...api.logs];
    const sealed = async () => Promise.all([userRow(user.id), userRow(second.id)]);

    // With the escrow, the database and the key-encryption key open both: the check can tell.
    expect(await opensAny(keysFrom(await everything(), customer.id, kek), customer.id, await sealed())).toBe(2);

    await phones[1]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const third = await customer.user({ password: `Third ${crypto.randomUUID()} password` });
    const users = [...(await sealed()), await userRow(third.id)];
    expect(users.every((row) => row.sealedPasswordEpoch === 2)).toBe(true);
    expect(await opensAny(keysFrom([...(await everything()), ...(await customerRows(customer.id, [third.id]))], customer.id, kek), customer.id, users)).toBe(0);
  });

  it("refuses a result that misses a password set after the phone's snapshot, changes nothing, and takes the phone's redone work", async () => {
    const { customer, phones, user } = await world();
    const phone = phones[0]!;
    const started = await start(customer, "ENABLE_MASTER_KEY");
    await phone.scan(started.qrPayload);
    const token = phone.deviceToken!;
    const { keyOperationWork: work } = await api.gql(OPERATIONS.KeyOperationWork, { id: started.keyOperation.id }, { token });
    expect(work.__typename).toBe("KeyOperationWork");
    // A password is set while the phone works on its snapshot.
    const late = await customer.user({ password: `Late ${randomBytes(6).toString("hex")} password` });
    const self = await phoneSelf(phone);
    const { statement: current } = await verifyTenantKey(work.tenantKey, { tenantId: customer.id, pinned: null });
    const { result } = await doKeyOperation(work as KeyOperationWork, current, self, new Date());
    const before = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    const { enableMasterKey } = await api.gql(OPERATIONS.EnableMasterKey, { input: result }, { token });
    expect(enableMasterKey).toMatchObject({ code: "CONFLICT" });
    expect(await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).toEqual(before);
    expect(await api.db.tenantKeyHolder.count({ where: { tenantId: customer.id } })).toBe(0);
    // The phone fetches its work again (the late password is in it) and the same operation completes.
    const { tenantKey } = await phone.enableMasterKey(started.qrPayload);
    expect(tenantKey.epoch).toBe(2);
    for (const id of [user.id, late.id]) expect((await userRow(id)).sealedPasswordEpoch).toBe(2);
  });

  it("refuses a password registered under the escrowed key and finished after the switch, and writes nothing", async () => {
    const { customer, phones, user } = await world();
    const adminToken = msp.token;
    const runAsAdmin = (query: string, variables: Record<string, unknown>) => api.gql(query, variables, { token: adminToken });
    const registration = await registerPassword(runAsAdmin, { tenant: customer.id, userId: user.id, password: "Sealed before the switch 7" });
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const before = await userRow(user.id);
    const { setUserPassword } = await api.gql(
      `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename ${ERRORS} } }`,
      { input: { userId: user.id, passwordRegistrationId: registration.registrationId } },
      { token: adminToken },
    );
    expect(setUserPassword).toMatchObject({ code: "CONFLICT" });
    expect(await userRow(user.id)).toEqual(before);
  });

  it("hands a QR login the user's password through their own phone: it re-seals its copy to the workstation, and the server only carries boxes", async () => {
    const { customer, phones } = await world();
    const user = await customer.user();
    const userPhone = await phoneOf(user);
    await passwordless(customer);
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    // The admin sets a new password: sealed to the (new) tenant key and to the user's phone.
    const password = `Through the phone ${randomBytes(6).toString("hex")}`;
    const registration = await registerPassword((query, variables) => api.gql(query, variables, { token: msp.token }), { userId: user.id, password });
    const { setUserPassword } = await api.gql(
      `mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename ${ERRORS} } }`,
      { input: { userId: user.id, passwordRegistrationId: registration.registrationId } },
      { token: msp.token },
    );
    expect(setUserPassword.__typename).toBe("SetUserPasswordPayload");
    expect(((await userRow(user.id)).phonePasswordCopies as { authenticatorId: string }[]).map((copy) => copy.authenticatorId)).toEqual([userPhone.deviceId]);

    const keys = await workstationOf(customer);
    const login = await qrLogin(keys, userPhone);
    expect(login.instruction).toMatchObject({ passwordSource: "PHONE", delivery: { challengeId: login.challengeId, passwordVersion: (await userRow(user.id)).passwordVersion } });
    const open = async (challengeId: string) =>
      openDelivery({ ...login.instruction.delivery, challengeId, workstationId: keys.workstationId, algorithm: "X25519", recipientKey: await keys.recipientKey(), sealed: login.instruction.password });
    expect(await open(login.challengeId)).toBe(password);
    // Bound to this login: the same box does not open for another.
    await expect(open(randomUUID())).rejects.toThrow();
    expect((await loginEventOf(customer, login.instruction.attemptId)).passwordSynced).toBeNull();

    // A key the server hands the phone in place of the workstation's is not the one whose hash the workstation shows:
    // the phone still approves, and seals the password to nobody.
    const other = WorkstationKeys.generate();
    await api.db.workstation.update({ where: { id: keys.workstationId }, data: { keyAgreementPublicKey: other.keyAgreementKey } });
    const swapped = await qrLogin(keys, userPhone);
    expect(swapped.instruction).toMatchObject({ passwordSource: "AGENT", password: null });
    expect((await loginEventOf(customer, swapped.instruction.attemptId)).passwordSynced).toBe(false);
  });

  it("hands a QR login by a phone without a copy (linked after the password was set) the agent's own password and tells the admins, until a holder's phone gives it a copy", async () => {
    const { customer, phones } = await world();
    const user = await customer.user();
    await passwordless(customer);
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const userPhone = await phoneOf(user);
    const keys = await workstationOf(customer);
    const login = await qrLogin(keys, userPhone);
    expect(login.instruction).toMatchObject({ passwordSource: "AGENT", password: null });
    expect((await loginEventOf(customer, login.instruction.attemptId)).passwordSynced).toBe(false);

    // The holder's next key operation opens every password anyway: it seals one to the user's phone too.
    await phones[0]!.rotateTenantKey((await start(customer, "ROTATE_TENANT_KEY")).qrPayload);
    expect(((await userRow(user.id)).phonePasswordCopies as { authenticatorId: string }[]).map((copy) => copy.authenticatorId)).toEqual([userPhone.deviceId]);
    const next = await qrLogin(keys, userPhone);
    expect(next.instruction).toMatchObject({ passwordSource: "PHONE" });
    const opened = await openDelivery({
      ...next.instruction.delivery,
      workstationId: keys.workstationId,
      algorithm: "X25519",
      recipientKey: await keys.recipientKey(),
      sealed: next.instruction.password,
    });
    expect(opened).toBe(PASSWORD);
  });
});

/** A phone's keys, as doKeyOperation takes them, for driving its work step by step. */
async function phoneSelf(phone: Authenticator) {
  const state = phone.toState();
  const deviceKey = await DeviceKey.import(state.algorithm, state.privateKey, state.publicKey);
  return {
    deviceId: phone.deviceId!,
    keyAgreementKey: state.keyAgreementKey!.publicKey,
    keyAgreementPrivateKey: await keyAgreementPrivateKeyBytes(state.keyAgreementKey!),
    sign: (bytes: Uint8Array<ArrayBuffer>) => deviceKey.sign(bytes),
  };
}

/** The copy of the key a phone holds for `epoch`, opened with the phone's own key as the phone would. */
async function heldKey(phone: Authenticator, customerId: string, epoch: number) {
  const copy = await api.db.tenantKeyHolder.findFirstOrThrow({ where: { tenantId: customerId, epoch, authenticatorId: phone.deviceId! } });
  const statement = (await api.db.tenantKeyEpoch.findUnique({ where: { tenantId_epoch: { tenantId: customerId, epoch } } }))?.statement
    ?? (await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customerId } })).statement!;
  const parsed = parseTenantKeyStatement(statement)!;
  return openAsHolder({
    tenantId: customerId,
    epoch,
    holderId: phone.deviceId!,
    holderPrivateKey: await keyAgreementPrivateKeyBytes(phone.toState().keyAgreementKey!),
    sealed: copy.wrappedKey as SealedSecret,
    publicKey: parsed.publicKey,
    signingKey: parsed.signingKey,
  });
}

async function opens(privateKey: Uint8Array, customerId: string, userId: string) {
  const row = await userRow(userId);
  return openFromTenant({ tenantPrivateKey: privateKey, tenantId: customerId, userId, passwordVersion: row.passwordVersion, record: row.opaqueRecord!, sealed: row.sealedPassword as SealedSecret }).then(
    () => true,
    () => false,
  );
}

describe("rotating the master key", () => {
  it("is due once a holder's phone is revoked; a holder rotates, admits a phone linked since, and the revoked phone's copy opens nothing set afterwards", async () => {
    const { customer, admins, phones, user } = await world();
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload, { admit: [await phones[1]!.fingerprint()] });
    const lost = await heldKey(phones[1]!, customer.id, 2);
    expect(await opens(lost.privateKey, customer.id, user.id)).toBe(true);
    const { tenantKey: atTwo } = await api.gql(TENANT_KEY, { id: customer.id }, { token: msp.token });
    const { pin: pinAtTwo } = await verifyTenantKey(atTwo, { tenantId: customer.id, pinned: null });

    // The second admin loses their phone; a third admin links one (not a holder yet).
    await phones[1]!.revoke(phones[1]!.deviceId!);
    const newcomer = await phoneOf(await customer.admin());
    const state = async () => (await api.gql(MASTER_KEY, { id: customer.id }, { token: msp.token })).tenant.masterKey;
    expect(await state()).toMatchObject({ on: true, epoch: 2, rotationDue: true, awaitingAdmission: [{ id: newcomer.deviceId }] });
    // A phone without a copy cannot rotate.
    const started = await start(customer, "ROTATE_TENANT_KEY");
    await expect(newcomer.rotateTenantKey(started.qrPayload)).rejects.toMatchObject({ code: "FORBIDDEN" });

    const again = await start(customer, "ROTATE_TENANT_KEY");
    const { tenantKey } = await phones[0]!.rotateTenantKey(again.qrPayload, { admit: [await newcomer.fingerprint()] });
    expect(tenantKey.epoch).toBe(3);
    expect(tenantKey.holders!.map((holder) => holder.id).sort()).toEqual([phones[0]!.deviceId, newcomer.deviceId].sort());
    expect(await state()).toMatchObject({ on: true, epoch: 3, rotationDue: false, awaitingAdmission: [] });
    const event = await api.db.auditEvent.findFirstOrThrow({ where: { tenantId: customer.id, action: "tenantKey.rotated" } });
    expect(event.data).toMatchObject({ fromEpoch: 2, epoch: 3 });

    // A client that pinned epoch 2 follows the hand-over the holder's phone signed.
    const { tenantKey: atThree } = await api.gql(TENANT_KEY, { id: customer.id }, { token: msp.token });
    expect((await verifyTenantKey(atThree, { tenantId: customer.id, pinned: pinAtTwo })).pin.epoch).toBe(3);

    // A password set now is sealed under epoch 3: the lost phone's copy does not open it, the holders' do.
    const later = await customer.user({ password: `After rotation ${randomBytes(6).toString("hex")}` });
    expect((await userRow(later.id)).sealedPasswordEpoch).toBe(3);
    expect(await opens(lost.privateKey, customer.id, later.id)).toBe(false);
    expect(await opens((await heldKey(newcomer, customer.id, 3)).privateKey, customer.id, later.id)).toBe(true);
    expect(await opens((await heldKey(phones[0]!, customer.id, 3)).privateKey, customer.id, user.id)).toBe(true);
    expect(admins).toHaveLength(2);
  });

  it("does not lose a password set while the phone re-seals: the rotation is refused, nothing changes, and the redone work keeps it", async () => {
    const { customer, phones } = await world();
    const phone = phones[0]!;
    await phone.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const started = await start(customer, "ROTATE_TENANT_KEY");
    await phone.scan(started.qrPayload);
    const token = phone.deviceToken!;
    const { keyOperationWork: work } = await api.gql(OPERATIONS.KeyOperationWork, { id: started.keyOperation.id }, { token });
    const late = await customer.user({ password: `Changed meanwhile ${randomBytes(6).toString("hex")}` });
    const self = await phoneSelf(phone);
    const { statement: current } = await verifyTenantKey(work.tenantKey, { tenantId: customer.id, pinned: null });
    const { result } = await doKeyOperation(work as KeyOperationWork, current, self, new Date());
    const before = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    const { rotateTenantKey } = await api.gql(OPERATIONS.RotateTenantKey, { input: { ...result, tenantId: customer.id, fromEpoch: 2 } }, { token });
    expect(rotateTenantKey).toMatchObject({ code: "CONFLICT" });
    expect(await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).toEqual(before);
    expect((await userRow(late.id)).sealedPasswordEpoch).toBe(2);
    const { tenantKey } = await phone.rotateTenantKey(started.qrPayload);
    expect(tenantKey.epoch).toBe(3);
    expect(await opens((await heldKey(phone, customer.id, 3)).privateKey, customer.id, late.id)).toBe(true);
  });

  it("is refused by the phone when the server answers with an older epoch, as a restored database would", async () => {
    const { customer, phones } = await world();
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const atTwo = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    await phones[0]!.rotateTenantKey((await start(customer, "ROTATE_TENANT_KEY")).qrPayload);
    expect(phones[0]!.tenantKeyPins.find((pin) => pin.tenantId === customer.id)).toMatchObject({ epoch: 3 });
    // The key row goes back to epoch 2 (its copies are still there): the phone has seen epoch 3.
    await api.db.tenantKeyPair.update({ where: { tenantId: customer.id }, data: { ...atTwo, tenantId: undefined } });
    await api.db.tenantKeyEpoch.deleteMany({ where: { tenantId: customer.id, epoch: 2 } });
    await expect(phones[0]!.rotateTenantKey((await start(customer, "ROTATE_TENANT_KEY")).qrPayload)).rejects.toMatchObject({ code: "TENANT_KEY_REFUSED" });
    expect((await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).epoch).toBe(2);
  });

  it("cannot be started while the service still keeps the escrow, nor by anyone who does not administer the customer", async () => {
    const { customer } = await world();
    expect(await start(customer, "ROTATE_TENANT_KEY")).toMatchObject({ code: "CONFLICT" });
    expect(await start(customer, "ROTATE_TENANT_KEY", (await seed(api).msp()).token)).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("a recovery kit", () => {
  it("is created on a holder's phone (its code printed once), and puts the key onto a new admin's phone when every holder is lost; audited and emailed to every admin", async () => {
    const { customer, admins, phones, user } = await world();
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    // The first admin's phone, through the command line, admits a kit and shows its code.
    const statePath = join(dir, `${admins[0]!.username}.json`);
    const { stdout } = await run(process.execPath, [bin, "create-recovery-kit", (await start(customer, "CREATE_RECOVERY_KIT")).qrPayload, "--state", statePath, "--api", `${api.url}/graphql`], {
      timeout: 60_000,
    });
    const code = /^ {4}(\S+)$/m.exec(stdout)?.[1];
    expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){8}.$/);
    const atThree = parseTenantKeyStatement((await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).statement!)!;
    expect(atThree.epoch).toBe(3);
    expect(atThree.holders!.filter((holder) => holder.kind === "RECOVERY_KIT")).toHaveLength(1);
    // The code itself is nowhere on the server.
    expect(JSON.stringify(await customerRows(customer.id, [user.id])) + api.logs.join("\n")).not.toContain(code!.replace(/-/g, "").slice(0, 12));

    // Every holder phone is lost; a third admin links a new one.
    for (const phone of phones) await phone.revoke(phone.deviceId!);
    const newcomer = await phoneOf(await customer.admin());
    const started = await start(customer, "RECOVER_TENANT_KEY");
    // A mistyped code is caught on the phone; a code of no kit opens nothing; neither changes anything.
    const mistyped = code!.replace(/^(.)/, (first) => (first === "A" ? "B" : "A"));
    await expect(newcomer.recoverTenantKey(started.qrPayload, mistyped)).rejects.toMatchObject({ code: "INVALID_RECOVERY_CODE" });
    await expect(newcomer.recoverTenantKey(started.qrPayload, newRecoveryCode().text)).rejects.toMatchObject({ code: "RECOVERY_KIT_NOT_FOUND" });
    expect((await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).epoch).toBe(3);

    const { tenantKey } = await newcomer.recoverTenantKey(started.qrPayload, code!.toLowerCase());
    expect(tenantKey.epoch).toBe(4);
    expect(tenantKey.holders!.map((holder) => holder.kind).sort()).toEqual(["PHONE", "RECOVERY_KIT"]);
    expect(await opens((await heldKey(newcomer, customer.id, 4)).privateKey, customer.id, user.id)).toBe(true);
    const event = await api.db.auditEvent.findFirstOrThrow({ where: { tenantId: customer.id, action: "tenantKey.recovered" } });
    expect(event.data).toMatchObject({ fromEpoch: 3, epoch: 4 });
    await api.jobsSettled();
    const mail = (await readOutbox(api.dataDir)).filter((text) => text.includes(`Master key of Customer`) && text.includes("recovered"));
    expect(mail.length).toBeGreaterThanOrEqual(3);

    // Its code was seen by someone it should not have been: a rotation retires every kit, and the code opens nothing any more.
    const retired = await newcomer.rotateTenantKey((await start(customer, "ROTATE_TENANT_KEY")).qrPayload, { retireRecoveryKits: true });
    expect(retired.tenantKey.holders!.map((holder) => holder.kind)).toEqual(["PHONE"]);
    await expect(newcomer.recoverTenantKey((await start(customer, "RECOVER_TENANT_KEY")).qrPayload, code!)).rejects.toMatchObject({ code: "RECOVERY_KIT_NOT_FOUND" });
  });
});

async function passwordless(customer: { id: string }) {
  await api.gql(
    `mutation($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename ${ERRORS} } }`,
    { input: { tenantId: customer.id, desktopLoginEnabled: true, method: "PASSWORDLESS" } },
    { token: msp.token },
  );
}

/**
 * A QR login at the workstation, approved on `phone`: the instruction the
 * workstation redeems. The code shown carries the hash of `shownKey` (the
 * workstation's own key-agreement key, as the agent adds it).
 */
async function qrLogin(keys: WorkstationKeys, phone: Authenticator, shownKey = keys.keyAgreementKey) {
  const asWorkstation = async (query: string, variables: Record<string, unknown> = {}) => api.gql(query, variables, { token: await keys.credential() });
  const { startLoginChallenge } = await asWorkstation(`mutation { startLoginChallenge(input: { kind: DESKTOP_LOGIN }) { __typename
    ... on StartLoginChallengePayload { challenge { id } qrPayload redeemSecret } ${ERRORS} } }`);
  await phone.approve(`${startLoginChallenge.qrPayload}.${await workstationKeyHash(shownKey)}`);
  const { redeemDesktopLogin } = await asWorkstation(
    `mutation($input: RedeemDesktopLoginInput!) { redeemDesktopLogin(input: $input) { __typename
      ... on DesktopLoginPayload { instruction { attemptId passwordSource password { suite enc ciphertext } delivery { challengeId passwordVersion expiresAt } } } ${ERRORS} } }`,
    { input: { challengeId: startLoginChallenge.challenge.id, redeemSecret: startLoginChallenge.redeemSecret } },
  );
  expect(redeemDesktopLogin.__typename, JSON.stringify(redeemDesktopLogin)).toBe("DesktopLoginPayload");
  return { challengeId: startLoginChallenge.challenge.id as string, instruction: redeemDesktopLogin.instruction };
}

async function loginEventOf(customer: { id: string }, id: string) {
  const { loginEvents } = await api.gql(`query($t: ID!) { loginEvents(tenantId: $t, first: 20) { edges { node { id passwordSynced } } } }`, { t: customer.id }, { token: msp.token });
  return loginEvents.edges.map((edge: { node: { id: string; passwordSynced: boolean | null } }) => edge.node).find((node: { id: string }) => node.id === id);
}

/** An approved workstation of the customer, driven through the API with its own keys. */
async function workstationOf(customer: CustomerSeed) {
  const { createInstallToken } = await api.gql(
    `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename ... on CreateInstallTokenPayload { installToken } ${ERRORS} } }`,
    { input: { tenantId: customer.id, autoApprove: true } },
    { token: msp.token },
  );
  const keys = WorkstationKeys.generate();
  const { enrollWorkstation } = await api.gql(
    `mutation($input: EnrollWorkstationInput!) { enrollWorkstation(input: $input) { __typename ... on WorkstationPayload { workstation { id } } ${ERRORS} } }`,
    { input: { installToken: createInstallToken.installToken, hostname: "desk-1", os: "Windows 11", publicKey: keys.publicKey, keyAgreementKey: keys.keyAgreementKey } },
  );
  keys.workstationId = enrollWorkstation.workstation.id;
  return keys;
}

describe("who may work with a customer's key", () => {
  it("is only the customer's admins' phones: a user's phone and, without the customer's opt-in, the MSP admin's get NOT_FOUND", async () => {
    const { customer, user } = await world();
    const userPhone = await phoneOf(user);
    const started = await start(customer, "ENABLE_MASTER_KEY");
    await expect(userPhone.scan(started.qrPayload)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const mspAdmin = { id: msp.adminId, email: msp.adminEmail, username: "ada", password: PASSWORD, tenantSlug: msp.slug, token: async () => msp.token };
    const adminPhone = await phoneOf(mspAdmin);
    await expect(adminPhone.enableMasterKey(started.qrPayload)).rejects.toMatchObject({ code: expect.stringMatching(/NOT_FOUND|FORBIDDEN/) });
    expect((await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).custody).toBe("ESCROW");
  });

  it("includes the MSP's staff only once the customer's own admin opts in (the MSP cannot grant itself), and their copies fall due when withdrawn", async () => {
    const { customer, admins, phones } = await world();
    const SETTINGS = `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename ${ERRORS} } }`;
    const optIn = async (value: boolean, token: string) => (await api.gql(SETTINGS, { input: { tenantId: customer.id, mspMayHoldMasterKey: value } }, { token })).updateTenantSettings;
    expect(await optIn(true, msp.token)).toMatchObject({ code: "FORBIDDEN" });
    expect((await api.db.tenant.findUniqueOrThrow({ where: { id: customer.id } })).mspMayHoldMasterKey).toBe(false);
    const technician = await msp.technician();
    await msp.delegate(technician.id, customer.id);
    const technicianPhone = await phoneOf(technician);
    expect(await optIn(true, await admins[0]!.token())).toMatchObject({ __typename: "UpdateTenantSettingsPayload" });

    // Now the delegated technician's phone may turn the key on, and holds it with the customer's admins.
    const admit = await Promise.all(phones.map((phone) => phone.fingerprint()));
    const { tenantKey } = await technicianPhone.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload, { admit });
    expect(tenantKey.holders!.map((holder) => holder.id).sort()).toEqual([...phones.map((phone) => phone.deviceId), technicianPhone.deviceId].sort());
    expect(await optIn(false, await admins[0]!.token())).toMatchObject({ __typename: "UpdateTenantSettingsPayload" });
    const { tenant } = await api.gql(MASTER_KEY, { id: customer.id }, { token: msp.token });
    expect(tenant.masterKey.rotationDue).toBe(true);
  });

  it("rotates, with one approval on an MSP admin's phone, every customer a lost technician's phone held the key of, and no other", async () => {
    const SETTINGS = `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename ${ERRORS} } }`;
    // An MSP of its own, so that no other test's customer is due.
    const ours = await seed(api).msp();
    const adminPhone = await phoneOf(await ours.admin(), undefined, ours.token);
    const technician = await ours.technician();
    const technicianPhone = await phoneOf(technician, undefined, ours.token);
    // Two customers let the MSP's staff hold their key; the technician holds both. A third is not touched.
    const customers = [];
    for (let index = 0; index < 3; index++) {
      const customer = await ours.customer();
      const own = await customer.admin();
      await phoneOf(own, undefined, ours.token);
      expect((await api.gql(SETTINGS, { input: { tenantId: customer.id, mspMayHoldMasterKey: true } }, { token: await own.token() })).updateTenantSettings.__typename).toBe(
        "UpdateTenantSettingsPayload",
      );
      if (index < 2) await ours.delegate(technician.id, customer.id);
      await adminPhone.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY", ours.token)).qrPayload, { admit: index < 2 ? [await technicianPhone.fingerprint()] : [] });
      customers.push(customer);
    }
    const state = async (customer: { id: string }) => (await api.gql(MASTER_KEY, { id: customer.id }, { token: ours.token })).tenant.masterKey;
    await technicianPhone.revoke(technicianPhone.deviceId!);
    expect((await Promise.all(customers.map(state))).map((key) => key.rotationDue)).toEqual([true, true, false]);
    const dueCount = async () => (await api.gql(`query($id: ID!) { tenant(id: $id) { customersDueForRotation } }`, { id: ours.id }, { token: ours.token })).tenant.customersDueForRotation;
    expect(await dueCount()).toBe(2);

    // Nobody outside the MSP starts it; the MSP's admin does, and its phone works through each due customer.
    expect(await start({ id: ours.id }, "ROTATE_TENANT_KEY")).toMatchObject({ code: "NOT_FOUND" });
    expect(await start({ id: ours.id }, "ENABLE_MASTER_KEY", ours.token)).toMatchObject({ code: "FORBIDDEN" });
    const started = await start({ id: ours.id }, "ROTATE_TENANT_KEY", ours.token);
    expect(started.__typename).toBe("StartKeyOperationPayload");
    // Admitting and retiring kits are choices about one customer: refused for the MSP's code before anything is done.
    await expect(adminPhone.rotateTenantKey(started.qrPayload, { retireRecoveryKits: true })).rejects.toMatchObject({ code: "NOT_FOR_EVERY_CUSTOMER" });
    // Only the due customers: the third one's work is NOT_FOUND through this operation; another phone gets nothing.
    const asAdminPhone = { token: adminPhone.deviceToken! };
    expect((await api.gql(OPERATIONS.KeyOperationWork, { id: started.keyOperation.id, tenantId: customers[2]!.id }, asAdminPhone)).keyOperationWork).toMatchObject({ code: "NOT_FOUND" });
    const { phones: strangers } = await world();
    expect((await api.gql(OPERATIONS.KeyOperationTenants, { id: started.keyOperation.id }, { token: strangers[0]!.deviceToken })).keyOperationTenants).toMatchObject({
      code: "NOT_FOUND",
    });
    const { rotated } = await adminPhone.rotateTenantKey(started.qrPayload);
    expect(rotated.map((tenant) => tenant.tenantId).sort()).toEqual([customers[0]!.id, customers[1]!.id].sort());
    expect(rotated.every((tenant) => tenant.epoch === 3)).toBe(true);
    expect((await Promise.all(customers.map(state))).map((key) => [key.epoch, key.rotationDue])).toEqual([
      [3, false],
      [3, false],
      [2, false],
    ]);
    expect(await api.db.challenge.findUniqueOrThrow({ where: { id: started.keyOperation.id } })).toMatchObject({ status: "APPROVED" });
    expect(await dueCount()).toBe(0);
    // Nothing is due any more: a new MSP-wide rotation has nothing to do.
    expect(await start({ id: ours.id }, "ROTATE_TENANT_KEY", ours.token)).toMatchObject({ code: "CONFLICT" });
  });

  it("stores a workstation's break-glass box only under the epoch it was sealed to", async () => {
    const { customer, phones } = await world();
    const keys = await workstationOf(customer);
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const current = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    const upload = async (epoch: number) => {
      const sealed = await sealBreakGlass({ tenantId: customer.id, workstationId: keys.workstationId, account: "LatchkeyAdmin", rotation: epoch, tenantPublicKey: current.publicKey, password: `Local ${epoch}` });
      const { uploadBreakGlassPassword } = await api.gql(
        `mutation($input: UploadBreakGlassPasswordInput!) { uploadBreakGlassPassword(input: $input) { __typename ${ERRORS} } }`,
        { input: { account: "LatchkeyAdmin", rotation: epoch, epoch, sealed } },
        { token: await keys.credential() },
      );
      return uploadBreakGlassPassword;
    };
    // Sealed to the escrowed key of epoch 1 before the switch, uploaded after: refused, nothing stored.
    expect(await upload(1)).toMatchObject({ code: "CONFLICT" });
    expect(await api.db.breakGlassPassword.count({ where: { workstationId: keys.workstationId } })).toBe(0);
    expect(await upload(2)).toMatchObject({ __typename: "UploadBreakGlassPasswordPayload" });
    expect(await api.db.breakGlassPassword.findFirstOrThrow({ where: { workstationId: keys.workstationId } })).toMatchObject({ epoch: 2 });
  });

  it("starts only for an admin of the customer: another MSP's admin and a delegated technician are refused, the operation's id is nobody else's", async () => {
    const { customer, phones } = await world();
    const other = await seed(api).msp();
    expect(await start(customer, "ENABLE_MASTER_KEY", other.token)).toMatchObject({ code: "NOT_FOUND" });
    const technician = await msp.technician();
    await msp.delegate(technician.id, customer.id);
    expect(await start(customer, "ENABLE_MASTER_KEY", await technician.token())).toMatchObject({ code: "FORBIDDEN" });
    // Another customer's admin phone cannot fetch the work of an operation it did not scan.
    const started = await start(customer, "ENABLE_MASTER_KEY");
    await phones[0]!.scan(started.qrPayload);
    const { phones: strangers } = await world();
    const answer = (await api.gql(WORK, { id: started.keyOperation.id }, { token: strangers[0]!.deviceToken })).keyOperationWork;
    expect(answer).toMatchObject({ code: "NOT_FOUND" });
    // Watching needs the watch token.
    const watch = subscribe(api.ws(), `subscription($id: ID!) { keyOperationUpdated(id: $id, watchToken: "wrong") { status } }`, { id: started.keyOperation.id });
    await watch.waitForCompletion();
    expect(JSON.stringify(watch.failure ?? watch.events)).toContain("NOT_FOUND");
  });

  it("admits no phone the server passes off: a swapped key shows another fingerprint, and a phone nobody admitted waits", async () => {
    const { customer, admins, phones } = await world();
    const custody = async () => (await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).custody;
    const realFingerprint = await phones[1]!.fingerprint();
    // A hostile server swaps the second admin's key for one it knows the private half of, with a signature of its own making.
    const original = await api.db.authenticator.findUniqueOrThrow({ where: { id: phones[1]!.deviceId! } });
    const substitute = (await Authenticator.create()).keyAgreementPublicKey!;
    await api.db.authenticator.update({ where: { id: original.id }, data: { keyAgreementPublicKey: substitute } });
    await expect(phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload, { admit: [realFingerprint] })).rejects.toMatchObject({
      code: "ADMISSION_NOT_FOUND",
    });
    expect(await custody()).toBe("ESCROW");
    // The right key with a signature the phone did not make: the fingerprint matches, the phone's own certification does not.
    await api.db.authenticator.update({
      where: { id: original.id },
      data: { keyAgreementPublicKey: original.keyAgreementPublicKey, keyAgreementSignature: original.keyAgreementSignature!.replace(/^./, (c) => (c === "A" ? "B" : "A")) },
    });
    await expect(phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload, { admit: [realFingerprint] })).rejects.toMatchObject({
      code: "HOLDER_REFUSED",
    });
    expect(await custody()).toBe("ESCROW");

    // A phone linked to the first admin that nobody admits (the server's own, as far as the holder can tell) waits, holding nothing.
    await api.db.authenticator.update({ where: { id: original.id }, data: { keyAgreementSignature: original.keyAgreementSignature } });
    const unadmitted = await phoneOf(admins[0]!);
    const { tenantKey } = await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload, { admit: [realFingerprint] });
    expect(tenantKey.holders!.map((holder) => holder.id).sort()).toEqual(phones.map((phone) => phone.deviceId).sort());
    expect(await api.db.tenantKeyHolder.count({ where: { holderId: unadmitted.deviceId! } })).toBe(0);
    const { tenant } = await api.gql(MASTER_KEY, { id: customer.id }, { token: msp.token });
    expect(tenant.masterKey.awaitingAdmission.map((phone: { id: string }) => phone.id)).toEqual([unadmitted.deviceId]);
  });

  it("is turned on from the authenticator's command line", async () => {
    const { customer, admins, phones } = await world();
    const statePath = join(dir, `${admins[0]!.username}.json`);
    const cli = (...args: string[]) => run(process.execPath, [bin, ...args, "--state", statePath, "--api", `${api.url}/graphql`], { timeout: 60_000 });
    expect((await cli("fingerprint")).stdout).toContain(await phones[0]!.fingerprint());
    // Without --admit the second admin's phone waits; with its fingerprint it holds the key.
    const first = await cli("enable-master-key", (await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    expect(first.stdout).toMatch(/Master key on for Customer .*: epoch 2, 1 holder\(s\)\./);
    expect(first.stdout).toContain(`waiting: phone ${phones[1]!.deviceId}`);
    const { stdout } = await cli("rotate-master-key", (await start(customer, "ROTATE_TENANT_KEY")).qrPayload, "--admit", (await phones[1]!.fingerprint()).toLowerCase());
    expect(stdout).toMatch(/Key of Customer .*: epoch 3, 2 holder\(s\)\./);
    expect(stdout).not.toContain("waiting:");
    const state = await readStateFile(statePath);
    expect(state.tenantKeyPins.find((pin) => pin.tenantId === customer.id)).toMatchObject({ epoch: 3 });
  });
});

describe("after the key is on", () => {
  it("an admin asks every user for a new password (older backups still open the old ones); a technician is refused, another MSP gets NOT_FOUND", async () => {
    const { customer, admins, phones, user } = await world();
    await phones[0]!.enableMasterKey((await start(customer, "ENABLE_MASTER_KEY")).qrPayload);
    const ASK = `mutation($input: RequirePasswordChangesInput!) { requirePasswordChanges(input: $input) { __typename
      ... on RequirePasswordChangesPayload { usersAsked } ${ERRORS} } }`;
    const ask = async (token: string) => (await api.gql(ASK, { input: { tenantId: customer.id } }, { token })).requirePasswordChanges;
    const technician = await msp.technician();
    await msp.delegate(technician.id, customer.id);
    expect(await ask(await technician.token())).toMatchObject({ code: "FORBIDDEN" });
    expect(await ask((await seed(api).msp()).token)).toMatchObject({ code: "NOT_FOUND" });
    expect((await userRow(user.id)).passwordChangeRequired).toBe(false);

    // The customer's admin asks: everyone else with a password, not the admin asking.
    const answer = await ask(await admins[0]!.token());
    expect(answer).toMatchObject({ __typename: "RequirePasswordChangesPayload" });
    expect((await userRow(user.id)).passwordChangeRequired).toBe(true);
    expect((await userRow(admins[1]!.id)).passwordChangeRequired).toBe(true);
    expect((await userRow(admins[0]!.id)).passwordChangeRequired).toBe(false);
    expect(answer.usersAsked).toBe(2);
    expect(await api.db.auditEvent.count({ where: { tenantId: customer.id, action: "user.passwordChangesRequired" } })).toBe(1);
    // Asked once: asking again counts nobody twice.
    expect((await ask(await admins[0]!.token())).usersAsked).toBe(0);
  });

  it("lets only the customer's own admins choose whether the MSP's staff may hold the key", async () => {
    const { customer, admins } = await world();
    const CAN = `query($id: ID!) { tenant(id: $id) { viewerCanChooseMasterKeyHolders } }`;
    expect((await api.gql(CAN, { id: customer.id }, { token: await admins[0]!.token() })).tenant.viewerCanChooseMasterKeyHolders).toBe(true);
    expect((await api.gql(CAN, { id: customer.id }, { token: msp.token })).tenant.viewerCanChooseMasterKeyHolders).toBe(false);
  });
});

describe("revealing a break-glass password with the master key on", () => {
  const REVEALED = `query($id: ID!, $w: String!) { keyOperation(id: $id, watchToken: $w) { status workstationId account revealedPassword { rotation sealed { suite enc ciphertext } } } }`;

  /** A customer with the key on, a workstation that uploaded a box for LatchkeyAdmin, and a browser's one-time key. */
  async function revealWorld() {
    const w = await world();
    const keys = await workstationOf(w.customer);
    await w.phones[0]!.enableMasterKey((await start(w.customer, "ENABLE_MASTER_KEY")).qrPayload);
    const pair = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: w.customer.id } });
    const password = `Local admin ${randomBytes(8).toString("hex")}`;
    const sealed = await sealBreakGlass({ tenantId: w.customer.id, workstationId: keys.workstationId, account: "LatchkeyAdmin", rotation: 1, tenantPublicKey: pair.publicKey, password });
    const { uploadBreakGlassPassword } = await api.gql(
      `mutation($input: UploadBreakGlassPasswordInput!) { uploadBreakGlassPassword(input: $input) { __typename ${ERRORS} } }`,
      { input: { account: "LatchkeyAdmin", rotation: 1, epoch: pair.epoch, sealed } },
      { token: await keys.credential() },
    );
    expect(uploadBreakGlassPassword.__typename).toBe("UploadBreakGlassPasswordPayload");
    const browser = await generateTenantKeyPair();
    return { ...w, keys, password, browser, hash: await browserKeyHash(browser.publicKey) };
  }

  const startReveal = async (tenantId: string, workstationId: string, browser: { publicKey: string }, hash: string, token = msp.token) =>
    (
      await api.gql(
        START,
        { input: { tenantId, purpose: "REVEAL_BREAK_GLASS_PASSWORD", workstationId, account: "latchkeyadmin", browserKey: browser.publicKey, browserKeyHash: hash } },
        { token },
      )
    ).startKeyOperation;

  it("is done on a holder's phone, which seals the password to the browser's key: only the browser opens it, audited with the phone's evidence, and the agent rotates it", async () => {
    const { customer, phones, keys, password, browser, hash } = await revealWorld();
    const started = await startReveal(customer.id, keys.workstationId, browser, hash);
    expect(started.__typename).toBe("StartKeyOperationPayload");
    // The QR code carries the browser key's hash, for the phone to check against what the server hands it.
    expect(started.qrPayload.split(".")).toEqual(["lk1", started.keyOperation.id, expect.any(String), hash]);
    const { account, scan } = await phones[0]!.revealBreakGlassPassword(started.qrPayload);
    expect(account).toBe("LatchkeyAdmin");
    expect(scan.requesterName).toContain("reveal break-glass password for LatchkeyAdmin");

    const { keyOperation } = await api.gql(REVEALED, { id: started.keyOperation.id, w: started.watchToken });
    expect(keyOperation).toMatchObject({ status: "APPROVED", workstationId: keys.workstationId, account: "LatchkeyAdmin", revealedPassword: { rotation: 1 } });
    const binding = { operationId: started.keyOperation.id, workstationId: keys.workstationId, account: "LatchkeyAdmin", rotation: 1 };
    expect(await openRevealInBrowser({ ...binding, browserPrivateKey: browser.privateKey, sealed: keyOperation.revealedPassword.sealed })).toBe(password);
    await expect(openRevealInBrowser({ ...binding, browserPrivateKey: (await generateTenantKeyPair()).privateKey, sealed: keyOperation.revealedPassword.sealed })).rejects.toThrow();

    // Audited with evidence the phone signed, the workstation told to rotate, the admins emailed; the password is nowhere on the server.
    const event = await api.db.auditEvent.findFirstOrThrow({ where: { tenantId: customer.id, action: "elevation.breakGlassRevealed" } });
    const data = event.data as { evidence: { authenticatorId: string; epoch: number; signedAt: string; signature: string }; keyOperationId: string };
    const { tenantKey } = await api.gql(TENANT_KEY, { id: customer.id }, { token: msp.token });
    // It names the box the phone opened and the browser key it sealed to.
    const bytes = await keyUseEvidence({
      tenantId: customer.id,
      epoch: 2,
      purpose: "REVEAL_BREAK_GLASS_PASSWORD",
      operationId: data.keyOperationId,
      signedAt: data.evidence.signedAt,
      statement: tenantKey.statement,
      subject: revealSubject(binding, hash),
    });
    const deviceKey = createPublicKey({ key: Buffer.from(phones[0]!.publicKey, "base64"), format: "der", type: "spki" });
    expect(verify("sha256", bytes, { key: deviceKey, dsaEncoding: "ieee-p1363" }, Buffer.from(data.evidence.signature, "base64url"))).toBe(true);
    expect(await api.db.workstationCommand.count({ where: { workstationId: keys.workstationId, kind: "ROTATE_ACCOUNT_PASSWORD" } })).toBe(1);
    await api.jobsSettled();
    // Quoted-printable mail wraps its lines with "=\n".
    const mail = (await readOutbox(api.dataDir)).map((text) => text.replace(/=\n/g, "")).filter((text) => text.includes(`a holder of Customer ${customer.name}'s master key`));
    // The customer's two admins and the MSP's.
    expect(mail.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(await customerRows(customer.id, [])) + api.logs.join("\n")).not.toContain(password);
    // Once done, the same operation delivers nothing more.
    await expect(phones[0]!.revealBreakGlassPassword(started.qrPayload)).rejects.toMatchObject({ code: expect.stringMatching(/CONFLICT|NOT_FOUND/) });
  });

  it("is refused by the phone when the server hands it another browser key than the QR code's, or a QR code without one", async () => {
    const { customer, phones, keys, browser, hash } = await revealWorld();
    const started = await startReveal(customer.id, keys.workstationId, browser, hash);
    // A hostile server swaps in a key of its own after the QR code was shown.
    await api.db.challenge.update({ where: { id: started.keyOperation.id }, data: { browserKey: (await generateTenantKeyPair()).publicKey } });
    await expect(phones[0]!.revealBreakGlassPassword(started.qrPayload)).rejects.toMatchObject({ code: "BROWSER_KEY_REFUSED" });
    const again = await startReveal(customer.id, keys.workstationId, browser, hash);
    await expect(phones[0]!.revealBreakGlassPassword(again.qrPayload.split(".").slice(0, 3).join("."))).rejects.toMatchObject({ code: "BROWSER_KEY_REFUSED" });
    for (const id of [started.keyOperation.id, again.keyOperation.id]) {
      expect(await api.db.challenge.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "SCANNED", deliveredPassword: null });
    }
    expect(await api.db.auditEvent.count({ where: { tenantId: customer.id, action: "elevation.breakGlassRevealed" } })).toBe(0);
  });

  it("needs a phone that holds the key, a matching hash, and a workstation and tenant of the viewer's: otherwise refused or NOT_FOUND, with nothing started", async () => {
    const { customer, keys, browser, hash } = await revealWorld();
    // A phone that may hold the key but was never admitted holds no copy.
    const newcomer = await phoneOf(await customer.admin());
    await expect(newcomer.revealBreakGlassPassword((await startReveal(customer.id, keys.workstationId, browser, hash)).qrPayload)).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await startReveal(customer.id, keys.workstationId, browser, hash.replace(/^./, (c) => (c === "A" ? "B" : "A")))).toMatchObject({ code: "VALIDATION" });
    expect(await startReveal(customer.id, keys.workstationId, { publicKey: "A" }, hash)).toMatchObject({ code: "VALIDATION" });
    const technician = await msp.technician();
    await msp.delegate(technician.id, customer.id);
    expect(await startReveal(customer.id, keys.workstationId, browser, hash, await technician.token())).toMatchObject({ code: "FORBIDDEN" });
    const before = await api.db.challenge.count({ where: { tenantId: customer.id } });
    // Another MSP's admin, and another customer's workstation named with this customer.
    expect(await startReveal(customer.id, keys.workstationId, browser, hash, (await seed(api).msp()).token)).toMatchObject({ code: "NOT_FOUND" });
    const elsewhere = await workstationOf(await msp.customer());
    expect(await startReveal(customer.id, elsewhere.workstationId, browser, hash)).toMatchObject({ code: "NOT_FOUND" });
    expect(await api.db.challenge.count({ where: { tenantId: customer.id } })).toBe(before);
    // The result is for the browser holding the watch token only, and comes from the phone that scanned only.
    const started = await startReveal(customer.id, keys.workstationId, browser, hash);
    expect((await api.gql(REVEALED, { id: started.keyOperation.id, w: "not the token" })).keyOperation).toBeNull();
    const { phones: strangers } = await world();
    const sealed = await sealBreakGlass({ tenantId: customer.id, workstationId: keys.workstationId, account: "LatchkeyAdmin", rotation: 1, tenantPublicKey: browser.publicKey, password: "forged" });
    const { deliverBreakGlassPassword } = await api.gql(
      OPERATIONS.DeliverBreakGlassPassword,
      { input: { keyOperationId: started.keyOperation.id, rotation: 1, sealed, evidence: { signedAt: new Date().toISOString(), signature: "AAAA" } } },
      { token: strangers[0]!.deviceToken },
    );
    expect(deliverBreakGlassPassword).toMatchObject({ code: "NOT_FOUND" });
    expect(await api.db.challenge.findUniqueOrThrow({ where: { id: started.keyOperation.id } })).toMatchObject({ status: "PENDING", deliveredPassword: null });
  });
});
