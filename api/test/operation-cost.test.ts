// What an operation costs and what a credential may spend: ordinary pages pass
// and say what they cost, costlier ones are refused before anything runs, and
// a spent budget is answered 429 with Retry-After, by every instance alike.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, subscribe, unique } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed } from "./seed.ts";

const MAX_COST = 10_000;
const PEOPLE_BUDGET = 200_000;

const TWO_PAGES = `{ customers(first: 20) { edges { node { id name users(first: 20) { edges { node { id email } } } } } } }`;
const CUSTOMERS = `query($first: Int, $last: Int) { customers(first: $first, last: $last) { edges { node { id } } } }`;
const FEED = `subscription($id: ID!) { auditEventAdded(tenantId: $id) { action } }`;
/** A customer's users, a page of `first`: 1 + first × 2 (each row an edge and a node). */
const USERS = `query($t: ID!, $first: Int) { users(tenantId: $t, first: $first) { edges { node { id } } } }`;
const USER_COUNT = `query($t: ID!) { users(tenantId: $t) { totalCount } }`;

const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename
  ... on CreateApiKeyPayload { apiKey } ... on Error { code message } } }`;

async function createKey(server: Api, adminToken: string, tenantId: string, permissions: string[]) {
  const { createApiKey } = await server.gql(CREATE_KEY, { input: { name: unique("key"), tenantId, permissions } }, { token: adminToken });
  if (createApiKey.__typename !== "CreateApiKeyPayload") throw new Error(`createApiKey failed: ${JSON.stringify(createApiKey)}`);
  return createApiKey.apiKey as string;
}

function budgetHeaders(response: Response) {
  const number = (name: string) => (response.headers.has(name) ? Number(response.headers.get(name)) : null);
  return {
    limit: number("RateLimit-Limit"),
    remaining: number("RateLimit-Remaining"),
    reset: number("RateLimit-Reset"),
    retryAfter: number("Retry-After"),
  };
}

describe("the cost of an operation", () => {
  let api: Api;
  let msp: MspSeed;
  beforeAll(async () => {
    api = await Api.start();
    msp = await seed(api).msp();
    const customer = await msp.customer();
    await customer.user();
    await msp.customer();
  });
  afterAll(() => api?.stop());

  it("passes an MSP's customers with the users of each, pages of 20 in pages of 20, and says what that cost", async () => {
    const { response, body } = await api.request(TWO_PAGES, {}, { token: msp.token });
    expect(response.status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.customers.edges).toHaveLength(2);
    // 1 + 20 × (edge + node + users(1 + 20 × (edge + node))).
    expect(body.extensions?.cost).toEqual({
      requested: 861,
      limit: MAX_COST,
      rateLimit: { limit: PEOPLE_BUDGET, remaining: expect.any(Number), resetAt: expect.any(String) },
    });
    const headers = budgetHeaders(response);
    expect(headers).toMatchObject({ limit: PEOPLE_BUDGET, remaining: body.extensions!.cost!.rateLimit!.remaining, retryAfter: null });
    expect(new Date(body.extensions!.cost!.rateLimit!.resetAt).getTime()).toBeGreaterThan(0);
  });

  it("counts the page size a variable gives, and the default page of 20 when none is given", async () => {
    const costOf = async (variables: Record<string, unknown>) => (await api.request(CUSTOMERS, variables, { token: msp.token })).body.extensions?.cost?.requested;
    expect(await costOf({ first: 5 })).toBe(11);
    expect(await costOf({ last: 3 })).toBe(7);
    expect(await costOf({})).toBe(41);
  });

  it("measures the same text again for each page size and each @include, and the same whatever ids it is asked with", async () => {
    // One text, so the API measures it once per what can change its cost and remembers that.
    const text = `query($first: Int, $withUsers: Boolean!, $id: ID!) {
      customers(first: $first) { edges { node { id users(first: 10) @include(if: $withUsers) { totalCount } } } }
      tenant(id: $id) { id }
    }`;
    const costOf = async (variables: Record<string, unknown>) => (await api.request(text, variables, { token: msp.token })).body.extensions?.cost?.requested;
    const asked = [
      [{ first: 5, withUsers: false, id: msp.id }, 1 + 5 * 2 + 1],
      [{ first: 5, withUsers: true, id: msp.id }, 1 + 5 * (2 + 1 + 10 * 0) + 1],
      [{ first: 7, withUsers: false, id: msp.id }, 1 + 7 * 2 + 1],
      [{ first: 5, withUsers: false, id: randomUUID() }, 1 + 5 * 2 + 1],
      [{ first: 5, withUsers: true, id: msp.id }, 1 + 5 * 3 + 1],
    ] as const;
    for (const [variables, cost] of asked) expect([variables, await costOf(variables)]).toEqual([variables, cost]);
  });

  it("refuses a page of 100 in a page of 100 before anything runs, saying what it costs and what one operation may", async () => {
    const name = unique("c").toLowerCase().replace(/[^a-z0-9]/g, "");
    const before = await api.request(CUSTOMERS, { first: 1 }, { token: msp.token });
    const { response, body } = await api.request(
      `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename
        ... on CreateCustomerPayload { customer { customers(first: 100) { edges { node { users(first: 100) { edges { node { id } } } } } } } } } }`,
      { input: { name, displayName: `Customer ${name}` } },
      { token: msp.token },
    );
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions).toEqual({ code: "COST_LIMIT_EXCEEDED" });
    expect(body.errors![0]!.message).toMatch(/costs 20,303, over the limit of 10,000 for one operation/);
    expect(body.extensions?.cost).toMatchObject({ requested: 20_303, limit: MAX_COST });
    // Nothing ran and nothing was charged.
    const { customers } = await api.gql(`{ customers(first: 100) { edges { node { name } } } }`, {}, { token: msp.token });
    expect(customers.edges.map((edge: { node: { name: string } }) => edge.node.name)).not.toContain(name);
    expect(budgetHeaders(response).remaining).toBe(budgetHeaders(before.response).remaining);
  });

  it("gives every answer to a credential its budget in RateLimit headers, the points left falling by what each operation cost", async () => {
    const newcomer = await seed(api).msp();
    const seen = [];
    for (let i = 0; i < 3; i += 1) {
      const { response, body } = await api.request(CUSTOMERS, { first: 10 }, { token: newcomer.token });
      expect(body.extensions?.cost?.requested).toBe(21);
      seen.push(budgetHeaders(response));
    }
    for (const headers of seen) {
      expect(headers.limit).toBe(PEOPLE_BUDGET);
      expect(Number.isInteger(headers.reset) && headers.reset! > 0 && headers.reset! <= 3600).toBe(true);
      expect(headers.retryAfter).toBeNull();
    }
    expect(seen[0]!.remaining! - seen[1]!.remaining!).toBe(21);
    expect(seen[1]!.remaining! - seen[2]!.remaining!).toBe(21);
  });

  it("gives a subscription over HTTP (SSE) the same headers, and lets the portal's pages read them", async () => {
    const streaming = new AbortController();
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      signal: streaming.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", origin: "http://portal.test", authorization: `Bearer ${msp.token}` },
      body: JSON.stringify({ query: FEED, variables: { id: msp.id } }),
    });
    expect(budgetHeaders(response)).toMatchObject({ limit: PEOPLE_BUDGET, remaining: expect.any(Number) });
    const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const name of ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"]) expect(exposed).toContain(name);
    streaming.abort();
  });

  it("tells requests without a credential what they cost, with no budget: signing in keeps its own limits per address", async () => {
    const { response, body } = await api.request(`{ __typename }`);
    expect(body).toEqual({ data: { __typename: "Query" }, extensions: { cost: { requested: 1, limit: MAX_COST } } });
    expect(budgetHeaders(response)).toEqual({ limit: null, remaining: null, reset: null, retryAfter: null });
  });

  it("still answers introspection", async () => {
    const { body } = await api.request(`{ __schema { queryType { name } types { name fields { name } } } }`, {}, { token: msp.token });
    expect(body.errors).toBeUndefined();
    expect(body.data?.__schema.queryType.name).toBe("Query");
  });

  it("says what a subscription cost on its first event only", async () => {
    const feed = subscribe(api.ws(msp.token), FEED, { id: msp.id });
    await feed.triggerUntilEvent(() => msp.customer());
    await msp.customer();
    await feed.waitForEvents(2);
    expect(feed.events[0]!.extensions?.cost).toMatchObject({ requested: 1, limit: MAX_COST, rateLimit: { limit: PEOPLE_BUDGET } });
    expect(feed.events[1]!.data?.auditEventAdded).toBeTruthy();
    expect(feed.events[1]!.extensions).toBeUndefined();
    feed.unsubscribe();
  });
});

describe("a spent budget", () => {
  let api: Api;
  let msp: MspSeed;
  let customer: CustomerSeed;
  beforeAll(async () => {
    // A budget of 100 points for each API key, so a few pages spend it.
    api = await Api.start({ RATE_LIMIT_OVERRIDES: JSON.stringify({ costPerApiKey: { points: 100, durationSeconds: 3600 } }) });
    msp = await seed(api).msp();
    customer = await msp.customer();
  });
  afterAll(() => api?.stop());

  it("is answered 429 with Retry-After and RATE_LIMITED, runs nothing, and leaves what is left for cheaper operations", async () => {
    const key = await createKey(api, msp.token, customer.id, ["READ_DIRECTORY", "MANAGE_USERS"]);
    const page = (first: number) => api.request(USERS, { t: customer.id, first }, { token: key });

    const first = await page(20);
    expect(first.body.errors).toBeUndefined();
    expect(budgetHeaders(first.response)).toMatchObject({ limit: 100, remaining: 59, retryAfter: null });
    const second = await page(20);
    expect(budgetHeaders(second.response)).toMatchObject({ limit: 100, remaining: 18, retryAfter: null });

    const refused = await page(20);
    expect(refused.response.status).toBe(429);
    const headers = budgetHeaders(refused.response);
    expect(headers).toMatchObject({ limit: 100, remaining: 18 });
    expect(Number.isInteger(headers.retryAfter) && headers.retryAfter! > 0 && headers.retryAfter! <= 3600).toBe(true);
    expect(headers.reset).toBe(headers.retryAfter);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors).toMatchObject([{ extensions: { code: "RATE_LIMITED", retryAfterSeconds: headers.retryAfter } }]);
    expect(refused.body.errors![0]!.message).toMatch(/costs 41 and 18 of the 100 points this credential may spend per hour are left/);
    expect(refused.body.extensions?.cost).toMatchObject({ requested: 41, limit: MAX_COST, rateLimit: { limit: 100, remaining: 18 } });

    // A refused mutation changes nothing.
    const usersBefore = (await api.gql(USER_COUNT, { t: customer.id }, { token: msp.token })).users.totalCount;
    const username = unique("k").slice(0, 20);
    const create = await api.request(
      `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
        ... on CreateUserPayload { user { id tenant { users(first: 20) { edges { node { id } } } } } } } }`,
      { input: { tenantId: customer.id, firstName: "Over", lastName: "Budget", username, email: `${username}@example.test`, role: "USER" } },
      { token: key },
    );
    expect(create.response.status).toBe(429);
    expect(create.body.errors).toMatchObject([{ extensions: { code: "RATE_LIMITED" } }]);
    expect((await api.gql(USER_COUNT, { t: customer.id }, { token: msp.token })).users.totalCount).toBe(usersBefore);

    // What is left still pays for a smaller page; the admin's own budget is another.
    const smaller = await page(5);
    expect(smaller.body.errors).toBeUndefined();
    expect(budgetHeaders(smaller.response).remaining).toBe(7);
  });

  it("refuses over a WebSocket too, without HTTP's hints in the error", async () => {
    const key = await createKey(api, msp.token, customer.id, ["READ_DIRECTORY"]);
    for (let i = 0; i < 2; i += 1) expect((await api.request(USERS, { t: customer.id, first: 20 }, { token: key })).response.status).toBe(200);
    const answer = subscribe(api.ws(key), USERS, { t: customer.id, first: 20 });
    await answer.waitForCompletion();
    expect(answer.events).toHaveLength(1);
    expect(answer.events[0]!.errors).toMatchObject([{ extensions: { code: "RATE_LIMITED" } }]);
    expect(answer.events[0]!.errors![0]!.extensions).not.toHaveProperty("http");
    expect(answer.events[0]!.extensions?.cost).toMatchObject({ requested: 41, rateLimit: { remaining: 18 } });
  });
});

describe.skipIf(!(process.env.DATABASE_URL && process.env.REDIS_URL))("a budget shared by two instances through Redis", () => {
  let a: Api;
  let b: Api;
  beforeAll(async () => {
    // One deployment: the same counters on both.
    [a, b] = await Api.startPair({
      RATE_LIMIT_NAMESPACE: `cost-${randomBytes(6).toString("hex")}`,
      RATE_LIMIT_OVERRIDES: JSON.stringify({ costPerApiKey: { points: 100, durationSeconds: 3600 } }),
    });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("counts on one instance what was spent on the other, and refuses on both once it is spent", async () => {
    const owner = await seed(a).msp();
    const customer = await owner.customer();
    const key = await createKey(a, owner.token, customer.id, ["READ_DIRECTORY"]);
    const page = (server: Api) => server.request(USERS, { t: customer.id, first: 20 }, { token: key });
    expect(budgetHeaders((await page(a)).response).remaining).toBe(59);
    expect(budgetHeaders((await page(b)).response).remaining).toBe(18);
    for (const server of [a, b]) {
      const refused = await page(server);
      expect(refused.response.status).toBe(429);
      expect(refused.body.errors).toMatchObject([{ extensions: { code: "RATE_LIMITED" } }]);
    }
  });
});
