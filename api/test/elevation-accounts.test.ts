// A customer's elevated-access settings and accounts through the API: the
// shared account, a workstation's own, named technician accounts, and the rule
// that no account name is, or looks like, a directory username of the tenant
// (and the reverse, in createUser and renames).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { seed, type MspSeed } from "./seed.ts";

let api: Api;
let msp: MspSeed;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
});
afterAll(() => api?.stop());

const SETTINGS = `... on UpdateElevatedAccessSettingsPayload { tenant { elevatedAccess {
  configured sharedAccountName technicianAccountPrefix manageBuiltInAdministrator maxSessionMinutes passwordLength passwordCharacters
  restartAfterSession restartGraceMinutes minimumAgentVersion accounts { kind name number } } } }
  ... on Error { code message } ... on ConflictError { field } ... on ValidationError { fields { path message } }`;

async function update(token: string, input: Record<string, unknown>) {
  const data = await api.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename ${SETTINGS} } }`, { input }, { token });
  return data.updateElevatedAccessSettings;
}

async function createUser(tenantId: string, username: string) {
  const data = await api.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on Error { code message } ... on ConflictError { field } } }`,
    { input: { tenantId, firstName: "Name", lastName: "Clash", username, email: `${username.replace(/[^a-z0-9]/gi, "x")}-${Date.now()}@example.test`, role: "USER" } },
    { token: msp.token },
  );
  return data.createUser;
}

