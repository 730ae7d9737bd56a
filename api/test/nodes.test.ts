// `node(id:)` / `nodes(ids:)` fetch any object again by its id alone: the viewer
// gets exactly what its own lists would show, and null for the rest.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { seed } from "./seed.ts";

let api: Api;
type Msp = Awaited<ReturnType<ReturnType<typeof seed>["msp"]>>;
let msp: Msp;
let other: Msp;
/** Objects of MSP `msp`, one of each kind an admin can make here, by type name. */
const ids: Record<string, string> = {};

const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;

beforeAll(async () => {
  api = await Api.start({ WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" });
  msp = await seed(api).msp();
  other = await seed(api).msp();
  const customer = await msp.customer();
  const user = await customer.user();
  const as = { token: msp.token };
  const key = await api.gql(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeyPayload { key { id } } ... on Error { code message } } }`,
    { input: { tenantId: msp.id, name: "RMM", permissions: ["READ_DIRECTORY"] } },
    as,
  );
  const webhook = await api.gql(
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename ... on CreateWebhookPayload { webhook { id } } ... on Error { code message } } }`,
    { input: { tenantId: msp.id, url: "http://127.0.0.1:9/hooks", events: ["AUDIT_EVENT"] } },
    as,
  );
  if (!key.createApiKey.key || !webhook.createWebhook.webhook) throw new Error(`seeding failed: ${JSON.stringify([key, webhook])}`);
  const audit = await api.gql(`query($t: ID!) { auditEvents(tenantId: $t, first: 1) { edges { node { id } } } }`, { t: customer.id }, as);
  Object.assign(ids, {
    Tenant: customer.id,
    User: user.id,
    ApiKey: key.createApiKey.key.id,
    Webhook: webhook.createWebhook.webhook.id,
    AuditEvent: audit.auditEvents.edges[0].node.id,
  });
});
afterAll(() => api?.stop());

describe("node and nodes", () => {
  it("gives the owner each object, typed, by its id alone", async () => {
    for (const [typeName, id] of Object.entries(ids)) {
      const { node } = await api.gql(NODE, { id }, { token: msp.token });
      expect(node, typeName).toEqual({ __typename: typeName, id });
    }
    // A type's own fields, through the interface.
    const { node } = await api.gql(`query($id: ID!) { node(id: $id) { ... on User { email tenant { id } } } }`, { id: ids.User }, { token: msp.token });
    expect(node.tenant.id).toBe(ids.Tenant);
  });

  it("answers nodes in the order asked, null for what is missing or malformed", async () => {
    const asked = [ids.User, randomUUID(), ids.Tenant, "not-a-uuid", ids.User];
    const { nodes } = await api.gql(NODES, { ids: asked }, { token: msp.token });
    expect(nodes).toEqual([
      { __typename: "User", id: ids.User },
      null,
      { __typename: "Tenant", id: ids.Tenant },
      null,
      { __typename: "User", id: ids.User },
    ]);
  });

  it("gives another MSP's admin null for every one, as for an id that does not exist", async () => {
    for (const [typeName, id] of Object.entries(ids)) {
      const { body } = await api.request(NODE, { id }, { token: other.token });
      expect(body.errors, typeName).toBeUndefined();
      expect(body.data, typeName).toEqual({ node: null });
    }
    const { nodes } = await api.gql(NODES, { ids: Object.values(ids) }, { token: other.token });
    expect(nodes).toEqual(Object.values(ids).map(() => null));
  });

  it("gives an API key only the types its permissions read, and never the portal's own", async () => {
    const created = await api.gql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { apiKey } } }`,
      { input: { tenantId: msp.id, name: "Directory sync", permissions: ["READ_DIRECTORY"], allCustomers: true } },
      { token: msp.token },
    );
    const { nodes } = await api.gql(NODES, { ids: [ids.Tenant, ids.User, ids.AuditEvent, ids.ApiKey, ids.Webhook] }, { token: created.createApiKey.apiKey });
    expect(nodes).toEqual([{ __typename: "Tenant", id: ids.Tenant }, { __typename: "User", id: ids.User }, null, null, null]);
  });

  it("refuses more than a page of ids", async () => {
    const { body } = await api.request(NODES, { ids: Array.from({ length: 101 }, () => randomUUID()) }, { token: msp.token });
    expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION");
    expect(body.data?.nodes ?? null).toBeNull();
  });

  it("gives a signed-out caller null", async () => {
    const { body } = await api.request(NODE, { id: ids.Tenant });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ node: null });
  });

  it("names each audit event's object as a node, read with the viewer's reach, in one batch per page", async () => {
    const AUDIT = `query($t: ID!) { auditEvents(tenantId: $t, first: 50) { edges { node { kind targetType targetId target { __typename id } } } } }`;
    const { auditEvents } = await api.gql(AUDIT, { t: ids.Tenant }, { token: msp.token });
    const events = auditEvents.edges.map((edge: { node: Record<string, any> }) => edge.node);
    const created = events.find((event: Record<string, any>) => event.kind === "USER_CREATED" && event.targetId === ids.User);
    expect(created.target).toEqual({ __typename: "User", id: ids.User });
    // Every target present is the object its type and id name.
    for (const event of events.filter((event: Record<string, any>) => event.target)) {
      expect(event.target).toEqual({ __typename: event.targetType, id: event.targetId });
    }
    // An API key that may read the audit log but not the directory is told what the object was, not given it.
    const key = await api.gql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { apiKey } } }`,
      { input: { tenantId: msp.id, name: "SIEM", permissions: ["READ_AUDIT"], allCustomers: true } },
      { token: msp.token },
    );
    const asKey = await api.gql(AUDIT, { t: ids.Tenant }, { token: key.createApiKey.apiKey });
    const seen = asKey.auditEvents.edges.map((edge: { node: Record<string, any> }) => edge.node).find((event: Record<string, any>) => event.targetId === ids.User);
    expect(seen).toMatchObject({ targetType: "User", targetId: ids.User, target: null });
  });
});
