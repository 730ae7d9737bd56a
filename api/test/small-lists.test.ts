// The short lists that used to come whole (a viewer's sessions and phones, a
// customer's technicians, an agent's pending commands) page with cursors like
// every other list, and each of their objects is a `Node` that `node(id:)`
// fetches again for exactly those who could list it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { desktopSeed } from "./desktop-seed.ts";
import { passwordLogIn } from "./password-login.ts";
import { adminPhone, PASSWORD, seed, type MspSeed } from "./seed.ts";
import type { WorkstationKeys } from "./workstation-keys.ts";

let api: Api;
let msp: MspSeed;
let other: MspSeed;
let customer: Awaited<ReturnType<MspSeed["customer"]>>;
let technician: Awaited<ReturnType<MspSeed["technician"]>>;
let phone: Awaited<ReturnType<typeof adminPhone>>;
let workstation: WorkstationKeys;

const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
const PAGE = `pageInfo { hasNextPage endCursor } totalCount edges { node { id } }`;

type Page = { pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number; edges: { node: { id: string } }[] };
const idsOf = (page: Page) => page.edges.map((edge) => edge.node.id);

/** Every id of a list, read a page of `size` at a time through `read(after)`. */
async function allPages(read: (after: string | null) => Promise<Page>, size: number) {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await read(after);
    expect(page.edges.length).toBeLessThanOrEqual(size);
    ids.push(...idsOf(page));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
}

beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
  other = await seed(api).msp();
  customer = await msp.customer();
  technician = await msp.technician();
  await msp.delegate(technician.id, customer.id);
  phone = await adminPhone(api, msp);
  workstation = await desktopSeed(api, msp, customer).workstation();
});
afterAll(() => api?.stop());

describe("viewer.sessions", () => {
  it("pages the viewer's open sessions newest first, and node gives each back to its owner only", async () => {
    const login = { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD };
    for (let i = 0; i < 3; i++) await passwordLogIn(api, login);
    const read = async (after: string | null) =>
      (await api.gql(`query($after: String) { viewer { sessions(first: 2, after: $after) { ${PAGE} } } }`, { after }, { token: msp.token })).viewer.sessions as Page;
    const paged = await allPages(read, 2);
    const whole = (await api.gql(`{ viewer { sessions(first: 100) { ${PAGE} } } }`, {}, { token: msp.token })).viewer.sessions as Page;
    expect(whole.totalCount).toBeGreaterThanOrEqual(4);
    expect(paged).toEqual(idsOf(whole));

    const { viewer } = await api.gql(`{ viewer { session { id } } }`, {}, { token: msp.token });
    expect((await api.gql(NODE, { id: viewer.session.id }, { token: msp.token })).node).toEqual({ __typename: "Session", id: viewer.session.id });
    // Another admin of the same MSP, and another MSP's admin, do not see it.
    const colleague = await msp.admin();
    expect((await api.gql(NODE, { id: viewer.session.id }, { token: await colleague.token() })).node).toBeNull();
    expect((await api.gql(NODE, { id: viewer.session.id }, { token: other.token })).node).toBeNull();
    // Someone else's session as a cursor gives an empty page, not a glimpse of where it sorts.
    const firstPage = await read(null);
    const elsewhere = (await api.gql(`query($after: String) { viewer { sessions(first: 5, after: $after) { ${PAGE} } } }`, { after: firstPage.pageInfo.endCursor }, { token: other.token }))
      .viewer.sessions as Page;
    expect(elsewhere.edges).toEqual([]);
  });

  it("refuses a page above a hundred", async () => {
    const { body } = await api.request(`{ viewer { sessions(first: 101) { totalCount } } }`, {}, { token: msp.token });
    expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION");
  });
});

