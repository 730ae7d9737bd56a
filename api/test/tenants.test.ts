import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPassword } from "@latchkey/passwords";
import { Api, unique } from "./harness.ts";
import { PASSWORD, seed } from "./seed.ts";

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(() => api?.stop());

const SIGN_UP = `mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename
  ... on AuthPayload { token user { id email } tenant { id slug kind } }
  ... on Error { code message } ... on ValidationError { fields { path message } } ... on ConflictError { field } } }`;

/** A finished password registration for a sign-up, as the portal's sign-up form makes it. */
async function signUpRegistration() {
  return (await registerPassword(api.run(), { password: PASSWORD })).registrationId;
}

async function signUpInput(overrides: Record<string, unknown> = {}) {
  const slug = unique("acme").toLowerCase();
  return { slug, displayName: "Acme IT", firstName: "Ada", lastName: "Lovelace", email: `ada@${slug}.test`, passwordRegistrationId: await signUpRegistration(), ...overrides };
}

describe("MSP sign-up", () => {
  it("creates the MSP tenant and its first admin, and signs them in", async () => {
    const input = await signUpInput();
    const { signUpMsp } = await api.gql(SIGN_UP, { input });
    expect(signUpMsp.__typename).toBe("AuthPayload");
    expect(signUpMsp.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signUpMsp.tenant).toMatchObject({ slug: input.slug, kind: "MSP" });
    expect(signUpMsp.user.email).toBe(input.email);
    const { viewer } = await api.gql(`{ viewer { user { id email role } tenant { id slug kind } } }`, {}, { token: signUpMsp.token });
    expect(viewer).toEqual({ user: { id: signUpMsp.user.id, email: input.email, role: "ADMIN" }, tenant: signUpMsp.tenant });
  });

  it("refuses a duplicate slug with CONFLICT and creates nothing", async () => {
    const input = await signUpInput();
    await api.gql(SIGN_UP, { input });
    const other = `other@${input.slug}.test`;
    const { signUpMsp } = await api.gql(SIGN_UP, { input: { ...input, email: other, passwordRegistrationId: await signUpRegistration() } });
    expect(signUpMsp).toMatchObject({ __typename: "ConflictError", code: "CONFLICT", field: "slug" });
    expect(await api.db.tenant.count({ where: { slug: input.slug } })).toBe(1);
    expect(await api.db.user.count({ where: { emailKey: other } })).toBe(0);
  });

  it.each([
    ["uppercase and spaces", "Acme IT"],
    ["a leading hyphen", "-acme"],
    ["a double hyphen", "ac--me"],
    ["a reserved word", "admin"],
    ["too short", "ab"],
  ])("refuses a malformed slug (%s) with VALIDATION", async (_why, slug) => {
    const input = await signUpInput({ slug });
    const { signUpMsp } = await api.gql(SIGN_UP, { input });
    expect(signUpMsp.__typename).toBe("ValidationError");
    expect(signUpMsp.code).toBe("VALIDATION");
    expect(signUpMsp.fields.map((f: { path: string }) => f.path)).toContain("slug");
    expect(await api.db.tenant.count({ where: { slug: { in: [slug, slug.toLowerCase(), slug.trim()] } } })).toBe(0);
    expect(await api.db.user.count({ where: { emailKey: input.email } })).toBe(0);
  });

  it("refuses an MSP slug that would read as another MSP's customer, either way round", async () => {
    const existing = await signUpInput();
    await api.gql(SIGN_UP, { input: existing });
    const posing = await api.gql(SIGN_UP, { input: await signUpInput({ slug: `foo-${existing.slug}` }) });
    expect(posing.signUpMsp).toMatchObject({ __typename: "ConflictError", field: "slug" });

    const longer = await signUpInput({ slug: `bar-${unique("x").toLowerCase()}` });
    await api.gql(SIGN_UP, { input: longer });
    const suffix = longer.slug.slice("bar-".length);
    const shadowed = await api.gql(SIGN_UP, { input: await signUpInput({ slug: suffix }) });
    expect(shadowed.signUpMsp).toMatchObject({ __typename: "ConflictError", field: "slug" });
  });

  it.each([
    ["a malformed email", { email: "not-an-email" }, "email"],
    ["a registration that does not exist", { passwordRegistrationId: "00000000-0000-4000-8000-000000000000" }, "passwordRegistrationId"],
    ["a registration id that is no id", { passwordRegistrationId: "x".repeat(10_240) }, "passwordRegistrationId"],
    ["an empty name", { firstName: "  " }, "firstName"],
  ])("refuses %s with VALIDATION naming the field, and writes nothing", async (_why, overrides, path) => {
    const input = await signUpInput(overrides);
    const { signUpMsp } = await api.gql(SIGN_UP, { input });
    expect(signUpMsp.__typename).toBe("ValidationError");
    expect(signUpMsp.fields.map((f: { path: string }) => f.path)).toContain(path);
    expect(await api.db.tenant.count({ where: { slug: input.slug } })).toBe(0);
  });
});

