// Cross-tenant isolation: every resolver that takes an id answers another
// tenant exactly as it answers a random, nonexistent id (NOT_FOUND for
// mutations, null for queries), changes nothing, and no relation path from a
// visible object reaches a row of another tenant.
//
// The world (built once, in beforeAll): MSP A with customers A1 and A2, MSP B
// with customer B1. A's technician techA1 is delegated to A1, techA2 to nothing;
// B's technician techB1 to B1. Each customer has an admin and users; A1 also
// holds the `victim` (an active user with a live session) and `dormant` (a
// disabled user), and MSP A the technician `techVictim`. Attacks target A's rows.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Authenticator } from "@latchkey/mobile";
import { FINISH_PASSWORD_REGISTRATION, START_PASSWORD_REGISTRATION, startRegistration } from "@latchkey/passwords";
import { Api, answerOf, subscribe, unique, type GqlResult } from "./harness.ts";
import { adminPhone, PASSWORD, seed, type SeededUser } from "./seed.ts";
import { passwordLogIn } from "./password-login.ts";

let api: Api;
let w: World;

beforeAll(async () => {
  api = await Api.start();
  w = await world(api);
});
afterAll(() => api?.stop());

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

/** Someone making requests: their bearer token (null: signed out). */
type Actor = { token: string | null };

async function world(api: Api) {
  const s = seed(api);
  const [a, b] = await Promise.all([s.msp(), s.msp()]);
  const [a1, a2, b1] = await Promise.all([a.customer(), a.customer(), b.customer()]);

  const [techA1, techA2, techVictim, techB1] = await Promise.all([a.technician(), a.technician(), a.technician(), b.technician()]);
  await Promise.all([a.delegate(techA1.id, a1.id), b.delegate(techB1.id, b1.id)]);

  const [adminA1, userA1, victim, dormant, adminA2, userA2, adminB1, userB1] = await Promise.all([
    a1.admin(), a1.user(), a1.user(), a1.user(), a2.admin(), a2.user(), b1.admin(), b1.user(),
  ]);

  const disabled = await api.gql(
    `mutation($input: DisableUserInput!) { disableUser(input: $input) { __typename } }`,
    { input: { userId: dormant.id } },
    { token: a.token },
  );
  if (disabled.disableUser.__typename !== "DisableUserPayload") throw new Error(`disable failed: ${JSON.stringify(disabled)}`);

  const signedIn = async (user: SeededUser): Promise<Actor> => ({ token: await user.token() });
  const [techA1s, techA2s, techB1s, adminA1s, adminA2s, adminB1s, userA1s, userA2s, userB1s, victims] = await Promise.all(
    [techA1, techA2, techB1, adminA1, adminA2, adminB1, userA1, userA2, userB1, victim].map(signedIn),
  );
  const actors = {
    adminA: { token: a.token },
    adminB: { token: b.token },
    techA1: techA1s!,
    techA2: techA2s!,
    techB1: techB1s!,
    adminA1: adminA1s!,
    adminA2: adminA2s!,
    adminB1: adminB1s!,
    userA1: userA1s!,
    userA2: userA2s!,
    userB1: userB1s!,
    victim: victims!,
    signedOut: { token: null },
  } satisfies Record<string, Actor>;
  return { s, a, b, a1, a2, b1, techA1, techA2, techVictim, techB1, adminA1, userA1, victim, dormant, adminA2, userA2, adminB1, userB1, actors };
}
type World = Awaited<ReturnType<typeof world>>;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** `cost` is what the operation cost: it depends on the query alone, never on what the viewer may see. */
async function send(actor: Actor, query: string, variables: Record<string, unknown> = {}) {
  const { response, body } = await api.request(query, variables, { token: actor.token });
  return { status: response.status, body: answerOf(body), cost: body.extensions?.cost?.requested };
}

/** A mutation's typed result is NOT_FOUND, with no GraphQL error beside it. */
function expectNotFound(result: { body: GqlResult }, field: string) {
  expect(result.body.errors, JSON.stringify(result.body.errors)).toBeUndefined();
  expect(result.body.data?.[field]).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
}

/**
 * Sends `query` as `actor` with the real id and again with a random UUID in its
 * place, and expects the very same HTTP answer: the viewer cannot tell a row
 * they may not see from one that does not exist.
 */
async function expectIndistinguishable(actor: Actor, query: string, variables: (id: string) => Record<string, unknown>, id: string) {
  const real = await send(actor, query, variables(id));
  const missing = await send(actor, query, variables(randomUUID()));
  expect(real.body, "the answer for a real id differs from the answer for a random id").toEqual(missing.body);
  expect(real.cost).toBe(missing.cost);
  expect(real.status).toBe(missing.status);
  return real;
}

function mutationDoc(field: string, input = `${field[0]!.toUpperCase()}${field.slice(1)}Input`) {
  return `mutation($input: ${input}!) { ${field}(input: $input) { __typename ... on Error { code message } } }`;
}

/** Everything an attack on a user could have changed. */
async function userState(userId: string) {
  const user = await api.db.user.findUnique({ where: { id: userId } });
  const liveSessions = await api.db.session.count({ where: { userId, revokedAt: null } });
  const audit = user ? await api.db.auditEvent.count({ where: { tenantId: user.tenantId } }) : null;
  const delegations = await api.db.delegation.count({ where: { technicianId: userId } });
  return { user, liveSessions, audit, delegations };
}

/** Everything an attack on a tenant could have changed. */
async function tenantState(tenantId: string) {
  const tenant = await api.db.tenant.findUnique({ where: { id: tenantId } });
  const users = await api.db.user.findMany({ where: { tenantId }, orderBy: { id: "asc" } });
  const audit = await api.db.auditEvent.count({ where: { tenantId } });
  return { tenant, users, audit };
}

const edgeIds = (connection: { edges: { node: { id: string } }[] } | null | undefined) =>
  (connection?.edges ?? []).map((edge) => edge.node.id);

// ---------------------------------------------------------------------------
// Queries taking ids
// ---------------------------------------------------------------------------

const QUERIES = {
  tenant: `query($id: ID!) { tenant(id: $id) { id slug displayName kind } }`,
  user: `query($id: ID!) { user(id: $id) { id email tenant { id } } }`,
  users: `query($id: ID!) { users(tenantId: $id, first: 50) { totalCount edges { node { id email } } } }`,
  usersSearch: `query($id: ID!) { users(tenantId: $id, first: 50, search: "e") { totalCount edges { node { id email } } } }`,
  /** Only the count: a connection must not skip its access check when no node is asked for. */
  usersCount: `query($id: ID!) { users(tenantId: $id) { totalCount } }`,
  /** Only the count of a search: would tell whether an email exists in the tenant. */
  usersProbe: `query($id: ID!) { users(tenantId: $id, search: "@example.test") { totalCount } }`,
  auditEvents: `query($id: ID!) { auditEvents(tenantId: $id, first: 50) { edges { node { id action actorId } } } }`,
} as const;

const FIELD_OF: Record<keyof typeof QUERIES, string> = {
  tenant: "tenant",
  user: "user",
  users: "users",
  usersSearch: "users",
  usersCount: "users",
  usersProbe: "users",
  auditEvents: "auditEvents",
};

type Target = { label: string; id: () => string };
const T = {
  mspA: { label: "MSP A", id: () => w.a.id },
  mspB: { label: "MSP B", id: () => w.b.id },
  custA1: { label: "customer A1", id: () => w.a1.id },
  custA2: { label: "customer A2", id: () => w.a2.id },
  adminA: { label: "MSP A's admin", id: () => w.a.adminId },
  techA1: { label: "A's delegated technician", id: () => w.techA1.id },
  techA2: { label: "A's undelegated technician", id: () => w.techA2.id },
  adminA1: { label: "customer A1's admin", id: () => w.adminA1.id },
  victim: { label: "a user of customer A1", id: () => w.victim.id },
  userA2: { label: "a user of customer A2", id: () => w.userA2.id },
} satisfies Record<string, Target>;

type ActorKey = keyof World["actors"];

/** Who must get null for which ids (tenant ids for tenant/users/auditEvents, user ids for user). */
const INVISIBLE_TENANTS: [ActorKey, Target[]][] = [
  ["adminB", [T.mspA, T.custA1]],
  ["techA2", [T.custA1, T.custA2]],
  ["techA1", [T.custA2]],
  ["techB1", [T.mspA, T.custA1]],
  ["adminA2", [T.custA1, T.mspA]],
  ["adminB1", [T.custA1, T.mspA]],
  ["userA1", [T.custA2, T.mspA, T.mspB]],
  ["signedOut", [T.custA1, T.mspA]],
];
/** Tenants the viewer sees but does not administer: no directory, no audit log. */
const UNADMINISTERED_OWN_TENANTS: [ActorKey, Target[]][] = [
  ["techA1", [T.mspA]],
  ["techA2", [T.mspA]],
  ["userA1", [T.custA1]],
];
const INVISIBLE_USERS: [ActorKey, Target[]][] = [
  ["adminB", [T.victim, T.adminA1, T.techA1, T.adminA]],
  ["techA2", [T.victim, T.techA1, T.adminA]],
  ["techA1", [T.userA2, T.techA2, T.adminA]],
  ["techB1", [T.victim, T.techA1]],
  ["adminA2", [T.victim, T.adminA1, T.techA1]],
  ["adminB1", [T.victim, T.adminA1]],
  ["userA1", [T.victim, T.adminA1, T.techA1]],
  ["signedOut", [T.victim, T.adminA]],
];

