import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPassword } from "@latchkey/passwords";
import { Api, subscribe } from "./harness.ts";
import { PASSWORD, seed } from "./seed.ts";

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(() => api?.stop());

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
  ... on CreateUserPayload { user { id username email personalEmail role status hasPassword tenant { id } } }
  ... on Error { code message } ... on ValidationError { fields { path message } } ... on ConflictError { field } } }`;

function newUser(tenantId: string, overrides: Record<string, unknown> = {}) {
  return { tenantId, firstName: "Grace", lastName: "Hopper", username: "ghopper", email: "grace@contoso.test", role: "USER", ...overrides };
}

describe("directory users", () => {
  it("creates, lists, searches, updates, disables, enables and deletes a customer user", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    // The admin's client registers the password; the API gets only the registration.
    const { registrationId } = await registerPassword(api.run(msp.token), { tenant: contoso.id, password: PASSWORD });
    const { createUser } = await api.gql(CREATE_USER, { input: newUser(contoso.id, { personalEmail: "grace@home.test", passwordRegistrationId: registrationId }) }, { token: msp.token });
    expect(createUser).toMatchObject({
      __typename: "CreateUserPayload",
      user: { username: "ghopper", email: "grace@contoso.test", personalEmail: "grace@home.test", role: "USER", status: "ACTIVE", hasPassword: true, tenant: { id: contoso.id } },
    });
    const id = createUser.user.id;
    await contoso.user();

    const list = await api.gql(`query($t: ID!, $s: String) { users(tenantId: $t, first: 10, search: $s) { totalCount edges { node { id } } } }`, { t: contoso.id, s: "hopp" }, { token: msp.token });
    expect(list.users).toEqual({ totalCount: 1, edges: [{ node: { id } }] });

    const { updateUser } = await api.gql(
      `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on UpdateUserPayload { user { firstName username personalEmail } } } }`,
      { input: { userId: id, firstName: "Amazing Grace", username: "amazing", personalEmail: "" } },
      { token: msp.token },
    );
    expect(updateUser.user).toEqual({ firstName: "Amazing Grace", username: "amazing", personalEmail: null });

    const disabled = await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename ... on DisableUserPayload { user { status } } } }`, { id }, { token: msp.token });
    expect(disabled.disableUser.user.status).toBe("DISABLED");
    const enabled = await api.gql(`mutation($id: ID!) { enableUser(input: { userId: $id }) { __typename ... on EnableUserPayload { user { status } } } }`, { id }, { token: msp.token });
    expect(enabled.enableUser.user.status).toBe("ACTIVE");

    const deleted = await api.gql(`mutation($id: ID!) { deleteUser(input: { userId: $id }) { __typename ... on DeleteUserPayload { deletedUserId } } }`, { id }, { token: msp.token });
    expect(deleted.deleteUser.deletedUserId).toBe(id);
    expect(await api.db.user.findUnique({ where: { id } })).toBeNull();

    const { auditEvents } = await api.gql(`query($t: ID!) { auditEvents(tenantId: $t, first: 10) { edges { node { action targetId } } } }`, { t: contoso.id }, { token: msp.token });
    expect(auditEvents.edges.map((e: any) => e.node.action)).toEqual(
      expect.arrayContaining(["user.created", "user.updated", "user.disabled", "user.enabled", "user.deleted"]),
    );
  });

  it("lets an MSP user exist without a password (they will sign in with the phone)", async () => {
    const msp = await seed(api).msp();
    const { createUser } = await api.gql(CREATE_USER, { input: newUser(msp.id, { role: "TECHNICIAN", email: "tech@msp.test", username: "tech1" }) }, { token: msp.token });
    expect(createUser.user).toMatchObject({ role: "TECHNICIAN", hasPassword: false });
  });

  it.each([
    ["a username over 20 characters", { username: "a".repeat(21) }, "username"],
    ["a username with a forbidden character", { username: "bad/name" }, "username"],
    ["a username with @", { username: "grace@home" }, "username"],
    ["a reserved Windows account name", { username: "administrator" }, "username"],
    ["a malformed email", { email: "grace-at-contoso" }, "email"],
    ["a password registration that does not exist", { passwordRegistrationId: "00000000-0000-4000-8000-000000000000" }, "passwordRegistrationId"],
    ["an MSP role in a customer", { role: "TECHNICIAN" }, "role"],
  ])("refuses %s with VALIDATION and writes nothing", async (_why, overrides, path) => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const before = await api.db.user.count({ where: { tenantId: contoso.id } });
    const { createUser } = await api.gql(CREATE_USER, { input: newUser(contoso.id, overrides) }, { token: msp.token });
    expect(createUser.__typename).toBe("ValidationError");
    expect(createUser.fields.map((f: { path: string }) => f.path)).toContain(path);
    expect(await api.db.user.count({ where: { tenantId: contoso.id } })).toBe(before);
  });

  it("refuses a username or email already used in the tenant, whatever the case", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    await api.gql(CREATE_USER, { input: newUser(contoso.id) }, { token: msp.token });
    const sameName = await api.gql(CREATE_USER, { input: newUser(contoso.id, { username: "GHopper", email: "other@contoso.test" }) }, { token: msp.token });
    expect(sameName.createUser).toMatchObject({ __typename: "ConflictError", code: "CONFLICT", field: "username" });
    const sameEmail = await api.gql(CREATE_USER, { input: newUser(contoso.id, { username: "other", email: "GRACE@contoso.test" }) }, { token: msp.token });
    expect(sameEmail.createUser).toMatchObject({ __typename: "ConflictError", field: "email" });
    // Another tenant may reuse both.
    const fabrikam = await msp.customer();
    const elsewhere = await api.gql(CREATE_USER, { input: newUser(fabrikam.id) }, { token: msp.token });
    expect(elsewhere.createUser.__typename).toBe("CreateUserPayload");
  });

  it("lets a customer admin manage their own tenant's users, and a customer user only see themselves", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const admin = await contoso.admin();
    const adminToken = await admin.token();
    const { createUser } = await api.gql(CREATE_USER, { input: newUser(contoso.id) }, { token: adminToken });
    expect(createUser.__typename).toBe("CreateUserPayload");

    const user = await contoso.user();
    const userToken = await user.token();
    const attempt = await api.gql(CREATE_USER, { input: newUser(contoso.id, { username: "x2", email: "x2@contoso.test" }) }, { token: userToken });
    expect(attempt.createUser.__typename).toBe("NotFoundError");
    const { viewer } = await api.gql(`{ viewer { user { id viewerCanManage } tenant { users { totalCount } viewerCanManageUsers } } }`, {}, { token: userToken });
    expect(viewer).toEqual({ user: { id: user.id, viewerCanManage: false }, tenant: { users: null, viewerCanManageUsers: false } });
  });

  it("keeps at least one active admin in a tenant and stops admins removing themselves", async () => {
    const msp = await seed(api).msp();
    const selfDisable = await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename ... on Error { code } } }`, { id: msp.adminId }, { token: msp.token });
    expect(selfDisable.disableUser).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    const contoso = await msp.customer();
    const only = await contoso.admin();
    const demote = await api.gql(`mutation($id: ID!) { setUserRole(input: { userId: $id, role: USER }) { __typename ... on Error { code } } }`, { id: only.id }, { token: msp.token });
    expect(demote.setUserRole).toEqual({ __typename: "ConflictError", code: "CONFLICT" });
    expect((await api.db.user.findUniqueOrThrow({ where: { id: only.id } })).role).toBe("ADMIN");
  });
});

describe("make admin", () => {
  it("promotes a technician to MSP admin, ending their sessions, and they then reach every customer", async () => {
    const msp = await seed(api).msp();
    await msp.customer();
    await msp.customer();
    const technician = await msp.technician();
    const oldToken = await technician.token();
    expect((await api.gql(`{ customers(first: 10) { totalCount } }`, {}, { token: oldToken })).customers.totalCount).toBe(0);

    const { setUserRole } = await api.gql(
      `mutation($id: ID!) { setUserRole(input: { userId: $id, role: ADMIN }) { __typename ... on SetUserRolePayload { user { role } } } }`,
      { id: technician.id },
      { token: msp.token },
    );
    expect(setUserRole.user.role).toBe("ADMIN");
    expect((await api.gql(`{ viewer { user { id } } }`, {}, { token: oldToken })).viewer).toBeNull();
    const fresh = await seed(api).logIn(msp.slug, technician.email, PASSWORD);
    expect((await api.gql(`{ customers(first: 10) { totalCount } }`, {}, { token: fresh })).customers.totalCount).toBe(2);
  });

  it("refuses a role that does not exist for the tenant's kind", async () => {
    const msp = await seed(api).msp();
    const technician = await msp.technician();
    const { setUserRole } = await api.gql(`mutation($id: ID!) { setUserRole(input: { userId: $id, role: USER }) { __typename } }`, { id: technician.id }, { token: msp.token });
    expect(setUserRole.__typename).toBe("ValidationError");
  });
});

describe("delegation", () => {
  const DELEGATE = `mutation($input: DelegateCustomerAccessInput!) { delegateCustomerAccess(input: $input) { __typename
    ... on DelegateCustomerAccessPayload { delegation { technician { id } customer { id } } } ... on Error { code } } }`;
  const REVOKE = `mutation($input: RevokeCustomerAccessInput!) { revokeCustomerAccess(input: $input) { __typename ... on Error { code } } }`;

  it("grants a technician one customer, and revoking it takes effect on the next request", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const fabrikam = await msp.customer();
    const technician = await msp.technician();
    const token = await technician.token();

    const { delegateCustomerAccess } = await api.gql(DELEGATE, { input: { technicianId: technician.id, customerId: contoso.id } }, { token: msp.token });
    expect(delegateCustomerAccess.delegation).toEqual({ technician: { id: technician.id }, customer: { id: contoso.id } });
    const again = await api.gql(DELEGATE, { input: { technicianId: technician.id, customerId: contoso.id } }, { token: msp.token });
    expect(again.delegateCustomerAccess).toEqual({ __typename: "ConflictError", code: "CONFLICT" });

    const listed = await api.gql(`{ customers(first: 10) { edges { node { id } } } viewer { user { delegatedCustomers { id } } } }`, {}, { token });
    expect(listed.customers.edges.map((e: any) => e.node.id)).toEqual([contoso.id]);
    expect(listed.viewer.user.delegatedCustomers).toEqual([{ id: contoso.id }]);
    expect((await api.gql(`query($id: ID!) { tenant(id: $id) { id } }`, { id: fabrikam.id }, { token })).tenant).toBeNull();

    const { createUser } = await api.gql(CREATE_USER, { input: newUser(contoso.id) }, { token });
    expect(createUser.__typename).toBe("CreateUserPayload");

    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { technicianCount delegations { technician { id } } viewerCanManageDelegations } }`, { id: contoso.id }, { token: msp.token });
    expect(tenant).toEqual({ technicianCount: 1, delegations: [{ technician: { id: technician.id } }], viewerCanManageDelegations: true });

    const feed = subscribe(api.ws(token), `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`, { id: contoso.id });
    await feed.triggerUntilEvent(() => contoso.user());

    const revoked = await api.gql(REVOKE, { input: { technicianId: technician.id, customerId: contoso.id } }, { token: msp.token });
    expect(revoked.revokeCustomerAccess.__typename).toBe("RevokeCustomerAccessPayload");
    await feed.waitForCompletion();
    expect((await api.gql(`query($id: ID!) { tenant(id: $id) { id } }`, { id: contoso.id }, { token })).tenant).toBeNull();
    const denied = await api.gql(CREATE_USER, { input: newUser(contoso.id, { username: "late", email: "late@contoso.test" }) }, { token });
    expect(denied.createUser.__typename).toBe("NotFoundError");
    const twice = await api.gql(REVOKE, { input: { technicianId: technician.id, customerId: contoso.id } }, { token: msp.token });
    expect(twice.revokeCustomerAccess.__typename).toBe("NotFoundError");
  });

  it("only lets MSP admins delegate, and only to technicians", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const technician = await msp.technician();
    const colleague = await msp.admin();
    const asTechnician = await api.gql(DELEGATE, { input: { technicianId: technician.id, customerId: contoso.id } }, { token: await technician.token() });
    expect(asTechnician.delegateCustomerAccess.__typename).toBe("ForbiddenError");
    const toAdmin = await api.gql(DELEGATE, { input: { technicianId: colleague.id, customerId: contoso.id } }, { token: msp.token });
    expect(toAdmin.delegateCustomerAccess.__typename).toBe("ValidationError");
    expect(await api.db.delegation.count({ where: { customerId: contoso.id } })).toBe(0);
  });
});