describe("sign-up switched off", () => {
  it("answers FORBIDDEN when SIGNUP_ENABLED=false", async () => {
    const closed = await Api.start({ SIGNUP_ENABLED: "false" });
    try {
      const { signUpMsp } = await closed.gql(SIGN_UP, { input: await signUpInput() });
      expect(signUpMsp).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    } finally {
      await closed.stop();
    }
  });
});

const CREATE_CUSTOMER = `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename
  ... on CreateCustomerPayload { customer { id slug name displayName kind parent { id slug } } }
  ... on Error { code message } ... on ValidationError { fields { path message } } } }`;

describe("customers", () => {
  it("creates customer <name>-<msp slug> under the MSP", async () => {
    const msp = await seed(api).msp();
    const { createCustomer } = await api.gql(CREATE_CUSTOMER, { input: { name: "contoso", displayName: "Contoso Ltd" } }, { token: msp.token });
    expect(createCustomer).toMatchObject({
      __typename: "CreateCustomerPayload",
      customer: { slug: `contoso-${msp.slug}`, name: "contoso", displayName: "Contoso Ltd", kind: "CUSTOMER", parent: { id: msp.id, slug: msp.slug } },
    });
  });

  it("refuses a duplicate or malformed customer name and writes nothing", async () => {
    const msp = await seed(api).msp();
    await api.gql(CREATE_CUSTOMER, { input: { name: "fabrikam", displayName: "Fabrikam" } }, { token: msp.token });
    const before = await api.db.tenant.count({ where: { parentId: msp.id } });
    const duplicate = await api.gql(CREATE_CUSTOMER, { input: { name: "fabrikam", displayName: "Again" } }, { token: msp.token });
    expect(duplicate.createCustomer).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    for (const name of ["Fab-Rikam", "fab-rikam", "", "api"]) {
      const bad = await api.gql(CREATE_CUSTOMER, { input: { name, displayName: "X" } }, { token: msp.token });
      expect(bad.createCustomer.__typename, name).toBe("ValidationError");
    }
    expect(await api.db.tenant.count({ where: { parentId: msp.id } })).toBe(before);
  });

  it("lists customers with their figures, searchable, as a Relay connection", async () => {
    const msp = await seed(api).msp();
    const alpha = await msp.customer("alpha");
    await msp.customer("beta");
    await alpha.user();
    await alpha.user();
    await alpha.admin();
    const technician = await msp.technician();
    await msp.delegate(technician.id, alpha.id);

    const query = `query($search: String, $after: String) { customers(first: 1, after: $after, search: $search) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { slug userCount adminCount technicianCount } } } }`;
    const first = await api.gql(query, {}, { token: msp.token });
    expect(first.customers.totalCount).toBe(2);
    expect(first.customers.edges[0].node).toEqual({ slug: `alpha-${msp.slug}`, userCount: 3, adminCount: 1, technicianCount: 1 });
    expect(first.customers.pageInfo.hasNextPage).toBe(true);
    const second = await api.gql(query, { after: first.customers.pageInfo.endCursor }, { token: msp.token });
    expect(second.customers.edges.map((e: any) => e.node.slug)).toEqual([`beta-${msp.slug}`]);
    const searched = await api.gql(query, { search: "BET" }, { token: msp.token });
    expect(searched.customers.edges.map((e: any) => e.node.slug)).toEqual([`beta-${msp.slug}`]);
  });

  it("computes the figures of a page of customers without a query per customer", async () => {
    const msp = await seed(api).msp();
    for (let i = 0; i < 6; i += 1) await (await msp.customer()).user();
    const before = api.queries.length;
    const { customers } = await api.gql(
      `{ customers(first: 6) { edges { node { slug userCount adminCount technicianCount } } } }`,
      {},
      { token: msp.token },
    );
    expect(customers.edges).toHaveLength(6);
    expect(customers.edges.every((edge: any) => edge.node.userCount === 1)).toBe(true);
    // The session lookup, the page with its counts (two queries: the counts
    // filter `users` two ways) and one batched access check. A query per
    // customer would add at least six.
    expect(api.requestQueriesSince(before).length).toBeLessThanOrEqual(4);
  });

  it("updates tenant settings and records them in the audit log", async () => {
    const msp = await seed(api).msp();
    const contoso = await msp.customer();
    const { updateTenantSettings } = await api.gql(
      `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename
        ... on UpdateTenantSettingsPayload { tenant { displayName userSource } } ... on Error { code } } }`,
      { input: { tenantId: contoso.id, userSource: "LOCAL", displayName: "Contoso Group" } },
      { token: msp.token },
    );
    expect(updateTenantSettings).toEqual({ __typename: "UpdateTenantSettingsPayload", tenant: { displayName: "Contoso Group", userSource: "LOCAL" } });
    const { auditEvents } = await api.gql(
      `query($id: ID!) { auditEvents(tenantId: $id, first: 5) { edges { node { action actorId targetId } } } }`,
      { id: contoso.id },
      { token: msp.token },
    );
    expect(auditEvents.edges[0].node).toEqual({ action: "tenant.settingsUpdated", actorId: msp.adminId, targetId: contoso.id });
  });
});