function label(key: ActorKey) {
  const labels: Record<ActorKey, string> = {
    adminA: "MSP A's admin",
    adminB: "MSP B's admin",
    techA1: "A's technician delegated to customer A1",
    techA2: "a technician without delegation",
    techB1: "MSP B's technician",
    adminA1: "customer A1's admin",
    adminA2: "another customer's admin",
    adminB1: "MSP B's customer admin",
    userA1: "a customer user",
    userA2: "a customer user of A2",
    userB1: "a customer user of B1",
    victim: "the victim",
    signedOut: "a signed-out visitor",
  };
  return labels[key];
}

describe("queries taking an id answer null, exactly as for a missing id", () => {
  for (const [actor, targets] of INVISIBLE_TENANTS) {
    for (const target of targets) {
      for (const name of ["tenant", "users", "usersSearch", "auditEvents"] as const) {
        it(`${label(actor)} gets null for ${name}(${target.label})`, async () => {
          const result = await expectIndistinguishable(w.actors[actor], QUERIES[name], (id) => ({ id }), target.id());
          expect(result.body).toEqual({ data: { [FIELD_OF[name]]: null } });
        });
      }
    }
  }

  for (const [actor, targets] of UNADMINISTERED_OWN_TENANTS) {
    for (const target of targets) {
      it(`${label(actor)} sees ${target.label} but gets null for its directory and audit log`, async () => {
        const tenant = await send(w.actors[actor], QUERIES.tenant, { id: target.id() });
        expect(tenant.body.data?.tenant?.id).toBe(target.id());
        for (const name of ["users", "usersSearch", "auditEvents"] as const) {
          const result = await expectIndistinguishable(w.actors[actor], QUERIES[name], (id) => ({ id }), target.id());
          expect(result.body, name).toEqual({ data: { [FIELD_OF[name]]: null } });
        }
      });
    }
  }

  for (const [actor, targets] of INVISIBLE_USERS) {
    for (const target of targets) {
      it(`${label(actor)} gets null for user(${target.label})`, async () => {
        const result = await expectIndistinguishable(w.actors[actor], QUERIES.user, (id) => ({ id }), target.id());
        expect(result.body).toEqual({ data: { user: null } });
      });
    }
  }

  // Types read only the columns a query asks for; the checks read the tenant
  // columns whatever is asked, so asking for the bare id changes nothing.
  it("asking for nothing but ids, another MSP's admin still gets null or NOT_FOUND for every tenant-owned type", async () => {
    const bare = {
      tenant: [`query($id: ID!) { tenant(id: $id) { id } }`, "tenant"],
      user: [`query($id: ID!) { user(id: $id) { id } }`, "user"],
      users: [`query($id: ID!) { users(tenantId: $id, first: 5) { edges { node { id } } } }`, "users"],
      auditEvents: [`query($id: ID!) { auditEvents(tenantId: $id, first: 5) { edges { node { id } } } }`, "auditEvents"],
      loginEvents: [`query($id: ID!) { loginEvents(tenantId: $id, first: 5) { edges { node { id } } } }`, "loginEvents"],
      workstations: [`query($id: ID!) { workstations(tenantId: $id, first: 5) { edges { node { id } } } }`, "workstations"],
      installTokens: [`query($id: ID!) { installTokens(tenantId: $id) { id } }`, "installTokens"],
    } as const;
    const targets: Record<keyof typeof bare, string> = {
      tenant: w.a1.id,
      user: w.victim.id,
      users: w.a1.id,
      auditEvents: w.a1.id,
      loginEvents: w.a1.id,
      workstations: w.a1.id,
      installTokens: w.a1.id,
    };
    for (const [name, [query, field]] of Object.entries(bare) as [keyof typeof bare, readonly [string, string]][]) {
      const result = await expectIndistinguishable(w.actors.adminB, query, (id) => ({ id }), targets[name]);
      const data = result.body.data?.[field] ?? null;
      const code = result.body.errors?.[0]?.extensions?.code ?? null;
      expect(data === null && (code === null || code === "NOT_FOUND"), `${name}: ${JSON.stringify(result.body)}`).toBe(true);
      // The owner gets the rows, so the refusal above is not vacuous.
      const own = await send(w.actors.adminA, query, { id: targets[name] });
      expect(own.body.errors, name).toBeUndefined();
      expect(own.body.data?.[field], name).not.toBeNull();
    }
  });

  it("the same viewers do reach their own rows (the tests above are not vacuous)", async () => {
    const own = await send(w.actors.adminB, QUERIES.users, { id: w.b1.id });
    expect(own.body.data?.users?.totalCount).toBeGreaterThan(0);
    const delegated = await send(w.actors.techA1, QUERIES.users, { id: w.a1.id });
    expect(edgeIds(delegated.body.data?.users)).toContain(w.victim.id);
    const audit = await send(w.actors.adminA1, QUERIES.auditEvents, { id: w.a1.id });
    expect(audit.body.data?.auditEvents?.edges.length).toBeGreaterThan(0);
    const self = await send(w.actors.userA1, QUERIES.user, { id: w.userA1.id });
    expect(self.body.data?.user?.id).toBe(w.userA1.id);
  });

  it("several lookups batched in one request do not let an allowed id open a denied one", async () => {
    const { body } = await send(
      w.actors.techA1,
      `query($a1: ID!, $a2: ID!, $u2: ID!) {
        allowed: tenant(id: $a1) { id users(first: 50) { totalCount } }
        denied: tenant(id: $a2) { id users(first: 50) { totalCount } }
        deniedUsers: users(tenantId: $a2, first: 50) { edges { node { id } } }
        deniedAudit: auditEvents(tenantId: $a2, first: 5) { edges { node { id } } }
        deniedUser: user(id: $u2) { id }
      }`,
      { a1: w.a1.id, a2: w.a2.id, u2: w.userA2.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.allowed?.id).toBe(w.a1.id);
    expect(body.data).toMatchObject({ denied: null, deniedUsers: null, deniedAudit: null, deniedUser: null });
  });
});

// ---------------------------------------------------------------------------
// Cursors are ids too
// ---------------------------------------------------------------------------

/**
 * A Relay cursor naming `id`, in the API's own format: read a real cursor of a
 * row the viewer sees and put the other id in its place.
 */
function cursorLike(realCursor: string, realId: string, id: string) {
  const decoded = Buffer.from(realCursor, "base64").toString("utf8");
  expect(decoded).toContain(realId);
  return Buffer.from(decoded.replace(realId, id)).toString("base64");
}

describe("a cursor naming another tenant's row answers as a cursor naming nothing", () => {
  const USERS_PAGE = `query($id: ID!, $after: String, $before: String, $first: Int, $last: Int) {
    users(tenantId: $id, after: $after, before: $before, first: $first, last: $last) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }`;

  async function ownUserCursor() {
    const { users } = await api.gql(`query($id: ID!) { users(tenantId: $id, first: 1) { edges { cursor node { id } } } }`, { id: w.b1.id }, { token: w.actors.adminB.token });
    return { cursor: users.edges[0].cursor as string, id: users.edges[0].node.id as string };
  }

  for (const target of [T.adminA1, T.victim, T.techA1, T.adminA]) {
    for (const direction of ["after", "before"] as const) {
      it(`MSP B's admin paging B1's directory ${direction} a cursor naming ${target.label} learns nothing`, async () => {
        const own = await ownUserCursor();
        const page = direction === "after" ? { first: 50 } : { last: 50 };
        await expectIndistinguishable(
          w.actors.adminB,
          USERS_PAGE,
          (id) => ({ id: w.b1.id, ...page, [direction]: cursorLike(own.cursor, own.id, id) }),
          target.id(),
        );
      });
    }
  }

  it("MSP B's admin paging B1's directory through the tenant with a cursor naming A's user learns nothing", async () => {
    const own = await ownUserCursor();
    await expectIndistinguishable(
      w.actors.adminB,
      `query($id: ID!, $after: String) { tenant(id: $id) { users(first: 50, after: $after) { edges { node { id } } } } }`,
      (id) => ({ id: w.b1.id, after: cursorLike(own.cursor, own.id, id) }),
      w.adminA1.id,
    );
  });

  it("customers(after:) with a cursor naming another MSP's customer or an undelegated customer learns nothing", async () => {
    const { customers } = await api.gql(`{ customers(first: 1) { edges { cursor node { id } } } }`, {}, { token: w.actors.adminB.token });
    const own = { cursor: customers.edges[0].cursor as string, id: customers.edges[0].node.id as string };
    const page = `query($after: String) { customers(first: 50, after: $after) { totalCount edges { node { id } } } }`;
    for (const target of [w.a1.id, w.a2.id]) {
      await expectIndistinguishable(w.actors.adminB, page, (id) => ({ after: cursorLike(own.cursor, own.id, id) }), target);
      await expectIndistinguishable(w.actors.techA1, page, (id) => ({ after: cursorLike(own.cursor, own.id, id) }), target === w.a1.id ? w.b1.id : target);
    }
  });

  it("auditEvents(after:) with a cursor naming another tenant's event learns nothing", async () => {
    const foreign = await api.db.auditEvent.findMany({ where: { tenantId: w.a1.id }, orderBy: { createdAt: "asc" } });
    const { auditEvents } = await api.gql(
      `query($id: ID!) { auditEvents(tenantId: $id, first: 1) { edges { cursor node { id } } } }`,
      { id: w.b1.id },
      { token: w.actors.adminB.token },
    );
    const own = { cursor: auditEvents.edges[0].cursor as string, id: auditEvents.edges[0].node.id as string };
    const page = `query($id: ID!, $after: String) { auditEvents(tenantId: $id, first: 50, after: $after) { edges { node { id } } } }`;
    for (const event of [foreign[0]!, foreign[foreign.length - 1]!]) {
      await expectIndistinguishable(w.actors.adminB, page, (id) => ({ id: w.b1.id, after: cursorLike(own.cursor, own.id, id) }), event.id);
    }
  });

  it("a cursor holding a malformed id is refused cleanly, never an internal error", async () => {
    const own = await ownUserCursor();
    for (const bad of ["not-a-uuid", "", "' OR 1=1 --"]) {
      const { body } = await send(w.actors.adminB, USERS_PAGE, { id: w.b1.id, first: 5, after: cursorLike(own.cursor, own.id, bad) });
      const codes = (body.errors ?? []).map((error) => error.extensions?.code);
      expect(codes, `cursor id ${JSON.stringify(bad)}: ${JSON.stringify(body)}`).not.toContain("INTERNAL_SERVER_ERROR");
    }
  });
});

describe("connections that are null when not permitted stay null whatever is selected", () => {
  // Asking only for totalCount (or a search's totalCount) must not skip the
  // access check: the count of another tenant's directory, or whether an email
  // exists in it, is that tenant's data.
  for (const [actor, targets] of [...INVISIBLE_TENANTS, ...UNADMINISTERED_OWN_TENANTS]) {
    it(`${label(actor)} gets null for users(tenantId:) { totalCount } of ${targets.map((t) => t.label).join(" and ")}, with or without a search`, async () => {
      for (const target of targets) {
        for (const name of ["usersCount", "usersProbe"] as const) {
          const real = await send(w.actors[actor], QUERIES[name], { id: target.id() });
          const missing = await send(w.actors[actor], QUERIES[name], { id: randomUUID() });
          expect.soft(real.body, `${name}(${target.label}) vs a random id`).toEqual(missing.body);
          expect.soft(real.body, `${name}(${target.label})`).toEqual({ data: { users: null } });
        }
      }
    });
  }

  for (const [name, query] of [
    ["users", `query($id: ID!) { users(tenantId: $id) { __typename } }`],
    ["auditEvents", `query($id: ID!) { auditEvents(tenantId: $id) { __typename } }`],
  ] as const) {
    it(`${name}(another tenant) with only __typename selected is null for MSP B's admin`, async () => {
      const result = await expectIndistinguishable(w.actors.adminB, query, (id) => ({ id }), w.a1.id);
      expect(result.body).toEqual({ data: { [name]: null } });
    });
  }

  it("signed out, customers is null even when only totalCount is asked", async () => {
    const { body } = await send(w.actors.signedOut, `{ customers { totalCount } }`);
    expect(body).toEqual({ data: { customers: null } });
  });
});

// ---------------------------------------------------------------------------
// Mutations taking ids
// ---------------------------------------------------------------------------

type UserMutation = {
  field: string;
  verb: string;
  input: (userId: string) => Record<string, unknown>;
  /** The customer-side target: a user of customer A1 (for enableUser, a disabled one). */
  customerTarget: () => string;
};

/** A well-formed OPAQUE registration request: what a client would send to start registering a password. */
const { request: REGISTRATION_REQUEST } = await startRegistration("isolation-check-passphrase");

const USER_MUTATIONS: UserMutation[] = [
  {
    field: "startPasswordRegistration",
    verb: "registering a password for",
    input: (userId) => ({ userId, request: REGISTRATION_REQUEST }),
    customerTarget: () => w.victim.id,
  },
  {
    field: "setUserPassword",
    verb: "setting a registered password of",
    input: (userId) => ({ userId, passwordRegistrationId: "00000000-0000-4000-8000-000000000000" }),
    customerTarget: () => w.victim.id,
  },
  { field: "updateUser", verb: "editing", input: (userId) => ({ userId, firstName: "Mallory", email: "mallory@evil.test" }), customerTarget: () => w.victim.id },
  { field: "disableUser", verb: "disabling", input: (userId) => ({ userId }), customerTarget: () => w.victim.id },
  { field: "enableUser", verb: "enabling", input: (userId) => ({ userId }), customerTarget: () => w.dormant.id },
  { field: "deleteUser", verb: "deleting", input: (userId) => ({ userId }), customerTarget: () => w.victim.id },
  { field: "setUserRole", verb: "changing the role of", input: (userId) => ({ userId, role: "ADMIN" }), customerTarget: () => w.victim.id },
];

/** Who must not manage a user of customer A1, and who must not manage a technician of MSP A. */
const CANNOT_MANAGE_CUSTOMER_USER: ActorKey[] = ["adminB", "techA2", "techB1", "adminA2", "adminB1", "userA1"];
const CANNOT_MANAGE_MSP_USER: ActorKey[] = ["adminB", "techA1", "adminA1", "userA1"];

describe("mutations on another tenant's user answer NOT_FOUND and change nothing", () => {
  for (const mutation of USER_MUTATIONS) {
    const doc = mutationDoc(mutation.field);
    const cases: [ActorKey, string, () => string][] = [
      ...CANNOT_MANAGE_CUSTOMER_USER.map((actor): [ActorKey, string, () => string] => [actor, "a user of customer A1", mutation.customerTarget]),
      ...CANNOT_MANAGE_MSP_USER.map((actor): [ActorKey, string, () => string] => [actor, "a technician of MSP A", () => w.techVictim.id]),
    ];
    for (const [actor, targetLabel, target] of cases) {
      it(`${label(actor)} gets NOT_FOUND ${mutation.verb} ${targetLabel} (${mutation.field})`, async () => {
        const before = await userState(target());
        const result = await expectIndistinguishable(w.actors[actor], doc, (id) => ({ input: mutation.input(id) }), target());
        expectNotFound(result, mutation.field);
        expect(await userState(target())).toEqual(before);
      });
    }
  }

  it("the victims still sign in and work after all of the above", async () => {
    const { viewer } = await api.gql(`{ viewer { user { id status firstName role } } }`, {}, { token: w.actors.victim.token });
    expect(viewer.user).toMatchObject({ id: w.victim.id, status: "ACTIVE", role: "USER", firstName: "Test" });
    await w.s.logIn(w.a.slug, w.techVictim.email, PASSWORD);
  });
});

type TenantMutation = { field: string; verb: string; input: (tenantId: string, role: string) => Record<string, unknown> };
const TENANT_MUTATIONS: TenantMutation[] = [
  {
    field: "createUser",
    verb: "creating an admin in",
    input: (tenantId, role) => {
      const username = unique("evil").slice(0, 20);
      return { tenantId, role, firstName: "Eve", lastName: "Evil", username, email: `${username}@evil.test` };
    },
  },
  { field: "updateTenantSettings", verb: "renaming", input: (tenantId) => ({ tenantId, displayName: "Pwned", userSource: "LOCAL" }) },
];
const CANNOT_ADMINISTER: [ActorKey, Target, string][] = [
  ...(["adminB", "techA2", "techB1", "adminA2", "adminB1"] as ActorKey[]).map((actor): [ActorKey, Target, string] => [actor, T.custA1, "ADMIN"]),
  ...(["adminB", "techA1", "techA2", "adminA1", "userA1"] as ActorKey[]).map((actor): [ActorKey, Target, string] => [actor, T.mspA, "ADMIN"]),
];

describe("mutations on another tenant answer NOT_FOUND and change nothing", () => {
  for (const mutation of TENANT_MUTATIONS) {
    const doc = mutationDoc(mutation.field);
    for (const [actor, target, role] of CANNOT_ADMINISTER) {
      it(`${label(actor)} gets NOT_FOUND ${mutation.verb} ${target.label} (${mutation.field})`, async () => {
        const before = await tenantState(target.id());
        const input = mutation.input(target.id(), role);
        const result = await expectIndistinguishable(w.actors[actor], doc, (tenantId) => ({ input: { ...input, tenantId } }), target.id());
        expectNotFound(result, mutation.field);
        expect(await tenantState(target.id())).toEqual(before);
        if (mutation.field === "createUser") expect(await api.db.user.count({ where: { email: String(input.email) } })).toBe(0);
      });
    }

    it(`a customer user cannot use ${mutation.field} on their own tenant, and nothing changes`, async () => {
      const before = await tenantState(w.a1.id);
      const { body } = await send(w.actors.userA1, doc, { input: mutation.input(w.a1.id, "ADMIN") });
      expect(body.errors).toBeUndefined();
      expect(["NotFoundError", "ForbiddenError"]).toContain(body.data?.[mutation.field]?.__typename);
      expect(await tenantState(w.a1.id)).toEqual(before);
    });
  }
});

// A customer's lifecycle is its MSP's admins' business alone.
const CUSTOMER_LIFECYCLE: { field: string; verb: string; input: (customerId: string) => Record<string, unknown> }[] = [
  { field: "suspendCustomer", verb: "suspending", input: (customerId) => ({ customerId, reason: "pwned" }) },
  { field: "resumeCustomer", verb: "resuming", input: (customerId) => ({ customerId }) },
  { field: "deleteCustomer", verb: "deleting", input: (customerId) => ({ customerId, confirmation: w.a1.slug }) },
];

describe("a customer's suspension and deletion answer NOT_FOUND to anyone outside its MSP's reach", () => {
  for (const mutation of CUSTOMER_LIFECYCLE) {
    const doc = mutationDoc(mutation.field);
    for (const actor of ["adminB", "techA2", "techB1", "adminA2", "adminB1", "adminA1", "userA1"] as ActorKey[]) {
      it(`${label(actor)} gets NOT_FOUND ${mutation.verb} customer A1 (${mutation.field})`, async () => {
        const before = await tenantState(w.a1.id);
        const result = await expectIndistinguishable(w.actors[actor], doc, (customerId) => ({ input: mutation.input(customerId) }), w.a1.id);
        expectNotFound(result, mutation.field);
        expect(await tenantState(w.a1.id)).toEqual(before);
      });
    }

    it(`a technician delegated to customer A1 gets FORBIDDEN ${mutation.verb} it, and nothing changes`, async () => {
      const before = await tenantState(w.a1.id);
      const { body } = await send(w.actors.techA1, doc, { input: mutation.input(w.a1.id) });
      expect(body.data?.[mutation.field]).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
      expect(await tenantState(w.a1.id)).toEqual(before);
    });
  }
});

describe("password registrations are their registrant's, in tenants they administer", () => {
  for (const [actor, target] of CANNOT_ADMINISTER) {
    it(`${label(actor)} gets NOT_FOUND registering a new user's password in ${target.label} (startPasswordRegistration)`, async () => {
      // Counted in the attacked tenant only: other test files on a shared database register too.
      const before = await api.db.passwordRegistration.count({ where: { tenantId: target.id() } });
      const result = await expectIndistinguishable(w.actors[actor], mutationDoc("startPasswordRegistration"), (tenant) => ({ input: { tenant, request: REGISTRATION_REQUEST } }), target.id());
      expectNotFound(result, "startPasswordRegistration");
      expect(await api.db.passwordRegistration.count({ where: { tenantId: target.id() } })).toBe(before);
    });
  }

  it("anyone but the admin who started a registration gets NOT_FOUND finishing it, exactly as for a missing one", async () => {
    const { startPasswordRegistration: started } = await api.gql(START_PASSWORD_REGISTRATION, { input: { tenant: w.a1.id, request: REGISTRATION_REQUEST } }, { token: w.a.token });
    expect(started.__typename).toBe("StartPasswordRegistrationPayload");
    const record = randomBytes(192).toString("base64url");
    for (const actor of ["adminB", "techA1", "adminA1", "userA1", "signedOut"] as ActorKey[]) {
      const result = await expectIndistinguishable(w.actors[actor], FINISH_PASSWORD_REGISTRATION, (registrationId) => ({ input: { registrationId, record } }), started.registrationId);
      expect(result.body.data?.finishPasswordRegistration?.__typename, label(actor)).toBe("NotFoundError");
    }
    expect((await api.db.passwordRegistration.findUniqueOrThrow({ where: { id: started.registrationId } })).record).toBeNull();
  });
});

// A break-glass password is for the admins of the MSP that owns the workstation alone.
describe("break-glass reveals answer NOT_FOUND to anyone outside the owning MSP's admins", () => {
  let workstationId: string;
  beforeAll(async () => {
    const workstation = await api.db.workstation.create({
      data: { tenantId: w.a1.id, name: "ISO-PC", hostname: "ISO-PC", os: "Windows 11", status: "APPROVED", signingAlgorithm: "ED25519", signingPublicKey: randomBytes(44).toString("base64") },
    });
    workstationId = workstation.id;
    await api.db.breakGlassPassword.create({
      data: { tenantId: w.a1.id, workstationId, accountName: "LatchkeyAdmin", accountKey: "latchkeyadmin", rotation: 1, suite: "x", enc: "x", ciphertext: "x" },
    });
  });

  for (const actor of ["adminB", "techA2", "techB1", "adminA2", "adminB1", "adminA1", "userA1"] as ActorKey[]) {
    it(`${label(actor)} gets NOT_FOUND starting or redeeming a reveal on customer A1's workstation`, async () => {
      const before = await api.db.challenge.count({ where: { tenantId: { in: [w.a.id, w.a1.id] } } });
      const started = await expectIndistinguishable(w.actors[actor], mutationDoc("startBreakGlassReveal"), (id) => ({ input: { workstationId: id, account: "LatchkeyAdmin" } }), workstationId);
      expectNotFound(started, "startBreakGlassReveal");
      const revealed = await expectIndistinguishable(
        w.actors[actor],
        mutationDoc("revealBreakGlassPassword"),
        (id) => ({ input: { workstationId: id, account: "LatchkeyAdmin", challengeId: randomUUID(), redeemSecret: "x" } }),
        workstationId,
      );
      expectNotFound(revealed, "revealBreakGlassPassword");
      expect(await api.db.challenge.count({ where: { tenantId: { in: [w.a.id, w.a1.id] } } })).toBe(before);
    });
  }

  it("a technician delegated to customer A1 gets FORBIDDEN, and no challenge is made", async () => {
    const before = await api.db.challenge.count({ where: { tenantId: { in: [w.a.id, w.a1.id] } } });
    const { body } = await send(w.actors.techA1, mutationDoc("startBreakGlassReveal"), { input: { workstationId, account: "LatchkeyAdmin" } });
    expect(body.data?.startBreakGlassReveal).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(await api.db.challenge.count({ where: { tenantId: { in: [w.a.id, w.a1.id] } } })).toBe(before);
  });
});

const DELEGATE = mutationDoc("delegateCustomerAccess");
const REVOKE = mutationDoc("revokeCustomerAccess");

/** The delegations of this world's two MSPs: other test files on a shared database delegate too. */
async function delegationState() {
  return api.db.delegation.findMany({ where: { mspId: { in: [w.a.id, w.b.id] } }, orderBy: { id: "asc" } });
}

describe("delegations across MSPs answer NOT_FOUND and change nothing", () => {
  const cases: [string, ActorKey, () => { technicianId: string; customerId: string }, "technicianId" | "customerId"][] = [
    ["MSP B's admin delegating A's technician to A's customer", "adminB", () => ({ technicianId: w.techA2.id, customerId: w.a1.id }), "customerId"],
    ["MSP B's admin delegating their own technician to A's customer", "adminB", () => ({ technicianId: w.techB1.id, customerId: w.a1.id }), "customerId"],
    ["MSP B's admin delegating A's technician to their own customer", "adminB", () => ({ technicianId: w.techA2.id, customerId: w.b1.id }), "technicianId"],
    ["MSP A's admin delegating B's technician to A's customer", "adminA", () => ({ technicianId: w.techB1.id, customerId: w.a1.id }), "technicianId"],
    ["MSP A's admin delegating A's technician to B's customer", "adminA", () => ({ technicianId: w.techA2.id, customerId: w.b1.id }), "customerId"],
  ];
  for (const [name, actor, pair, foreign] of cases) {
    it(`${name} gets NOT_FOUND`, async () => {
      const before = await delegationState();
      const result = await expectIndistinguishable(
        w.actors[actor],
        DELEGATE,
        (id) => ({ input: { ...pair(), [foreign]: id } }),
        pair()[foreign],
      );
      expectNotFound(result, "delegateCustomerAccess");
      expect(await delegationState()).toEqual(before);
    });
  }

  const revokes: [string, ActorKey, () => { technicianId: string; customerId: string }, "technicianId" | "customerId"][] = [
    ["MSP B's admin revoking A's technician from A's customer", "adminB", () => ({ technicianId: w.techA1.id, customerId: w.a1.id }), "customerId"],
    ["MSP B's admin revoking A's technician (by technician id)", "adminB", () => ({ technicianId: w.techA1.id, customerId: w.a1.id }), "technicianId"],
    ["MSP A's admin revoking B's technician from B's customer", "adminA", () => ({ technicianId: w.techB1.id, customerId: w.b1.id }), "customerId"],
  ];
  for (const [name, actor, pair, foreign] of revokes) {
    it(`${name} gets NOT_FOUND and the delegation stays`, async () => {
      const before = await delegationState();
      const result = await expectIndistinguishable(
        w.actors[actor],
        REVOKE,
        (id) => ({ input: { ...pair(), [foreign]: id } }),
        pair()[foreign],
      );
      expectNotFound(result, "revokeCustomerAccess");
      expect(await delegationState()).toEqual(before);
    });
  }

  for (const actor of ["techA1", "techA2", "adminA1", "userA1", "adminB1"] as ActorKey[]) {
    it(`${label(actor)} cannot grant or withdraw delegations, and learns nothing from the ids`, async () => {
      const before = await delegationState();
      for (const doc of [DELEGATE, REVOKE]) {
        const field = doc === DELEGATE ? "delegateCustomerAccess" : "revokeCustomerAccess";
        const pair = doc === DELEGATE ? { technicianId: w.techA2.id, customerId: w.a1.id } : { technicianId: w.techA1.id, customerId: w.a1.id };
        const result = await expectIndistinguishable(w.actors[actor], doc, (id) => ({ input: { ...pair, customerId: id } }), pair.customerId);
        expect(result.body.errors).toBeUndefined();
        expect(["NotFoundError", "ForbiddenError"]).toContain(result.body.data?.[field]?.__typename);
      }
      expect(await delegationState()).toEqual(before);
    });
  }
});

// A phone waiting for approval is approved only by whoever manages its user.
describe("approving another tenant's waiting phone answers NOT_FOUND and changes nothing", () => {
  const phones: Record<"victim" | "techVictim", string> = { victim: "", techVictim: "" };
  const APPROVE_PHONE = mutationDoc("approveAuthenticator");

  /** A phone linked to `user`, waiting for approval, as a link through the user's own invitation leaves it. */
  async function waitingPhone(user: SeededUser, tenantId: string) {
    const phone = await api.db.authenticator.create({
      data: { userId: user.id, tenantId, name: "Waiting phone", algorithm: "P256", publicKey: randomBytes(65).toString("base64"), tokenHash: randomBytes(32).toString("hex"), verifiedEmail: user.email.toLowerCase() },
    });
    return phone.id;
  }

  beforeAll(async () => {
    phones.victim = await waitingPhone(w.victim, w.a1.id);
    phones.techVictim = await waitingPhone(w.techVictim, w.a.id);
  });

  const phoneState = (id: string) => api.db.authenticator.findUniqueOrThrow({ where: { id } });
  const cases: [ActorKey, string, "victim" | "techVictim"][] = [
    ...CANNOT_MANAGE_CUSTOMER_USER.map((actor): [ActorKey, string, "victim"] => [actor, "a user of customer A1", "victim"]),
    ...CANNOT_MANAGE_MSP_USER.map((actor): [ActorKey, string, "techVictim"] => [actor, "a technician of MSP A", "techVictim"]),
    ["signedOut", "a user of customer A1", "victim"],
  ];
  for (const [actor, targetLabel, owner] of cases) {
    it(`${label(actor)} gets ${actor === "signedOut" ? "UNAUTHENTICATED" : "NOT_FOUND"} approving the waiting phone of ${targetLabel} (approveAuthenticator)`, async () => {
      const before = await phoneState(phones[owner]);
      const audit = await api.db.auditEvent.count({ where: { tenantId: before.tenantId! } });
      const result = await expectIndistinguishable(w.actors[actor], APPROVE_PHONE, (id) => ({ input: { id } }), phones[owner]);
      if (actor === "signedOut") expect(result.body.data?.approveAuthenticator?.__typename).toBe("UnauthenticatedError");
      else expectNotFound(result, "approveAuthenticator");
      expect(await phoneState(phones[owner])).toEqual(before);
      expect(await api.db.auditEvent.count({ where: { tenantId: before.tenantId! } })).toBe(audit);
    });
  }

  it("a malformed id answers NOT_FOUND to MSP A's admin", async () => {
    for (const id of MALFORMED) expectNotFound(await send(w.actors.adminA, APPROVE_PHONE, { input: { id } }), "approveAuthenticator");
  });

  it("the admins who manage them do approve them (the refusals above are not vacuous)", async () => {
    for (const [actor, owner] of [["adminA1", "victim"], ["adminA", "techVictim"]] as const) {
      const { body } = await send(w.actors[actor], APPROVE_PHONE, { input: { id: phones[owner] } });
      expect(body.data?.approveAuthenticator?.__typename, label(actor)).toBe("ApproveAuthenticatorPayload");
      expect((await phoneState(phones[owner])).approvedAt).not.toBeNull();
    }
  });
});

const REVOKE_SESSION = `mutation($id: ID!) { revokeSession(id: $id) { __typename ... on Error { code message } ... on RevokeSessionPayload { revokedSessionId } } }`;
/** revokeSession in each of its forms: `input`, and the positional `id` it keeps until 2027-06-30. */
const REVOKE_SESSION_FORMS: [string, string, (id: string) => Record<string, unknown>][] = [
  ["input", mutationDoc("revokeSession"), (id) => ({ input: { id } })],
  ["positional id", REVOKE_SESSION, (id) => ({ id })],
];

describe("sessions belong to their user alone", () => {
  let sessionId: string;
  beforeAll(async () => {
    const { sessions } = await api.gql(`{ sessions { id current } }`, {}, { token: w.actors.victim.token });
    sessionId = sessions.find((session: { current: boolean }) => session.current).id;
  });

  for (const actor of ["adminA", "adminB", "adminA1", "techA1", "userA1", "adminB1"] as ActorKey[]) {
    it(`${label(actor)} gets NOT_FOUND revoking another user's session`, async () => {
      const before = await api.db.session.findUniqueOrThrow({ where: { id: sessionId } });
      for (const [, doc, variables] of REVOKE_SESSION_FORMS) {
        const result = await expectIndistinguishable(w.actors[actor], doc, variables, sessionId);
        expectNotFound(result, "revokeSession");
      }
      const after = await api.db.session.findUniqueOrThrow({ where: { id: sessionId } });
      expect(after.revokedAt).toBeNull();
      expect(after.revokedAt).toEqual(before.revokedAt);
    });
  }

  it("the victim's session still works afterwards", async () => {
    const { viewer } = await api.gql(`{ viewer { session { id } } }`, {}, { token: w.actors.victim.token });
    expect(viewer.session.id).toBe(sessionId);
  });

  it("a user's session list shows only their own sessions", async () => {
    const { sessions } = await api.gql(`{ sessions { id } }`, {}, { token: w.actors.adminA.token });
    const own = await api.db.session.findMany({ where: { userId: w.a.adminId }, select: { id: true } });
    const ownIds = new Set(own.map((session) => session.id));
    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) expect(ownIds.has(session.id)).toBe(true);
    expect(sessions.map((session: { id: string }) => session.id)).not.toContain(sessionId);
  });
});

