// A customer's key, handed out as a statement signed by the tenant's signing
// key: what every client that seals checks before it seals. Through the real
// API, the password client library and the reference authenticator.
import { Authenticator } from "@latchkey/mobile";
import { registerPassword, verifyTenantKey, type TenantKeyPin } from "@latchkey/passwords";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed } from "./seed.ts";

let api: Api;
let msp: MspSeed;
let customer: CustomerSeed;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
  customer = await msp.customer();
});
afterAll(async () => {
  await api?.stop();
});

const TENANT_KEY = `query($tenantId: ID!) { tenantKey(tenantId: $tenantId) { tenantId epoch publicKey signingKey custody statement signature } }`;

async function tenantKey(tenantId: string, token?: string | null) {
  return (await api.gql(TENANT_KEY, { tenantId }, { token })).tenantKey;
}

describe("tenantKey", () => {
  it("hands a customer's admin a statement that verifies and names the key passwords are sealed to", async () => {
    const answer = await tenantKey(customer.id, msp.token);
    const { statement, pin } = await verifyTenantKey(answer, { tenantId: customer.id, pinned: null });
    expect(statement).toEqual({ tenantId: customer.id, epoch: 1, publicKey: answer.publicKey, signingKey: answer.signingKey, custody: "ESCROW" });
    expect(answer).toMatchObject({ tenantId: customer.id, epoch: 1, custody: "ESCROW" });
    const row = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    expect(row).toMatchObject({ publicKey: answer.publicKey, signingPublicKey: answer.signingKey, epoch: 1 });

    // The same statement every time, and the one a registration hands out.
    expect(await tenantKey(customer.id, msp.token)).toEqual(answer);
    const pinned: TenantKeyPin[] = [];
    await registerPassword((query, variables) => api.gql(query, variables, { token: msp.token }), {
      tenant: customer.id,
      password: "slate harbour lantern 2290",
      pins: { get: () => pin, set: (next) => void pinned.push(next) },
    });
    expect(pinned).toEqual([pin]);
  });

  it("signs each tenant's key once, however many instances ask at once", async () => {
    const fresh = await msp.customer();
    const answers = await Promise.all(Array.from({ length: 6 }, () => tenantKey(fresh.id, msp.token)));
    expect(new Set(answers.map((answer) => answer.signingKey)).size).toBe(1);
    expect(new Set(answers.map((answer) => answer.signature)).size).toBe(1);
    expect(answers[0].signingKey).not.toBe((await tenantKey(customer.id, msp.token)).signingKey);
  });

  it("is handed to the tenant's own users and its users' phones", async () => {
    const user = await customer.user();
    expect((await tenantKey(customer.id, await user.token())).tenantId).toBe(customer.id);
    const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
    await phone.requestEmailVerification(user.email);
    await phone.verifyEmail(user.email, await api.emailedCode(user.email), "Phone");
    // Not linked yet: the phone belongs to nobody's tenant.
    expect(await tenantKey(customer.id, phone.deviceToken)).toBeNull();
    const { startDeviceOnboarding } = await api.gql(
      `mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { ... on StartDeviceOnboardingPayload { qrPayload } } }`,
      { userId: user.id },
      { token: msp.token },
    );
    await phone.onboard(startDeviceOnboarding.qrPayload);
    expect((await tenantKey(customer.id, phone.deviceToken)).tenantId).toBe(customer.id);
  });

  it("answers null to another tenant's admin, a technician without the customer, a stranger, and for an MSP or a missing id", async () => {
    const other = await seed(api).msp();
    const technician = await msp.technician();
    const missing = "00000000-0000-4000-8000-000000000000";
    expect(await tenantKey(customer.id, other.token)).toBeNull();
    expect(await tenantKey(customer.id, await technician.token())).toBeNull();
    expect(await tenantKey(customer.id, null)).toBeNull();
    expect(await tenantKey(msp.id, msp.token)).toBeNull();
    expect(await tenantKey(missing, msp.token)).toBeNull();
    expect(await tenantKey("not an id", msp.token)).toBeNull();
    // Delegated, the technician seals to it too.
    await msp.delegate(technician.id, customer.id);
    expect((await tenantKey(customer.id, await technician.token())).tenantId).toBe(customer.id);
  });

  it("signs no public key but the escrowed private key's, even with the signing columns cleared", async () => {
    const fresh = await msp.customer();
    const real = (await tenantKey(fresh.id, msp.token)).publicKey;
    const substitute = (await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } })).publicKey;
    await api.db.tenantKeyPair.update({ where: { tenantId: fresh.id }, data: { publicKey: substitute, signingPublicKey: null, statementSignature: null, wrappedSigningKey: null } });
    const { data, errors } = await api.request(TENANT_KEY, { tenantId: fresh.id }, { token: msp.token }).then((r) => r.body);
    expect(data?.tenantKey ?? null).toBeNull();
    expect(errors?.[0]?.message).toBe("Unexpected error.");
    expect(await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: fresh.id } })).toMatchObject({ signingPublicKey: null, statementSignature: null });
    // Put back, it is signed again.
    await api.db.tenantKeyPair.update({ where: { tenantId: fresh.id }, data: { publicKey: real } });
    expect((await tenantKey(fresh.id, msp.token)).publicKey).toBe(real);
  });

  it("keeps the signing key's private half only wrapped", async () => {
    const row = await api.db.tenantKeyPair.findUniqueOrThrow({ where: { tenantId: customer.id } });
    expect(row.wrappedSigningKey).toBeTruthy();
    // AES-256-GCM under the key-encryption key: nothing of a PKCS8 Ed25519 key shows through.
    const wrapped = Buffer.from(row.wrappedSigningKey!, "base64");
    expect(wrapped.includes(Buffer.from("302e020100300506032b6570", "hex"))).toBe(false);
  });
});