describe("a cursor no list gave", () => {
  it("is refused with VALIDATION on the argument that carried it, without echoing it, by every kind of list", async () => {
    const lists = [
      ["customers", `customers(%s) { totalCount }`],
      ["users", `users(tenantId: "${customer.id}", %s) { totalCount }`],
      ["auditEvents", `auditEvents(tenantId: "${msp.id}", %s) { totalCount }`],
      ["viewer.sessions", `viewer { sessions(%s) { totalCount } }`],
      ["viewerAuthenticators", `viewerAuthenticators(%s) { totalCount }`],
    ] as const;
    for (const [field, selection] of lists) {
      for (const [argument, cursor] of [["after", "bm90LWEtY3Vyc29y"], ["before", "not a cursor!"]] as const) {
        const page = argument === "after" ? `first: 5, after: "${cursor}"` : `last: 5, before: "${cursor}"`;
        const { body } = await api.request(`{ ${selection.replace("%s", page)} }`, {}, { token: msp.token });
        const what = `${field}(${argument})`;
        expect(body.errors?.map((error) => error.extensions?.code), what).toEqual(["VALIDATION"]);
        expect(body.errors![0]!.message, what).toBe("Not a cursor this list gave: send back an edge's `cursor` or `pageInfo.endCursor`");
        expect(JSON.stringify(body), what).not.toContain(cursor);
        expect(body.errors![0]!.path?.join("."), what).toBe(field);
      }
      // Arguments that do not go together are refused the same way, with how to page instead.
      const { body } = await api.request(`{ ${selection.replace("%s", "first: 5, before: \"x\"")} }`, {}, { token: msp.token });
      expect(body.errors?.map((error) => error.extensions?.code), field).toEqual(["VALIDATION"]);
      expect(body.errors![0]!.message, field).toMatch(/"before" and "first" .*: page forward with `first` and `after`/);
    }
  });
});

describe("viewerAuthenticators and User.linkedAuthenticators", () => {
  it("gives the phone, its user and the admins who manage the user the same phones", async () => {
    const listed = await phone.list();
    expect(listed.map((record) => record.id)).toEqual([phone.deviceId]);
    const own = (await api.gql(`{ viewerAuthenticators(first: 10) { ${PAGE} } }`, {}, { token: msp.token })).viewerAuthenticators as Page;
    expect(idsOf(own)).toEqual([phone.deviceId]);
    const { user } = await api.gql(`query($id: ID!) { user(id: $id) { linkedAuthenticators(first: 10) { ${PAGE} } } }`, { id: msp.adminId }, { token: msp.token });
    expect(idsOf(user.linkedAuthenticators)).toEqual([phone.deviceId]);
    expect((await api.gql(NODE, { id: phone.deviceId }, { token: msp.token })).node).toEqual({ __typename: "Authenticator", id: phone.deviceId });
  });

  it("gives another MSP's admin nothing: the user is null and node is null", async () => {
    const { user } = await api.gql(`query($id: ID!) { user(id: $id) { linkedAuthenticators(first: 10) { totalCount } } }`, { id: msp.adminId }, { token: other.token });
    expect(user).toBeNull();
    expect((await api.gql(NODE, { id: phone.deviceId }, { token: other.token })).node).toBeNull();
    expect((await api.gql(`{ viewerAuthenticators(first: 10) { totalCount } }`, {}, { token: other.token })).viewerAuthenticators.totalCount).toBe(0);
  });

  it("gives a technician, who does not manage their MSP's admin, no phones of the admin", async () => {
    const asTechnician = { token: await technician.token() };
    const { user } = await api.gql(`query($id: ID!) { user(id: $id) { linkedAuthenticators(first: 10) { totalCount } } }`, { id: msp.adminId }, asTechnician);
    expect(user?.linkedAuthenticators ?? null).toBeNull();
    expect((await api.gql(NODE, { id: phone.deviceId }, asTechnician)).node).toBeNull();
  });
});

describe("Tenant.technicianDelegations", () => {
  it("pages a customer's technicians for its MSP's admins; the technician reads their own grant by id", async () => {
    const second = await msp.technician();
    await msp.delegate(second.id, customer.id);
    const read = async (after: string | null) =>
      (await api.gql(`query($id: ID!, $after: String) { tenant(id: $id) { technicianDelegations(first: 1, after: $after) { ${PAGE} } } }`, { id: customer.id, after }, { token: msp.token }))
        .tenant.technicianDelegations as Page;
    const delegations = await allPages(read, 1);
    expect(delegations).toHaveLength(2);
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { technicianDelegations(first: 10) { edges { node { id technician { id } } } } } }`, { id: customer.id }, { token: msp.token });
    expect(tenant.technicianDelegations.edges.map((edge: { node: { technician: { id: string } } }) => edge.node.technician.id)).toEqual([technician.id, second.id]);

    const [mine] = delegations;
    expect((await api.gql(NODE, { id: mine }, { token: msp.token })).node).toEqual({ __typename: "Delegation", id: mine });
    expect((await api.gql(NODE, { id: mine }, { token: await technician.token() })).node).toEqual({ __typename: "Delegation", id: mine });
    // The other technician is not given their colleague's grant.
    expect((await api.gql(NODE, { id: mine }, { token: await second.token() })).node).toBeNull();
  });

  it("is null for the technician and for another MSP, and node gives the other MSP nothing", async () => {
    const asTechnician = await api.gql(`query($id: ID!) { tenant(id: $id) { technicianDelegations(first: 10) { totalCount } } }`, { id: customer.id }, { token: await technician.token() });
    expect(asTechnician.tenant.technicianDelegations).toBeNull();
    const asOther = await api.gql(`query($id: ID!) { tenant(id: $id) { technicianDelegations(first: 10) { totalCount } } }`, { id: customer.id }, { token: other.token });
    expect(asOther.tenant).toBeNull();
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { technicianDelegations(first: 10) { edges { node { id } } } } }`, { id: customer.id }, { token: msp.token });
    for (const { node } of tenant.technicianDelegations.edges) expect((await api.gql(NODE, { id: node.id }, { token: other.token })).node).toBeNull();
  });
});