// The mutations that took positional arguments before every mutation took one `input`: each
// answers another tenant NOT_FOUND in both forms, while the old one lasts (until 2027-06-30).
describe("the mutations converted to `input` answer another tenant NOT_FOUND in either form, and change nothing", () => {
  type Form = "input" | "positional";
  const POSITIONAL_TYPES: Record<string, string> = { id: "ID", qrPayload: "String", signature: "String", redeemSecret: "String" };

  /** A converted mutation's document in each form, for arguments named `names`. */
  function forms(field: string, names: string[], selection = ""): [Form, string][] {
    const input = `${field[0]!.toUpperCase()}${field.slice(1)}Input`;
    const declared = names.map((name) => `$${name}: ${POSITIONAL_TYPES[name]}`).join(", ");
    const passed = names.map((name) => `${name}: $${name}`).join(", ");
    const answer = `{ __typename ${selection} ... on Error { code message } }`;
    return [
      ["input", `mutation($input: ${input}) { ${field}(input: $input) ${answer} }`],
      ["positional", `mutation(${declared}) { ${field}(${passed}) ${answer} }`],
    ];
  }

  /** The variables of a form: the arguments inside `input`, or as they are. */
  const variablesOf = (form: Form, args: Record<string, unknown>) => (form === "input" ? { input: args } : args);

  let workstationId: string;
  let installTokenId: string;
  let victimPhoneId: string;
  let phoneA: Authenticator;
  let phoneB: Authenticator;
  /** MSP A's portal sign-in, scanned by A's admin's phone; and the redeem secret of one of MSP B's own. */
  let challenge: { id: string; qrPayload: string; secret: string };
  let foreignRedeemSecret: string;


  async function portalLogin(slug: string) {
    const { startLoginChallenge } = await api.gql(
      `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
        ... on StartLoginChallengePayload { challenge { id } qrPayload redeemSecret } } }`,
      { input: { tenant: slug, kind: "PORTAL_LOGIN" } },
    );
    return startLoginChallenge as { challenge: { id: string }; qrPayload: string; redeemSecret: string };
  }

  beforeAll(async () => {
    const workstation = await api.db.workstation.create({
      data: { tenantId: w.a1.id, name: "CONVERTED-PC", hostname: "CONVERTED-PC", os: "Windows 11", status: "PENDING", signingAlgorithm: "ED25519", signingPublicKey: randomBytes(44).toString("base64") },
    });
    workstationId = workstation.id;
    const { createInstallToken } = await api.gql(
      `mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { __typename ... on CreateInstallTokenPayload { token { id } } } }`,
      { input: { tenantId: w.a1.id } },
      { token: w.a.token },
    );
    installTokenId = createInstallToken.token.id;
    const phone = await api.db.authenticator.create({
      data: { userId: w.victim.id, tenantId: w.a1.id, name: "Victim's phone", algorithm: "P256", publicKey: randomBytes(65).toString("base64"), tokenHash: randomBytes(32).toString("hex"), verifiedEmail: w.victim.email.toLowerCase() },
    });
    victimPhoneId = phone.id;
  });

  const workstationState = async () => ({
    workstation: await api.db.workstation.findUnique({ where: { id: workstationId } }),
    installToken: await api.db.installToken.findUniqueOrThrow({ where: { id: installTokenId } }),
    phone: await api.db.authenticator.findUniqueOrThrow({ where: { id: victimPhoneId } }),
  });

  const ADMIN_MUTATIONS: [string, () => string, string][] = [
    ["approveWorkstation", () => workstationId, "customer A1's waiting workstation"],
    ["removeWorkstation", () => workstationId, "customer A1's workstation"],
    ["revokeInstallToken", () => installTokenId, "an install token of customer A1"],
  ];
  for (const [field, target, what] of ADMIN_MUTATIONS) {
    for (const actor of ["adminB", "techA2", "techB1", "adminA2", "adminB1", "userA1", "signedOut"] as ActorKey[]) {
      it(`${label(actor)} gets ${actor === "signedOut" ? "UNAUTHENTICATED" : "NOT_FOUND"} for ${what} (${field}), in either form`, async () => {
        const before = await workstationState();
        for (const [form, doc] of forms(field, ["id"])) {
          const result = await expectIndistinguishable(w.actors[actor], doc, (id) => variablesOf(form, { id }), target());
          if (actor === "signedOut") expect(result.body.data?.[field]?.__typename, form).toBe("UnauthenticatedError");
          else expectNotFound(result, field);
        }
        expect(await workstationState()).toEqual(before);
      });
    }
  }

  for (const actor of CANNOT_MANAGE_CUSTOMER_USER) {
    it(`${label(actor)} gets NOT_FOUND revoking the phone of a user of customer A1 (revokeAuthenticator), in either form`, async () => {
      const before = await workstationState();
      for (const [form, doc] of forms("revokeAuthenticator", ["id"])) {
        const result = await expectIndistinguishable(w.actors[actor], doc, (id) => variablesOf(form, { id }), victimPhoneId);
        expectNotFound(result, "revokeAuthenticator");
      }
      expect(await workstationState()).toEqual(before);
    });
  }

  it("their owners do reach them (the refusals above are not vacuous)", async () => {
    const [, approve] = forms("approveWorkstation", ["id"], "... on WorkstationPayload { workstation { status } }")[0]!;
    const approved = await send(w.actors.adminA1, approve, variablesOf("input", { id: workstationId }));
    expect(approved.body.data?.approveWorkstation).toEqual({ __typename: "WorkstationPayload", workstation: { status: "APPROVED" } });
    const [, revoke] = forms("revokeAuthenticator", ["id"])[0]!;
    const revoked = await send(w.actors.adminA1, revoke, variablesOf("input", { id: victimPhoneId }));
    expect(revoked.body.data?.revokeAuthenticator?.__typename).toBe("RevokeAuthenticatorPayload");
  });

  // Made here, right before these tests: a sign-in code lasts 90 seconds.
  describe("a QR sign-in", () => {
    beforeAll(async () => {
      [phoneA, phoneB] = [await adminPhone(api, w.a), await adminPhone(api, w.b)];
      const started = await portalLogin(w.a.slug);
      await phoneA.scan(started.qrPayload);
      challenge = { id: started.challenge.id, qrPayload: started.qrPayload, secret: started.qrPayload.split(".")[2]! };
      foreignRedeemSecret = (await portalLogin(w.b.slug)).redeemSecret;
    }, 60_000);

    const challengeState = () => api.db.challenge.findUniqueOrThrow({ where: { id: challenge.id } });

    it("MSP B's phone gets NOT_FOUND scanning, approving or denying MSP A's sign-in, in either form", async () => {
      const before = await challengeState();
      expect(before.status).toBe("SCANNED");
      const phone = { token: phoneB.deviceToken };
      const signature = randomBytes(64).toString("base64url");
      const attempts: [string, (id: string) => Record<string, unknown>][] = [
        ["scanChallenge", (id) => ({ qrPayload: `lk1.${id}.${challenge.secret}` })],
        ["approveChallenge", (id) => ({ id, signature })],
        ["denyChallenge", (id) => ({ id, signature })],
      ];
      for (const [field, args] of attempts) {
        for (const [form, doc] of forms(field, Object.keys(args(challenge.id)))) {
          const result = await expectIndistinguishable(phone, doc, (id) => variablesOf(form, args(id)), challenge.id);
          expectNotFound(result, field);
        }
      }
      expect(await challengeState()).toEqual(before);
    });

    it("another tenant's redeem secret gets NOT_FOUND cancelling or redeeming MSP A's sign-in, in either form", async () => {
      const before = await challengeState();
      for (const field of ["cancelChallenge", "redeemChallenge"]) {
        const args = (id: string) => ({ id, redeemSecret: foreignRedeemSecret });
        for (const [form, doc] of forms(field, ["id", "redeemSecret"])) {
          const result = await expectIndistinguishable(w.actors.signedOut, doc, (id) => variablesOf(form, args(id)), challenge.id);
          expectNotFound(result, field);
        }
      }
      expect(await challengeState()).toEqual(before);
    });

    it("the phone that scanned it does decide it (the refusals above are not vacuous)", async () => {
      const { challenge: decided } = await phoneA.approve(challenge.qrPayload);
      expect(decided.status).toBe("APPROVED");
    });
  });
});

