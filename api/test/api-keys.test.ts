// API keys for integrations: created by a tenant's admins with a closed set of
// permissions, shown once and kept hashed, held to their permissions on every
// operation (portal-only operations refused), audited as the key, bounded by
// expiry and source ranges, and scoped for an MSP to the customers they name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ManualClock, subscribe, unique } from "./harness.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";

const clock = new ManualClock();
let api: Api;
let msp: MspSeed;
let customer: CustomerSeed;
let otherCustomer: CustomerSeed;
let customerAdmin: SeededUser;

beforeAll(async () => {
  api = await Api.start({}, { clock });
  msp = await seed(api).msp();
  [customer, otherCustomer] = await Promise.all([msp.customer(), msp.customer()]);
  customerAdmin = await customer.admin();
});
afterAll(() => api?.stop());

/** A fresh session of the MSP's admin: tests below move the clock past the idle expiry of older ones. */
const adminToken = () => seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);

const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename
  ... on CreateApiKeyPayload { apiKey key { id name prefix permissions status expiresAt allowedSourceRanges lastUsedAt lastUsedIp } }
  ... on Error { code message } } }`;

const ALL = ["READ_DIRECTORY", "MANAGE_USERS", "MANAGE_CUSTOMERS", "READ_AUDIT", "READ_LOGIN_EVENTS", "READ_WORKSTATIONS", "MANAGE_WORKSTATIONS", "MANAGE_WEBHOOKS"];

export async function createKey(server: Api, adminToken: string, input: Record<string, unknown>) {
  const data = await server.gql(CREATE, { input: { name: unique("key"), ...input } }, { token: adminToken });
  if (data.createApiKey.__typename !== "CreateApiKeyPayload") throw new Error(`createApiKey failed: ${JSON.stringify(data.createApiKey)}`);
  return data.createApiKey as { apiKey: string; key: { id: string; name: string; prefix: string; status: string } };
}

/** The error code an operation answered with: in its result union (mutations) or as a GraphQL error (queries). */
async function outcome(token: string, query: string, variables: Record<string, unknown>, field: string) {
  const { body } = await api.request(query, variables, { token });
  if (body.errors?.length) return String(body.errors[0]!.extensions?.code ?? body.errors[0]!.message);
  const value = body.data?.[field];
  if (value && typeof value === "object" && "code" in value && value.code) return String(value.code);
  return "OK";
}

/** One representative operation per permission, run by a key of the MSP that reaches every customer. */
function representative(permission: string): { query: string; variables: () => Record<string, unknown>; field: string } {
  switch (permission) {
    case "READ_DIRECTORY":
      return { query: `query($t: ID!) { users(tenantId: $t) { totalCount } }`, variables: () => ({ t: customer.id }), field: "users" };
    case "MANAGE_USERS": {
      return {
        query: `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on Error { code } } }`,
        variables: () => {
          const username = unique("k").slice(0, 20);
          return { input: { tenantId: customer.id, firstName: "Key", lastName: "Made", username, email: `${username}@example.test`, role: "USER" } };
        },
        field: "createUser",
      };
    }
    case "MANAGE_CUSTOMERS":
      return {
        query: `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename ... on Error { code } } }`,
        variables: () => {
          const name = unique("kc").toLowerCase().replace(/[^a-z0-9]/g, "");
          return { input: { name, displayName: `Key customer ${name}` } };
        },
        field: "createCustomer",
      };
    case "READ_AUDIT":
      return { query: `query($t: ID!) { auditEvents(tenantId: $t) { totalCount } }`, variables: () => ({ t: customer.id }), field: "auditEvents" };
    case "READ_LOGIN_EVENTS":
      return { query: `query($t: ID!) { loginEvents(tenantId: $t) { totalCount } }`, variables: () => ({ t: customer.id }), field: "loginEvents" };
    case "READ_WORKSTATIONS":
      return { query: `query($t: ID!) { workstations(tenantId: $t) { totalCount } }`, variables: () => ({ t: customer.id }), field: "workstations" };
    case "MANAGE_WORKSTATIONS":
      return {
        query: `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename ... on Error { code } } }`,
        variables: () => ({ input: { tenantId: customer.id } }),
        field: "createInstallToken",
      };
    case "MANAGE_WEBHOOKS":
      return { query: `query($t: ID!) { webhooks(tenantId: $t) { totalCount } }`, variables: () => ({ t: customer.id }), field: "webhooks" };
    default:
      throw new Error(`no representative for ${permission}`);
  }
}

describe("creating an API key", () => {
  it("shows a recognisable secret once and keeps only its hash", async () => {
    const created = await createKey(api, msp.token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"] });
    expect(created.apiKey).toMatch(/^lk_[0-9a-f]{72}$/);
    expect(created.key.prefix).toBe(created.apiKey.slice(0, 11));
    expect(created.key.status).toBe("ACTIVE");
    const rows = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(k)::text AS row FROM "ApiKey" k WHERE id = $1::uuid`, created.key.id);
    expect(rows[0]!.row).not.toContain(created.apiKey);
    expect(rows[0]!.row).not.toContain(created.apiKey.slice(11));
    // Nowhere else either: the audit log and the server's log never see it.
    const audit = await api.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(a)::text AS row FROM "AuditEvent" a WHERE "targetId" = $1`, created.key.id);
    expect(audit.map((event) => event.row).join("")).not.toContain(created.apiKey.slice(11));
    expect(api.logs.join("")).not.toContain(created.apiKey.slice(11));
    // The list never shows it again.
    const listed = await api.gql(`query($t: ID!) { apiKeys(tenantId: $t) { totalCount edges { node { id prefix } } } }`, { t: customer.id }, { token: msp.token });
    expect(JSON.stringify(listed)).not.toContain(created.apiKey.slice(11));
    expect(listed.apiKeys.edges.map((edge: { node: { id: string } }) => edge.node.id)).toContain(created.key.id);
  });

  it("refuses bad input with typed errors and writes nothing", async () => {
    const before = await api.db.apiKey.count({ where: { tenantId: { in: [msp.id, customer.id] } } });
    const cases: Record<string, unknown>[] = [
      { tenantId: customer.id, permissions: [] },
      { tenantId: customer.id, permissions: ["READ_AUDIT"], allowedSourceRanges: ["10.0.0.0/33"] },
      { tenantId: customer.id, permissions: ["READ_AUDIT"], expiresAt: new Date(clock.now() - 1000).toISOString() },
      { tenantId: customer.id, permissions: ["READ_AUDIT"], allCustomers: true },
      { tenantId: msp.id, permissions: ["READ_AUDIT"], customerIds: [crypto.randomUUID()] },
    ];
    for (const input of cases) {
      const data = await api.gql(CREATE, { input: { name: "bad", ...input } }, { token: msp.token });
      expect(data.createApiKey).toMatchObject({ __typename: "ValidationError", code: "VALIDATION" });
    }
    expect(await api.db.apiKey.count({ where: { tenantId: { in: [msp.id, customer.id] } } })).toBe(before);
  });

  it("is for admins only: a customer's plain user, and another MSP, get NOT_FOUND", async () => {
    const user = await customer.user();
    const other = await seed(api).msp();
    for (const token of [await user.token(), other.token]) {
      const data = await api.gql(CREATE, { input: { name: "nope", tenantId: customer.id, permissions: ["READ_AUDIT"] } }, { token });
      expect(data.createApiKey.code).toBe("NOT_FOUND");
    }
  });
});

describe("what a key may do", () => {
  it.each(ALL)("%s opens its operations, and a key with every other permission is refused them", async (permission) => {
    const only = await createKey(api, msp.token, { tenantId: msp.id, allCustomers: true, permissions: [permission] });
    const allBut = await createKey(api, msp.token, { tenantId: msp.id, allCustomers: true, permissions: ALL.filter((p) => p !== permission) });
    const operation = representative(permission);
    expect(await outcome(only.apiKey, operation.query, operation.variables(), operation.field)).toBe("OK");
    expect(await outcome(allBut.apiKey, operation.query, operation.variables(), operation.field)).toBe("FORBIDDEN");
  });

  it("never opens the portal's own operations, whatever it holds", async () => {
    const key = await createKey(api, msp.token, { tenantId: msp.id, allCustomers: true, permissions: ALL });
    const user = await customer.user();
    const portalOnly: [string, Record<string, unknown>, string][] = [
      [`mutation($input: StartPasswordLogInInput!) { startPasswordLogIn(input: $input) { __typename ... on Error { code } } }`, { input: { tenant: customer.slug, login: user.email, request: "AAAA" } }, "startPasswordLogIn"],
      [`query { sessions { id } }`, {}, "sessions"],
      [`mutation($id: ID!) { revokeSession(id: $id) { __typename ... on Error { code } } }`, { id: crypto.randomUUID() }, "revokeSession"],
      [`mutation { revokeOtherSessions { __typename } }`, {}, "revokeOtherSessions"],
      [`mutation { logOut }`, {}, "logOut"],
      [`mutation { revokeCurrentSession { __typename ... on Error { code } } }`, {}, "revokeCurrentSession"],
      [`mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename ... on Error { code } } }`, { input: { userId: user.id, passwordRegistrationId: crypto.randomUUID() } }, "setUserPassword"],
      [`mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { __typename ... on Error { code } } }`, { input: { userId: user.id, role: "ADMIN" } }, "setUserRole"],
      [`mutation($input: StartDeviceOnboardingInput!) { startDeviceOnboarding(input: $input) { __typename ... on Error { code } } }`, { input: { userId: user.id } }, "startDeviceOnboarding"],
      [`query { authenticators { id } }`, {}, "authenticators"],
      [`query { viewer { user { id } } }`, {}, "viewer"],
      [CREATE, { input: { name: "child", tenantId: msp.id, permissions: ["READ_AUDIT"] } }, "createApiKey"],
      [`mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ... on Error { code } } }`, { input: { id: key.key.id } }, "revokeApiKey"],
      [`query($t: ID!) { apiKeys(tenantId: $t) { totalCount } }`, { t: msp.id }, "apiKeys"],
    ];
    for (const [query, variables, field] of portalOnly) {
      expect([field, await outcome(key.apiKey, query, variables, field)]).toEqual([field, "FORBIDDEN"]);
    }
  });

  it("is recorded in the audit log as the key", async () => {
    const key = await createKey(api, msp.token, { tenantId: customer.id, permissions: ["MANAGE_USERS", "READ_AUDIT"] });
    const operation = representative("MANAGE_USERS");
    expect(await outcome(key.apiKey, operation.query, operation.variables(), operation.field)).toBe("OK");
    const log = await api.gql(
      `query($t: ID!) { auditEvents(tenantId: $t, first: 5) { edges { node { action actorId actorLabel } } } }`,
      { t: customer.id },
      { token: key.apiKey },
    );
    expect(log.auditEvents.edges[0].node).toEqual({ action: "user.created", actorId: key.key.id, actorLabel: `API key ${key.key.name}` });
  });

  it("an MSP key naming customers reaches those and the MSP, not the others", async () => {
    const key = await createKey(api, msp.token, { tenantId: msp.id, customerIds: [customer.id], permissions: ["READ_DIRECTORY"] });
    const users = `query($t: ID!) { users(tenantId: $t) { totalCount } }`;
    expect((await api.gql(users, { t: customer.id }, { token: key.apiKey })).users).not.toBeNull();
    expect((await api.gql(users, { t: msp.id }, { token: key.apiKey })).users).not.toBeNull();
    expect((await api.gql(users, { t: otherCustomer.id }, { token: key.apiKey })).users).toBeNull();
    const customers = await api.gql(`query { customers { edges { node { id } } } }`, {}, { token: key.apiKey });
    expect(customers.customers.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([customer.id]);

    // "All customers" includes one created after the key.
    const all = await createKey(api, msp.token, { tenantId: msp.id, allCustomers: true, permissions: ["READ_DIRECTORY"] });
    const later = await msp.customer();
    expect((await api.gql(users, { t: later.id }, { token: all.apiKey })).users).not.toBeNull();
  });

  it("a customer's key reaches its own tenant only", async () => {
    const key = await createKey(api, msp.token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"] });
    const users = `query($t: ID!) { users(tenantId: $t) { totalCount } }`;
    expect((await api.gql(users, { t: customer.id }, { token: key.apiKey })).users).not.toBeNull();
    expect((await api.gql(users, { t: otherCustomer.id }, { token: key.apiKey })).users).toBeNull();
    expect((await api.gql(users, { t: msp.id }, { token: key.apiKey })).users).toBeNull();
  });
});

describe("when a key is accepted", () => {
  const probe = `query($t: ID!) { users(tenantId: $t) { totalCount } }`;
  const accepted = async (token: string) => {
    const { body } = await api.request(probe, { t: customer.id }, { token });
    return body.data?.users != null;
  };

  it("stops at its expiry", async () => {
    const key = await createKey(api, msp.token, {
      tenantId: customer.id,
      permissions: ["READ_DIRECTORY"],
      expiresAt: new Date(clock.now() + 3600_000).toISOString(),
    });
    expect(await accepted(key.apiKey)).toBe(true);
    clock.advance(3600_000 + 1);
    expect(await accepted(key.apiKey)).toBe(false);
    const listed = await api.gql(`query($t: ID!) { apiKeys(tenantId: $t, first: 100) { edges { node { id status } } } }`, { t: customer.id }, { token: await adminToken() });
    expect(listed.apiKeys.edges.find((edge: { node: { id: string } }) => edge.node.id === key.key.id).node.status).toBe("EXPIRED");
  });

  it("comes only from its allowed source ranges (IPv4 and IPv6)", async () => {
    const token = await adminToken();
    const here = await createKey(api, token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"], allowedSourceRanges: ["2001:db8::/32", "127.0.0.0/8"] });
    const elsewhere = await createKey(api, token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"], allowedSourceRanges: ["10.0.0.0/8", "2001:db8::/32"] });
    expect(await accepted(here.apiKey)).toBe(true);
    expect(await accepted(elsewhere.apiKey)).toBe(false);
  });

  it("records its last use, at most once a minute", async () => {
    const token = await adminToken();
    const key = await createKey(api, token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"] });
    expect(await accepted(key.apiKey)).toBe(true);
    const first = await api.db.apiKey.findUniqueOrThrow({ where: { id: key.key.id } });
    expect(first.lastUsedAt?.getTime()).toBe(clock.now());
    expect(first.lastUsedIp).toBe("127.0.0.1");
    clock.advance(30_000);
    expect(await accepted(key.apiKey)).toBe(true);
    expect((await api.db.apiKey.findUniqueOrThrow({ where: { id: key.key.id } })).lastUsedAt).toEqual(first.lastUsedAt);
    clock.advance(31_000);
    expect(await accepted(key.apiKey)).toBe(true);
    expect((await api.db.apiKey.findUniqueOrThrow({ where: { id: key.key.id } })).lastUsedAt?.getTime()).toBe(clock.now());
  });

  it("is refused at once after revocation, and a malformed or cookie-borne key never counts", async () => {
    const token = await adminToken();
    const key = await createKey(api, token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"] });
    expect(await accepted(key.apiKey)).toBe(true);
    const revoked = await api.gql(
      `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ... on RevokeApiKeyPayload { key { status revokedAt } } } }`,
      { input: { id: key.key.id } },
      { token },
    );
    expect(revoked.revokeApiKey.key.status).toBe("REVOKED");
    expect(await accepted(key.apiKey)).toBe(false);
    // One changed digit breaks the checksum.
    const tampered = key.apiKey.slice(0, 20) + (key.apiKey[20] === "a" ? "b" : "a") + key.apiKey.slice(21);
    expect(await accepted(tampered)).toBe(false);
    const live = await createKey(api, token, { tenantId: customer.id, permissions: ["READ_DIRECTORY"] });
    const { body } = await api.request(probe, { t: customer.id }, { headers: { cookie: `__Secure-latchkey_session=${live.apiKey}`, "x-graphql-yoga-csrf": "1" } });
    expect(body.data?.users ?? null).toBeNull();
  });
});

describe("isolation", () => {
  it("revokeApiKey and apiKeys answer another tenant's admin like a missing id", async () => {
    const token = await adminToken();
    const key = await createKey(api, token, { tenantId: customer.id, permissions: ["READ_AUDIT"] });
    const outsider = await seed(api).msp();
    const revoke = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ... on Error { code } } }`;
    const theirs = await api.gql(revoke, { input: { id: key.key.id } }, { token: outsider.token });
    const missing = await api.gql(revoke, { input: { id: crypto.randomUUID() } }, { token: outsider.token });
    expect(theirs.revokeApiKey).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(missing.revokeApiKey).toEqual(theirs.revokeApiKey);
    expect((await api.db.apiKey.findUniqueOrThrow({ where: { id: key.key.id } })).revokedAt).toBeNull();
    const list = await api.gql(`query($t: ID!) { apiKeys(tenantId: $t) { totalCount } }`, { t: customer.id }, { token: outsider.token });
    expect(list.apiKeys).toBeNull();
    // A customer's admin does not see the MSP's keys.
    const mspList = await api.gql(`query($t: ID!) { apiKeys(tenantId: $t) { totalCount } }`, { t: msp.id }, { token: await customerAdmin.token() });
    expect(mspList.apiKeys).toBeNull();
  });

  it("refuses a page larger than the maximum", async () => {
    const { body } = await api.request(`query($t: ID!) { apiKeys(tenantId: $t, first: 101) { totalCount } }`, { t: customer.id }, { token: await adminToken() });
    expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION");
  });
});