describe("agentWorkstation.pendingCommands", () => {
  it("pages the agent's unacknowledged commands oldest first; the next page after acknowledging holds the rest", async () => {
    const at = Date.parse("2026-01-01T00:00:00Z");
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push(
        await api.db.workstationCommand.create({
          data: { workstationId: workstation.workstationId!, tenantId: customer.id, kind: "ROTATE_ACCOUNT_PASSWORD", accountName: `lk-admin-${i}`, createdAt: new Date(at + i * 1000) },
        }),
      );
    }
    const PENDING = `{ agentWorkstation { pendingCommands(first: 2) { ${PAGE} } } }`;
    const asAgent = async () => ({ token: await workstation.credential() });
    const first = (await api.gql(PENDING, {}, await asAgent())).agentWorkstation.pendingCommands as Page;
    expect(idsOf(first)).toEqual(created.slice(0, 2).map((command) => command.id));
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.totalCount).toBe(3);
    for (const id of idsOf(first)) {
      const { acknowledgeWorkstationCommand } = await api.gql(
        `mutation($input: AcknowledgeWorkstationCommandInput!) { acknowledgeWorkstationCommand(input: $input) { __typename ... on Error { code message } } }`,
        { input: { id } },
        await asAgent(),
      );
      expect(acknowledgeWorkstationCommand.__typename).not.toMatch(/Error$/);
    }
    const rest = (await api.gql(PENDING, {}, await asAgent())).agentWorkstation.pendingCommands as Page;
    expect(idsOf(rest)).toEqual([created[2]!.id]);
    expect(rest.pageInfo.hasNextPage).toBe(false);

    // The agent and the customer's admins read a command by id; another MSP does not.
    expect((await api.gql(NODE, { id: created[2]!.id }, await asAgent())).node).toEqual({ __typename: "WorkstationCommand", id: created[2]!.id });
    expect((await api.gql(NODE, { id: created[2]!.id }, { token: msp.token })).node).toEqual({ __typename: "WorkstationCommand", id: created[2]!.id });
    expect((await api.gql(NODE, { id: created[2]!.id }, { token: other.token })).node).toBeNull();
    const { workstation: seen } = await api.gql(`query($id: ID!) { workstation(id: $id) { pendingCommands(first: 5) { totalCount } } }`, { id: workstation.workstationId }, { token: other.token });
    expect(seen).toBeNull();
  });
});

describe("API keys", () => {
  it("read no phones and no workstation commands, and read a customer's delegations only with the directory permission", async () => {
    const created = await api.gql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { apiKey } } }`,
      { input: { tenantId: msp.id, name: "RMM", permissions: ["READ_DIRECTORY", "READ_WORKSTATIONS"], allCustomers: true } },
      { token: msp.token },
    );
    const asKey = { token: created.createApiKey.apiKey as string };
    const { user } = await api.gql(`query($id: ID!) { user(id: $id) { id linkedAuthenticators(first: 5) { totalCount } } }`, { id: msp.adminId }, asKey);
    expect(user).toEqual({ id: msp.adminId, linkedAuthenticators: null });
    expect((await api.gql(NODE, { id: phone.deviceId }, asKey)).node).toBeNull();
    const { workstation: seen } = await api.gql(`query($id: ID!) { workstation(id: $id) { id pendingCommands(first: 5) { totalCount } } }`, { id: workstation.workstationId }, asKey);
    expect(seen).toEqual({ id: workstation.workstationId, pendingCommands: null });
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { technicianDelegations(first: 5) { edges { node { id } } } } }`, { id: customer.id }, asKey);
    const [delegation] = tenant.technicianDelegations.edges;
    expect((await api.gql(NODE, { id: delegation.node.id }, asKey)).node).toEqual({ __typename: "Delegation", id: delegation.node.id });
  });
});