describe("signed out, every mutation that takes an id changes nothing", () => {
  it("answers UNAUTHENTICATED (or NOT_FOUND) exactly as for a missing id", async () => {
    const tenantBefore = await tenantState(w.a1.id);
    const userBefore = await userState(w.victim.id);
    const delegationsBefore = await delegationState();
    const attempts: [string, (id: string) => Record<string, unknown>, string][] = [
      ...USER_MUTATIONS.map((m): [string, (id: string) => Record<string, unknown>, string] => [m.field, (id) => ({ input: m.input(id) }), w.victim.id]),
      ...TENANT_MUTATIONS.map((m): [string, (id: string) => Record<string, unknown>, string] => [m.field, (id) => ({ input: m.input(id, "ADMIN") }), w.a1.id]),
      ["delegateCustomerAccess", (id) => ({ input: { technicianId: w.techA2.id, customerId: id } }), w.a1.id],
      ["revokeCustomerAccess", (id) => ({ input: { technicianId: w.techA1.id, customerId: id } }), w.a1.id],
    ];
    for (const [field, variables, id] of attempts) {
      const input = variables(id);
      const result = await expectIndistinguishable(w.actors.signedOut, mutationDoc(field), (other) => swapId(input, id, other), id);
      expect(result.body.errors, field).toBeUndefined();
      expect(["UnauthenticatedError", "NotFoundError"], field).toContain(result.body.data?.[field]?.__typename);
    }
    for (const [, doc, variables] of REVOKE_SESSION_FORMS) {
      const session = await send(w.actors.signedOut, doc, variables(randomUUID()));
      expect(session.body.data?.revokeSession?.__typename).toMatch(/UnauthenticatedError|NotFoundError/);
    }
    expect(await tenantState(w.a1.id)).toEqual(tenantBefore);
    expect(await userState(w.victim.id)).toEqual(userBefore);
    expect(await delegationState()).toEqual(delegationsBefore);
  });
});