describe("elevated access settings", () => {
  it("start unconfigured with the defaults, and the first update must name the shared account", async () => {
    const customer = await msp.customer();
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { elevatedAccess { configured sharedAccountName maxSessionMinutes manageBuiltInAdministrator restartAfterSession } } }`, { id: customer.id }, { token: msp.token });
    expect(tenant.elevatedAccess).toEqual({ configured: false, sharedAccountName: null, maxSessionMinutes: 10, manageBuiltInAdministrator: false, restartAfterSession: false });
    expect(await update(msp.token, { tenantId: customer.id, maxSessionMinutes: 30 })).toMatchObject({ code: "VALIDATION", fields: [{ path: "sharedAccountName" }] });

    const configured = await update(msp.token, { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin", maxSessionMinutes: 30, restartAfterSession: true });
    expect(configured.tenant.elevatedAccess).toMatchObject({
      configured: true,
      sharedAccountName: "LatchkeyAdmin",
      maxSessionMinutes: 30,
      passwordLength: 24,
      passwordCharacters: "ALPHANUMERIC_SYMBOLS",
      restartAfterSession: true,
      restartGraceMinutes: 5,
      accounts: [{ kind: "SHARED", name: "LatchkeyAdmin", number: null }],
    });
    // Absent fields keep their value.
    const renamed = await update(msp.token, { tenantId: customer.id, sharedAccountName: "HelpdeskAdmin" });
    expect(renamed.tenant.elevatedAccess).toMatchObject({ sharedAccountName: "HelpdeskAdmin", maxSessionMinutes: 30, restartAfterSession: true });
  });

  it("refuses out-of-range values and the built-in Administrator unless it is allowed", async () => {
    const customer = await msp.customer();
    for (const [input, path] of [
      [{ maxSessionMinutes: 0 }, "maxSessionMinutes"],
      [{ maxSessionMinutes: 481 }, "maxSessionMinutes"],
      [{ passwordLength: 8 }, "passwordLength"],
      [{ sharedAccountName: "bad/name" }, "sharedAccountName"],
      [{ sharedAccountName: "Administrator" }, "sharedAccountName"],
      [{ technicianAccountPrefix: "tech1" }, "technicianAccountPrefix"],
      [{ minimumAgentVersion: "latest" }, "minimumAgentVersion"],
    ] as const) {
      const result = await update(msp.token, { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin", ...input });
      expect(result, JSON.stringify(input)).toMatchObject({ code: "VALIDATION", fields: [{ path }] });
    }
    const builtIn = await update(msp.token, { tenantId: customer.id, sharedAccountName: "Administrator", manageBuiltInAdministrator: true });
    expect(builtIn.tenant.elevatedAccess).toMatchObject({ sharedAccountName: "Administrator", manageBuiltInAdministrator: true });
  });

  it("refuses an account that is, or looks like, a username of the customer, under Windows' folding and confusables", async () => {
    const customer = await msp.customer();
    const user = await customer.user();
    expect(await update(msp.token, { tenantId: customer.id, sharedAccountName: user.username.toUpperCase() })).toMatchObject({ code: "CONFLICT", field: "sharedAccountName" });
    await createUser(customer.id, "opsadmin");
    // Cyrillic о in place of the Latin o.
    expect(await update(msp.token, { tenantId: customer.id, sharedAccountName: "\u043epsadmin" })).toMatchObject({ code: "CONFLICT", field: "sharedAccountName" });
    expect((await update(msp.token, { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin" })).__typename).toBe("UpdateElevatedAccessSettingsPayload");
  });

  it("refuses in createUser and in renames a username that is, or looks like, an elevation account", async () => {
    const customer = await msp.customer();
    await update(msp.token, { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin" });
    expect(await createUser(customer.id, "LATCHKEYADMIN")).toMatchObject({ code: "CONFLICT", field: "username" });
    expect(await createUser(customer.id, "Latchkey\u0410dmin")).toMatchObject({ code: "CONFLICT", field: "username" });
    const user = await customer.user();
    const renamed = await api.gql(
      `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on Error { code } ... on ConflictError { field } } }`,
      { input: { userId: user.id, username: "latchkeyadmin" } },
      { token: msp.token },
    );
    expect(renamed.updateUser).toMatchObject({ code: "CONFLICT", field: "username" });
    // Another customer's account is no concern of this one's.
    const other = await msp.customer();
    expect((await createUser(other.id, "LatchkeyAdmin")).__typename).toBe("CreateUserPayload");
  });

  it("gives a workstation its own account, shared exactly by another, refused when it clashes", async () => {
    const customer = await msp.customer();
    const desk = desktopSeed(api, msp, customer);
    await update(msp.token, { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin" });
    const [first, second] = [await desk.workstation(), await desk.workstation()];
    const assign = async (workstationId: string, accountName: string | null) =>
      (
        await api.gql(
          `mutation($input: AssignWorkstationAccountInput!) { assignWorkstationAccount(input: $input) { __typename
            ... on AssignWorkstationAccountPayload { workstation { id hasOwnElevationAccount elevationAccount { kind name } } }
            ... on Error { code message } ... on ConflictError { field } } }`,
          { input: { workstationId, accountName } },
          { token: msp.token },
        )
      ).assignWorkstationAccount;
    expect((await assign(first.workstationId!, "FrontDeskAdmin")).workstation).toMatchObject({ hasOwnElevationAccount: true, elevationAccount: { kind: "WORKSTATION", name: "FrontDeskAdmin" } });
    expect((await assign(second.workstationId!, "FrontDeskAdmin")).workstation.elevationAccount).toEqual({ kind: "WORKSTATION", name: "FrontDeskAdmin" });
    expect(await assign(second.workstationId!, "latchkeyadmin")).toMatchObject({ code: "CONFLICT", field: "accountName" });
    expect(await assign(second.workstationId!, "FRONTDESKADMIN")).toMatchObject({ code: "CONFLICT", field: "accountName" });
    const user = await customer.user();
    expect(await assign(second.workstationId!, user.username)).toMatchObject({ code: "CONFLICT", field: "accountName" });
    // Back to the shared account; the name is free once no workstation uses it.
    expect((await assign(first.workstationId!, null)).workstation).toMatchObject({ hasOwnElevationAccount: false, elevationAccount: { kind: "SHARED", name: "LatchkeyAdmin" } });
    await assign(second.workstationId!, null);
    expect((await createUser(customer.id, "FrontDeskAdmin")).__typename).toBe("CreateUserPayload");
  });

  it("lets a customer's admin configure it, and nobody outside the customer", async () => {
    const customer = await msp.customer();
    const admin = await customer.admin();
    expect((await update(await admin.token(), { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin" })).__typename).toBe("UpdateElevatedAccessSettingsPayload");
    const user = await customer.user();
    expect(await update(await user.token(), { tenantId: customer.id, maxSessionMinutes: 60 })).toMatchObject({ code: "NOT_FOUND" });
    const stranger = await seed(api).msp();
    expect(await update(stranger.token, { tenantId: customer.id, maxSessionMinutes: 60 })).toMatchObject({ code: "NOT_FOUND" });
    expect(await update(msp.token, { tenantId: msp.id, sharedAccountName: "LatchkeyAdmin" })).toMatchObject({ code: "VALIDATION", fields: [{ path: "tenantId" }] });
  });
});