describe.skipIf(!(process.env.DATABASE_URL && process.env.REDIS_URL))("across two instances sharing PostgreSQL and Redis", () => {
  let a: Api;
  let b: Api;
  beforeAll(async () => {
    // Each with its own cache of recent lookups.
    [a, b] = await Api.startPair();
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("a key revoked on one instance is refused on the other at once, and its live feeds end", async () => {
    const owner = await seed(a).msp();
    const tenant = await owner.customer();
    const key = await createKey(a, owner.token, { tenantId: tenant.id, permissions: ["READ_DIRECTORY", "READ_AUDIT"] });
    const probe = `query($t: ID!) { users(tenantId: $t) { totalCount } }`;
    // Both instances have just looked the key up (and keep it for a few seconds).
    for (const instance of [a, b]) expect((await instance.gql(probe, { t: tenant.id }, { token: key.apiKey })).users).not.toBeNull();
    const feed = subscribe(b.ws(key.apiKey), `subscription($t: ID!) { auditEventAdded(tenantId: $t) { action } }`, { t: tenant.id });
    await feed.triggerUntilEvent(() => auditSomething(a, owner.token, tenant.id));

    const revoked = await a.gql(`mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename } }`, { input: { id: key.key.id } }, { token: owner.token });
    expect(revoked.revokeApiKey.__typename).toBe("RevokeApiKeyPayload");
    const at = Date.now();
    expect((await a.gql(probe, { t: tenant.id }, { token: key.apiKey })).users).toBeNull();
    // B hears of it through Redis, well before its cache entry would have aged out.
    while ((await b.gql(probe, { t: tenant.id }, { token: key.apiKey })).users !== null) {
      expect(Date.now() - at, "B still accepted the revoked key").toBeLessThan(2_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await feed.waitForCompletion(5_000);
  });
});

async function auditSomething(server: Api, token: string, tenantId: string) {
  const username = unique("x").slice(0, 20);
  await server.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }`,
    { input: { tenantId, firstName: "Feed", lastName: "Event", username, email: `${username}@example.test`, role: "USER" } },
    { token },
  );
}