/** Replaces every occurrence of one id in a variables object. */
function swapId(value: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value).replaceAll(from, to));
}

// ---------------------------------------------------------------------------
// Malformed ids
// ---------------------------------------------------------------------------

const MALFORMED = ["not-a-uuid", "", "00000000-0000-0000-0000-00000000000g", "1; DROP TABLE \"User\"", "x".repeat(2000)];

describe("malformed ids are NOT_FOUND / null, never an internal error", () => {
  for (const name of ["tenant", "user", "users", "usersSearch", "usersCount", "auditEvents"] as const) {
    for (const actor of ["adminA", "signedOut"] as ActorKey[]) {
      it(`${name}() with a malformed id answers null for ${label(actor)}`, async () => {
        for (const id of MALFORMED) {
          const { body } = await send(w.actors[actor], QUERIES[name], { id });
          expect(body, `id ${JSON.stringify(id.slice(0, 40))}`).toEqual({ data: { [FIELD_OF[name]]: null } });
        }
      });
    }
  }

  const mutations: [string, (id: string) => Record<string, unknown>][] = [
    ...USER_MUTATIONS.map((m): [string, (id: string) => Record<string, unknown>] => [m.field, (id) => ({ input: m.input(id) })]),
    ...TENANT_MUTATIONS.map((m): [string, (id: string) => Record<string, unknown>] => [m.field, (id) => ({ input: m.input(id, "ADMIN") })]),
    ["delegateCustomerAccess", (id) => ({ input: { technicianId: id, customerId: w.a1.id } })],
    ["delegateCustomerAccess", (id) => ({ input: { technicianId: w.techA2.id, customerId: id } })],
    ["revokeCustomerAccess", (id) => ({ input: { technicianId: id, customerId: w.a1.id } })],
    ["revokeCustomerAccess", (id) => ({ input: { technicianId: w.techA1.id, customerId: id } })],
  ];
  for (const [field, variables] of mutations) {
    it(`${field} with a malformed id answers NOT_FOUND to MSP A's admin`, async () => {
      const before = await delegationState();
      for (const id of MALFORMED) {
        const result = await send(w.actors.adminA, mutationDoc(field), variables(id));
        expectNotFound(result, field);
      }
      expect(await delegationState()).toEqual(before);
    });
  }

  it("revokeSession with a malformed id answers NOT_FOUND, in either form", async () => {
    for (const [, doc, variables] of REVOKE_SESSION_FORMS) {
      for (const id of MALFORMED) expectNotFound(await send(w.actors.victim, doc, variables(id)), "revokeSession");
    }
  });
});

