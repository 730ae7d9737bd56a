// The client side on its own: a registration and a login against the library's
// server half, the profiles, the tenant sealing and the rules.
import { randomBytes, randomUUID } from "node:crypto";
import * as opaque from "@serenity-kit/opaque";
import { describe, expect, it } from "vitest";
import {
  finishLogin,
  finishRegistration,
  generateTenantKeyPair,
  openFromTenant,
  passwordProblem,
  sealToTenant,
  startLogin,
  startRegistration,
  tenantPasswordAssociatedData,
} from "../src/index.ts";

const PASSWORD = "orbit-lantern-cascade-42";

async function registered(ksf: string) {
  await opaque.ready;
  const serverSetup = opaque.server.createSetup();
  const identities = { client: randomUUID(), server: randomUUID() };
  const { state, request } = await startRegistration(PASSWORD);
  const { registrationResponse } = opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: identities.client, registrationRequest: request });
  const { record } = await finishRegistration({ state, response: registrationResponse, password: PASSWORD, ksf, identities });
  return { serverSetup, identities, record };
}

async function serverAnswer(world: Awaited<ReturnType<typeof registered>>, request: string) {
  return opaque.server.startLogin({
    serverSetup: world.serverSetup,
    registrationRecord: world.record,
    startLoginRequest: request,
    userIdentifier: world.identities.client,
    identifiers: world.identities,
  });
}

describe("OPAQUE client", () => {
  it("logs in with the password it registered, under the same profile and identities only", async () => {
    const world = await registered("test");
    for (const [password, ksf, identities, proves] of [
      [PASSWORD, "test", world.identities, true],
      ["a-wrong-password-1", "test", world.identities, false],
      [PASSWORD, "test", { ...world.identities, server: randomUUID() }, false],
    ] as const) {
      const { state, request } = await startLogin(password);
      const answer = await serverAnswer(world, request);
      const finished = await finishLogin({ state, response: answer.loginResponse, password, ksf, identities });
      expect(finished !== null, `${password} ${identities.server}`).toBe(proves);
      if (finished) {
        expect(() => opaque.server.finishLogin({ serverLoginState: answer.serverLoginState, finishLoginRequest: finished.finish, identifiers: world.identities })).not.toThrow();
        expect(finished.serverPublicKey).toBe(opaque.server.getPublicKey(world.serverSetup));
      }
    }
  });

  it("refuses a server answering with a key other than the pinned one", async () => {
    const world = await registered("test");
    const { state, request } = await startLogin(PASSWORD);
    const answer = await serverAnswer(world, request);
    const other = opaque.server.getPublicKey(opaque.server.createSetup());
    await expect(
      finishLogin({ state, response: answer.loginResponse, password: PASSWORD, ksf: "test", identities: world.identities, expectedServerPublicKey: other }),
    ).rejects.toThrow(/pinned/);
  });

  it("refuses a profile it does not know", async () => {
    const { state } = await startRegistration(PASSWORD);
    await expect(finishRegistration({ state, response: "AAAA", password: PASSWORD, ksf: "v0", identities: { client: "a", server: "b" } })).rejects.toThrow(/profile/);
  });
});

describe("sealing to the tenant", () => {
  it("opens with the tenant's key and the same binding only", async () => {
    const tenant = await generateTenantKeyPair();
    const other = await generateTenantKeyPair();
    const binding = { tenantId: randomUUID(), userId: randomUUID(), passwordVersion: 1, record: randomBytes(192).toString("base64url") };
    const sealed = await sealToTenant({ ...binding, tenantPublicKey: tenant.publicKey, password: PASSWORD });
    expect(JSON.stringify(sealed)).not.toContain(PASSWORD);
    expect(await openFromTenant({ ...binding, tenantPrivateKey: tenant.privateKey, sealed })).toBe(PASSWORD);
    await expect(openFromTenant({ ...binding, tenantPrivateKey: other.privateKey, sealed })).rejects.toThrow();
    await expect(openFromTenant({ ...binding, passwordVersion: 2, tenantPrivateKey: tenant.privateKey, sealed })).rejects.toThrow();
    expect(tenantPasswordAssociatedData(binding)).toMatch(/^latchkey-tenant-password-v1\|[0-9a-f-]{36}\|[0-9a-f-]{36}\|1\|[0-9a-f]{64}$/);
  });
});

describe("password rules", () => {
  it("refuses short and common passwords, and accepts a passphrase", () => {
    expect(passwordProblem("short", [])).toMatch(/at least 10/);
    expect(passwordProblem("qwertyuiop123", [])).toMatch(/easy to guess/);
    expect(passwordProblem("Lovelace1815", ["Lovelace"])).toMatch(/easy to guess/);
    expect(passwordProblem(PASSWORD, [])).toBeNull();
  });
});