// ---------------------------------------------------------------------------
// Customer lists
// ---------------------------------------------------------------------------

const CUSTOMERS = `query($search: String) { customers(first: 100, search: $search) { totalCount edges { node { id slug } } } }`;

describe("customer lists never show another MSP's customers", () => {
  it("a delegated technician lists only the customers delegated to them", async () => {
    const { customers } = await api.gql(CUSTOMERS, {}, { token: w.actors.techA1.token });
    expect(edgeIds(customers)).toEqual([w.a1.id]);
    expect(customers.totalCount).toBe(1);
  });

  it("a technician without delegation lists no customers", async () => {
    const { customers } = await api.gql(CUSTOMERS, {}, { token: w.actors.techA2.token });
    expect(customers).toEqual({ totalCount: 0, edges: [] });
  });

  it("a technician's search does not find undelegated customers", async () => {
    for (const search of [w.a2.name, w.a.slug, w.b1.name, w.b.slug, "-"]) {
      const { customers } = await api.gql(CUSTOMERS, { search }, { token: w.actors.techA1.token });
      for (const id of edgeIds(customers)) expect(id, `search ${search}`).toBe(w.a1.id);
      expect(customers.totalCount).toBe(edgeIds(customers).length);
    }
  });

  it("MSP B's admin lists only B's customers, whatever the search", async () => {
    const aCustomers = [w.a1.id, w.a2.id];
    for (const search of [undefined, w.a1.name, w.a2.name, w.a.slug, `customer ${w.a1.name}`, "", "%", "_"]) {
      const { customers } = await api.gql(CUSTOMERS, { search }, { token: w.actors.adminB.token });
      const ids = edgeIds(customers);
      for (const id of aCustomers) expect(ids, `search ${search}`).not.toContain(id);
      const rows = await api.db.tenant.findMany({ where: { id: { in: ids } }, select: { parentId: true } });
      expect(rows.every((row) => row.parentId === w.b.id)).toBe(true);
      expect(customers.totalCount).toBe(ids.length);
    }
    const all = await api.gql(CUSTOMERS, {}, { token: w.actors.adminB.token });
    expect(edgeIds(all.customers)).toEqual([w.b1.id]);
  });

  it("MSP A's admin does not find B's customers by searching", async () => {
    for (const search of [w.b1.name, w.b.slug]) {
      const { customers } = await api.gql(CUSTOMERS, { search }, { token: w.actors.adminA.token });
      expect(customers).toEqual({ totalCount: 0, edges: [] });
    }
  });

  it("customer admins and users list no customers; signed out gets null", async () => {
    for (const actor of ["adminA1", "userA1", "adminB1"] as ActorKey[]) {
      const { body } = await send(w.actors[actor], CUSTOMERS, { search: null });
      expect(body.errors).toBeUndefined();
      expect(edgeIds(body.data?.customers), actor).toEqual([]);
      if (body.data?.customers) expect(body.data.customers.totalCount).toBe(0);
    }
    const { body } = await send(w.actors.signedOut, CUSTOMERS, {});
    expect(body).toEqual({ data: { customers: null } });
  });
});

// ---------------------------------------------------------------------------
// Relation paths
// ---------------------------------------------------------------------------

describe("no relation path from a visible object reaches another tenant", () => {
  it("a customer admin's own tenant has no visible parent MSP", async () => {
    const { body } = await send(
      w.actors.adminA1,
      `query($id: ID!) {
        viewer { tenant { id parent { id slug customers(first: 50) { edges { node { id } } } users(first: 5) { totalCount } } } }
        tenant(id: $id) { id parent { id } }
        user(id: ${JSON.stringify(w.adminA1.id)}) { tenant { parent { id } } }
      }`,
      { id: w.a1.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      viewer: { tenant: { id: w.a1.id, parent: null } },
      tenant: { id: w.a1.id, parent: null },
      user: { tenant: { parent: null } },
    });
  });

  it("a customer user sees no directory on their own tenant, and no parent", async () => {
    const { body } = await send(
      w.actors.userA1,
      `{ viewer { tenant { id users(first: 50) { totalCount edges { node { id } } } delegations { id } parent { id }
          customers(first: 50) { totalCount edges { node { id } } } }
        user { id tenant { id users(first: 5) { totalCount } parent { id } } delegatedCustomers { id } } } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.viewer).toMatchObject({
      tenant: { id: w.a1.id, users: null, delegations: null, parent: null, customers: { totalCount: 0, edges: [] } },
      user: { id: w.userA1.id, tenant: { id: w.a1.id, users: null, parent: null } },
    });
    // Not a technician: nothing delegated (null, or at most an empty list).
    expect(body.data?.viewer?.user?.delegatedCustomers ?? []).toEqual([]);
  });

  it("a customer admin cannot see which technicians are delegated to their tenant", async () => {
    const { body } = await send(
      w.actors.adminA1,
      `query($id: ID!) { tenant(id: $id) { id delegations { id technician { id email } customer { id } } } }`,
      { id: w.a1.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.tenant).toEqual({ id: w.a1.id, delegations: null });
  });

  it("a customer admin's directory leads to no MSP rows (users' delegatedCustomers, tenant parent)", async () => {
    const { body } = await send(
      w.actors.adminA1,
      `query($id: ID!) { tenant(id: $id) { users(first: 50) { edges { node { id delegatedCustomers { id } tenant { id parent { id } } } } } } }`,
      { id: w.a1.id },
    );
    expect(body.errors).toBeUndefined();
    const nodes = body.data?.tenant?.users?.edges.map((edge: any) => edge.node) ?? [];
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      expect(node).toMatchObject({ tenant: { id: w.a1.id, parent: null } });
      // Other users' delegations are not a customer admin's business; their own (none) may show as [].
      if (node.id === w.adminA1.id) expect(node.delegatedCustomers ?? []).toEqual([]);
      else expect(node.delegatedCustomers).toBeNull();
    }
  });

  it("a delegated technician cannot list the customer's delegations (other technicians)", async () => {
    const { body } = await send(
      w.actors.techA1,
      `query($id: ID!) { tenant(id: $id) { id delegations { id technician { id } } } }`,
      { id: w.a1.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.tenant).toEqual({ id: w.a1.id, delegations: null });
  });

  it("a technician gets null for another technician's delegated customers", async () => {
    const { body } = await send(
      w.actors.techA2,
      `query($id: ID!) { user(id: $id) { id delegatedCustomers { id } } }`,
      { id: w.techA1.id },
    );
    expect(body).toEqual({ data: { user: null } });
  });

  it("a technician sees their own delegated customers, and only those", async () => {
    const own = await api.gql(`{ viewer { user { delegatedCustomers { id } } } }`, {}, { token: w.actors.techA1.token });
    expect(own.viewer.user.delegatedCustomers).toEqual([{ id: w.a1.id }]);
    const none = await api.gql(`{ viewer { user { delegatedCustomers { id } } } }`, {}, { token: w.actors.techA2.token });
    expect(none.viewer.user.delegatedCustomers).toEqual([]);
  });

  it("MSP B's admin gets null for A's technician and their delegated customers", async () => {
    const { body } = await send(
      w.actors.adminB,
      `query($id: ID!) { user(id: $id) { id delegatedCustomers { id } } }`,
      { id: w.techA1.id },
    );
    expect(body).toEqual({ data: { user: null } });
    const own = await api.gql(`query($id: ID!) { user(id: $id) { delegatedCustomers { id } } }`, { id: w.techB1.id }, { token: w.actors.adminB.token });
    expect(own.user.delegatedCustomers).toEqual([{ id: w.b1.id }]);
  });

  it("from a customer, MSP A's admin reaches A's customers only", async () => {
    const { body } = await send(
      w.actors.adminA,
      `query($id: ID!) { tenant(id: $id) { parent { id customers(first: 100) { totalCount edges { node { id } } } } } }`,
      { id: w.a1.id },
    );
    expect(body.errors).toBeUndefined();
    const parent = body.data?.tenant?.parent;
    expect(parent.id).toBe(w.a.id);
    expect(edgeIds(parent.customers).sort()).toEqual([w.a1.id, w.a2.id].sort());
    expect(parent.customers.totalCount).toBe(2);
    const counted = await send(w.actors.adminA, `query($id: ID!) { tenant(id: $id) { parent { customers { totalCount } } } }`, { id: w.a1.id });
    expect(counted.body.data?.tenant?.parent?.customers?.totalCount).toBe(2);
  });

  it("from their delegated customer, a technician reaches their MSP but only their delegated customers, and no MSP directory", async () => {
    const { body } = await send(
      w.actors.techA1,
      `query($id: ID!) { tenant(id: $id) { parent { id users(first: 50) { totalCount } delegations { id }
          customers(first: 100) { totalCount edges { node { id } } } } } }`,
      { id: w.a1.id },
    );
    expect(body.errors).toBeUndefined();
    const parent = body.data?.tenant?.parent;
    expect(parent).toMatchObject({ id: w.a.id, users: null, delegations: null });
    expect(edgeIds(parent.customers)).toEqual([w.a1.id]);
    expect(parent.customers.totalCount).toBe(1);
    const counted = await send(w.actors.techA1, `query($id: ID!) { tenant(id: $id) { parent { users { totalCount } customers { totalCount } } } }`, { id: w.a1.id });
    expect(counted.body.data?.tenant?.parent).toEqual({ users: null, customers: { totalCount: 1 } });
  });

  it("a technician's own MSP tenant lists only their delegated customers", async () => {
    for (const [actor, expected] of [["techA1", [w.a1.id]], ["techA2", []]] as [ActorKey, string[]][]) {
      const { body } = await send(
        w.actors[actor],
        `{ viewer { tenant { id users(first: 5) { totalCount } customers(first: 100) { totalCount edges { node { id } } } } } }`,
      );
      expect(body.errors).toBeUndefined();
      expect(body.data?.viewer?.tenant).toMatchObject({ id: w.a.id, users: null, customers: { totalCount: expected.length } });
      expect(edgeIds(body.data?.viewer?.tenant?.customers)).toEqual(expected);
    }
  });

  it("MSP B's admin walks their whole graph and meets no row of MSP A", async () => {
    // Each path kept shallow enough for the operation cost limit.
    const queries = [
      `{ viewer { tenant { id customers(first: 100) { edges { node { id } } } } } }`,
      `{ customers(first: 100) { edges { node { id parent { id } } } } }`,
      `{ customers(first: 5) { edges { node { users(first: 5) { edges { node { id } } } } } } }`,
      `{ customers(first: 10) { edges { node { delegations { id technician { id } customer { id } } } } } }`,
      `query($msp: ID!) { users(tenantId: $msp, first: 20) { edges { node { id tenant { id } delegatedCustomers { id } } } } }`,
      `query($customer: ID!) { users(tenantId: $customer, first: 20) { edges { node { id tenant { id } delegatedCustomers { id } } } } }`,
      `query($tech: ID!) { user(id: $tech) { delegatedCustomers { id parent { id } } } }`,
      `query($customer: ID!) { tenant(id: $customer) { parent { customers(first: 100) { edges { node { id } } } } } }`,
      `query($customer: ID!) { auditEvents(tenantId: $customer, first: 100) { edges { node { id actorId targetId } } } }`,
    ];
    const bodies = [];
    for (const query of queries) {
      const { body } = await send(w.actors.adminB, query, { msp: w.b.id, customer: w.b1.id, tech: w.techB1.id });
      expect(body.errors, query).toBeUndefined();
      bodies.push(body);
    }
    const text = JSON.stringify(bodies);
    const aIds = [w.a.id, w.a1.id, w.a2.id, w.a.adminId, w.techA1.id, w.techA2.id, w.adminA1.id, w.victim.id, w.userA2.id];
    for (const id of aIds) expect(text).not.toContain(id);
    expect(text).toContain(w.b1.id);
    expect(text).toContain(w.techB1.id);
  });

  it("audit logs show only their own tenant's events", async () => {
    const checks: [ActorKey, string][] = [["adminA1", w.a1.id], ["adminB", w.b.id], ["adminB", w.b1.id], ["techA1", w.a1.id]];
    for (const [actor, tenantId] of checks) {
      const { auditEvents } = await api.gql(
        `query($id: ID!) { auditEvents(tenantId: $id, first: 100) { edges { node { id } } } }`,
        { id: tenantId },
        { token: w.actors[actor].token },
      );
      const ids = edgeIds(auditEvents);
      expect(ids.length).toBeGreaterThan(0);
      const rows = await api.db.auditEvent.findMany({ where: { id: { in: ids } }, select: { tenantId: true } });
      expect(rows.length).toBe(ids.length);
      expect(rows.every((row) => row.tenantId === tenantId)).toBe(true);
    }
  });

  it("a user cannot sign in through another tenant's subdomain", async () => {
    // Answered as an unknown login: the client's own finish fails, and the right tenant still works.
    expect((await passwordLogIn(api, { tenant: w.a2.slug, login: w.victim.email, password: PASSWORD })).outcome).toBe("INCORRECT");
    expect((await passwordLogIn(api, { tenant: w.victim.tenantSlug, login: w.victim.email, password: PASSWORD })).outcome).toBe("AuthPayload");
  });
});

// ---------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------

const AUDIT_FEED = `subscription($id: ID!) { auditEventAdded(tenantId: $id) { id action } }`;

/** Opens a feed, makes an event happen in `tenantId`, and returns what the feed saw. */
async function watchFeed(actor: Actor, feedTenantId: string, trigger: () => Promise<unknown>) {
  const feed = subscribe(api.ws(actor.token ?? undefined), AUDIT_FEED, { id: feedTenantId });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await trigger();
  await feed.waitForCompletion().catch(() => undefined);
  feed.unsubscribe();
  return { events: feed.events, failure: feed.failure, completed: feed.completed };
}

/**
 * An answer as JSON without what differs from one operation to the next
 * whatever it asked for: its request id, and the budget left after it.
 */
const comparableAnswer = (answer: unknown) => JSON.stringify(answer, (key, value) => (key === "requestId" || key === "rateLimit" ? undefined : value));

describe("live audit feeds of another tenant fail closed", () => {
  const renameA1 = () =>
    api.gql(
      `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename } }`,
      { input: { tenantId: w.a1.id, userSource: "LOCAL" } },
      { token: w.actors.adminA.token },
    );

  for (const actor of ["adminB", "techA2", "adminA2", "userA1", "signedOut"] as ActorKey[]) {
    it(`${label(actor)} gets NOT_FOUND and no events from customer A1's audit feed, the same answer as for a missing id`, async () => {
      const real = await watchFeed(w.actors[actor], w.a1.id, renameA1);
      const missing = await watchFeed(w.actors[actor], randomUUID(), renameA1);
      for (const event of real.events) expect(event.data?.auditEventAdded ?? null).toBeNull();
      expect(real.completed).toBe(true);
      expect(JSON.stringify(real.events.flatMap((event) => event.errors ?? []).map((error) => error.extensions?.code))).toBe('["NOT_FOUND"]');
      expect(comparableAnswer(real)).toEqual(comparableAnswer(missing));
    }, 30_000);
  }
});

// ---------------------------------------------------------------------------
// Withdrawn delegation
// ---------------------------------------------------------------------------

describe("a withdrawn delegation takes effect at once", () => {
  it("the technician immediately gets null for the customer and NOT_FOUND creating users in it", async () => {
    const tech = await w.a.technician();
    const token = await tech.token();
    const actor: Actor = { token };
    await w.a.delegate(tech.id, w.a2.id);

    const seen = await send(actor, QUERIES.tenant, { id: w.a2.id });
    expect(seen.body.data?.tenant?.id).toBe(w.a2.id);
    const feed = subscribe(api.ws(token), AUDIT_FEED, { id: w.a2.id });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const revoked = await api.gql(
      `mutation($input: RevokeCustomerAccessInput!) { revokeCustomerAccess(input: $input) { __typename } }`,
      { input: { technicianId: tech.id, customerId: w.a2.id } },
      { token: w.a.token },
    );
    expect(revoked.revokeCustomerAccess.__typename).toBe("RevokeCustomerAccessPayload");

    const after = await expectIndistinguishable(actor, QUERIES.tenant, (id) => ({ id }), w.a2.id);
    expect(after.body).toEqual({ data: { tenant: null } });
    for (const name of ["users", "auditEvents"] as const) {
      const result = await send(actor, QUERIES[name], { id: w.a2.id });
      expect(result.body, name).toEqual({ data: { [name]: null } });
    }
    const user = await send(actor, QUERIES.user, { id: w.userA2.id });
    expect(user.body).toEqual({ data: { user: null } });

    const before = await tenantState(w.a2.id);
    const input = TENANT_MUTATIONS[0]!.input(w.a2.id, "USER");
    const created = await expectIndistinguishable(actor, mutationDoc("createUser"), (tenantId) => ({ input: { ...input, tenantId } }), w.a2.id);
    expectNotFound(created, "createUser");
    const edited = await expectIndistinguishable(actor, mutationDoc("updateUser"), (userId) => ({ input: { userId, firstName: "Gone" } }), w.userA2.id);
    expectNotFound(edited, "updateUser");
    expect(await tenantState(w.a2.id)).toEqual(before);

    const { customers } = await api.gql(CUSTOMERS, {}, { token });
    expect(customers).toEqual({ totalCount: 0, edges: [] });
    const { viewer } = await api.gql(`{ viewer { user { delegatedCustomers { id } } } }`, {}, { token });
    expect(viewer.user.delegatedCustomers).toEqual([]);

    // Their live feed of that customer ends too.
    await feed.waitForCompletion();
    for (const event of feed.events) expect(event.data?.auditEventAdded ?? null).toBeNull();
  });
});

// ---------------------------------------------------------------------------
// Error hygiene
// ---------------------------------------------------------------------------

describe("error responses reveal nothing internal", () => {
  const INTERNAL = /stack|node_modules|\/work\/|\/src\/|\.ts\b|\.js\b|prisma|postgres|pglite|sql|invalid input syntax|at [\w.<>]+ \(|uuid/i;

  function expectClean(body: GqlResult, what: string) {
    expect(body.errors?.length, `${what}: ${JSON.stringify(body)}`).toBeGreaterThan(0);
    for (const error of body.errors ?? []) {
      expect(Object.keys(error.extensions ?? {}), what).not.toContain("stack");
      expect(Object.keys(error.extensions ?? {}), what).not.toContain("exception");
      expect(Object.keys(error.extensions ?? {}), what).not.toContain("originalError");
      expect(Object.keys(error), what).not.toContain("stack");
    }
    expect(JSON.stringify(body), what).not.toMatch(INTERNAL);
  }

  it("a syntax error, an unknown field and a wrong variable type get clean errors", async () => {
    const cases: [string, string, Record<string, unknown>, Actor][] = [
      ["syntax error", `{ viewer { user { id }`, {}, w.actors.adminA],
      ["unknown field", `{ viewer { user { id passwordHash } } }`, {}, w.actors.adminA],
      ["unknown argument", `{ tenant(id: "x", where: {}) { id } }`, {}, w.actors.adminA],
      ["wrong variable type", `query($id: ID!) { tenant(id: $id) { id } }`, { id: { $ne: null } }, w.actors.adminA],
      ["missing variable", `query($id: ID!) { user(id: $id) { id } }`, {}, w.actors.signedOut],
      ["wrong enum value", `mutation { setUserRole(input: { userId: "${w.victim.id}", role: ROOT }) { __typename } }`, {}, w.actors.adminB],
    ];
    for (const [what, query, variables, actor] of cases) {
      const { body } = await send(actor, query, variables);
      expectClean(body, what);
    }
  });

  it("a non-JSON body and a missing query get clean errors", async () => {
    for (const body of ["{not json", JSON.stringify({ variables: {} })]) {
      const response = await fetch(`${api.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const text = await response.text();
      expect(text).not.toMatch(INTERNAL);
    }
  });

  it("nothing an attacker sends with a malformed id surfaces a database error", async () => {
    const queries = Object.values(QUERIES);
    for (const actor of ["adminA", "adminB", "signedOut"] as ActorKey[]) {
      for (const query of queries) {
        const { body } = await send(w.actors[actor], query, { id: "not-a-uuid" });
        expect(JSON.stringify(body), `${actor} ${query}`).not.toMatch(INTERNAL);
      }
    }
  });
});
