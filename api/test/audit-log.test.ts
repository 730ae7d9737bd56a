// The audit log as admins read it: filtered, per tenant or MSP-wide, exported
// as CSV or JSON in keyset pages that stream, and purged past each tenant's
// retention only through the database's purge function, which records itself.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed } from "./seed.ts";

const PAGE = 100;

/** While set, an export waits before its second page until the test lets it go on. */
let holdSecondPage: Promise<void> | null = null;

let api: Api;
let msp: MspSeed;
let contoso: CustomerSeed;
let fabrikam: CustomerSeed;
beforeAll(async () => {
  api = await Api.start({}, { auditExportPageSize: PAGE, beforeAuditExportPage: async (sent) => void (sent === 1 && (await holdSecondPage)) });
  msp = await seed(api).msp();
  contoso = await msp.customer();
  fabrikam = await msp.customer();
  await fabrikam.user();
});
afterAll(() => api?.stop());

const LOG = `query($t: ID!, $all: Boolean, $f: AuditEventFilter) { auditEvents(tenantId: $t, includeCustomers: $all, first: 100, filter: $f) {
  totalCount edges { node { action actorId targetId tenant { id } createdAt } } } }`;

type Row = { action: string; actorId: string | null; targetId: string | null; tenant: { id: string }; createdAt: string };

async function log(token: string, variables: Record<string, unknown>) {
  const { auditEvents } = await api.gql(LOG, variables, { token });
  return auditEvents as { totalCount: number; edges: { node: Row }[] } | null;
}

/** Old events written straight into the table, as they would have accumulated. */
async function backfill(tenantId: string, count: number, daysAgo: number, action = "backfilled.event") {
  await api.db.$executeRaw`
    INSERT INTO "AuditEvent" ("id", "tenantId", "action", "data", "createdAt")
    SELECT gen_random_uuid(), ${tenantId}::uuid, ${action}, jsonb_build_object('n', n), now() - make_interval(days => ${daysAgo}) - make_interval(secs => n)
    FROM generate_series(1, ${count}) AS n`;
}

function download(path: string, token: string) {
  return fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

describe("reading the audit log", () => {
  it("filters by actor, action, target and time", async () => {
    const admin = await contoso.admin();
    const user = await contoso.user();
    const adminToken = await admin.token();
    await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename } }`, { id: user.id }, { token: adminToken });
    const all = await log(msp.token, { t: contoso.id });
    expect(all!.totalCount).toBeGreaterThan(2);

    const byActor = await log(msp.token, { t: contoso.id, f: { actorId: admin.id } });
    expect(byActor!.edges.map((e) => e.node.action)).toContain("user.disabled");
    expect(byActor!.edges.every((e) => e.node.actorId === admin.id)).toBe(true);
    const byAction = await log(msp.token, { t: contoso.id, f: { action: "user.created" } });
    expect(byAction!.edges.length).toBeGreaterThanOrEqual(2);
    expect(byAction!.edges.every((e) => e.node.action === "user.created")).toBe(true);
    const byTarget = await log(msp.token, { t: contoso.id, f: { targetId: user.id } });
    expect(byTarget!.edges.map((e) => e.node.action).sort()).toEqual(["user.created", "user.disabled"]);
    const future = await log(msp.token, { t: contoso.id, f: { since: new Date(Date.now() + 60_000).toISOString() } });
    expect(future!.totalCount).toBe(0);
    const past = await log(msp.token, { t: contoso.id, f: { until: new Date(Date.now() + 60_000).toISOString() } });
    expect(past!.totalCount).toBe(all!.totalCount);
    // Text PostgreSQL cannot compare (U+0000) matches nothing, rather than failing the query.
    for (const f of [{ action: "user.created\u0000" }, { targetId: `${user.id}\u0000` }]) {
      expect(await log(msp.token, { t: contoso.id, f }), JSON.stringify(f)).toMatchObject({ totalCount: 0, edges: [] });
    }
  });

  it("names each event's kind as an enum, filters by it, and still answers the deprecated action", async () => {
    const admin = await contoso.admin();
    const user = await contoso.user();
    await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename } }`, { id: user.id }, { token: await admin.token() });
    const KINDS = `query($t: ID!, $f: AuditEventFilter) { auditEvents(tenantId: $t, first: 100, filter: $f) {
      totalCount edges { node { kind action targetId } } } }`;
    const read = async (filter: Record<string, unknown>) =>
      (await api.gql(KINDS, { t: contoso.id, f: filter }, { token: msp.token })).auditEvents as {
        totalCount: number;
        edges: { node: { kind: string; action: string; targetId: string | null } }[];
      };

    const aboutUser = await read({ targetId: user.id });
    expect(aboutUser.edges.map((e) => [e.node.kind, e.node.action]).sort()).toEqual([
      ["USER_CREATED", "user.created"],
      ["USER_DISABLED", "user.disabled"],
    ]);

    const disabled = await read({ kind: "USER_DISABLED" });
    expect(disabled.totalCount).toBeGreaterThanOrEqual(1);
    expect(disabled.edges.every((e) => e.node.kind === "USER_DISABLED" && e.node.action === "user.disabled")).toBe(true);
    expect(disabled.edges.map((e) => e.node.targetId)).toContain(user.id);
    expect(disabled.totalCount).toBe((await read({ action: "user.disabled" })).totalCount);

    // Given both, an event matches only if they name the same action.
    expect((await read({ kind: "USER_DISABLED", action: "user.disabled" })).totalCount).toBe(disabled.totalCount);
    expect((await read({ kind: "USER_DISABLED", action: "user.created" })).totalCount).toBe(0);

    // A kind the enum does not hold is refused before anything runs.
    const { body } = await api.request(KINDS, { t: contoso.id, f: { kind: "user.disabled" } }, { token: msp.token });
    expect(body.data).toBeUndefined();
    expect(body.errors![0]!.message).toMatch(/AuditEventKind/);
  });

  it("gives an MSP admin one log across the MSP and its customers, and a technician only the customers delegated to them", async () => {
    const everything = await log(msp.token, { t: msp.id, all: true });
    const tenants = new Set(everything!.edges.map((e) => e.node.tenant.id));
    expect([...tenants]).toEqual(expect.arrayContaining([msp.id, contoso.id, fabrikam.id]));

    const technician = await msp.technician();
    await msp.delegate(technician.id, contoso.id);
    const theirs = await log(await technician.token(), { t: msp.id, all: true });
    expect(new Set(theirs!.edges.map((e) => e.node.tenant.id))).toEqual(new Set([contoso.id]));
    // Without includeCustomers, the MSP's own log is not theirs to read.
    expect(await log(await technician.token(), { t: msp.id })).toBeNull();
  });

  it("answers null to anyone else, whatever they ask, as for a missing id", async () => {
    const stranger = await seed(api).msp();
    for (const variables of [{ t: contoso.id }, { t: msp.id, all: true }, { t: randomUUID(), all: true }]) {
      expect(await log(stranger.token, variables)).toBeNull();
    }
    const user = await contoso.user();
    expect(await log(await user.token(), { t: contoso.id })).toBeNull();
    const exported = await download(`/graphql/audit-events.csv?tenantId=${contoso.id}`, stranger.token);
    expect(exported.status).toBe(404);
    expect(await exported.text()).not.toContain(contoso.slug);
  });
});

describe("exporting the audit log", () => {
  it("writes CSV and JSON with every matching event, newest first, and neutralises formulas", async () => {
    const customer = await msp.customer();
    // A display name that a spreadsheet would run as a formula.
    await api.gql(
      `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename } }`,
      { input: { tenantId: customer.id, displayName: '=HYPERLINK("http://evil.example","x")' } },
      { token: msp.token },
    );
    const expected = (await log(msp.token, { t: customer.id }))!.edges.map((e) => e.node);

    const json = await download(`/graphql/audit-events.json?tenantId=${customer.id}`, msp.token);
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(json.headers.get("content-disposition")).toMatch(new RegExp(`attachment; filename="audit-${customer.slug}-\\d{4}-\\d{2}-\\d{2}\\.json"`));
    const rows = (await json.json()) as { action: string; createdAt: string; tenant: string; data: Record<string, unknown> }[];
    // The export's own event comes first; then exactly what the query shows.
    expect(rows[0]!.action).toBe("audit.exported");
    expect(rows.slice(1).map((r) => [r.action, r.createdAt])).toEqual(expected.map((e) => [e.action, e.createdAt]));
    expect(rows.every((r) => r.tenant === customer.slug)).toBe(true);

    const csv = await (await download(`/graphql/audit-events.csv?tenantId=${customer.id}&action=tenant.settingsUpdated`, msp.token)).text();
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe("createdAt,tenant,action,actorId,actorLabel,targetType,targetId,ip,data");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(",tenant.settingsUpdated,");
    // The formula is quoted as text, never a cell starting with "=".
    expect(lines[1]).not.toMatch(/(^|,)=/);
    expect(lines[1]).toContain("HYPERLINK");

    // Nothing matching: the header alone, and an empty JSON array.
    const since = encodeURIComponent(new Date(Date.now() + 3600_000).toISOString());
    expect(await (await download(`/graphql/audit-events.csv?tenantId=${customer.id}&since=${since}`, msp.token)).text()).toBe(`${lines[0]}\r\n`);
    expect(await (await download(`/graphql/audit-events.json?tenantId=${customer.id}&since=${since}`, msp.token)).json()).toEqual([]);
  });

  it("reads keyset pages of at most the page size and starts sending before the last page is read", async () => {
    const customer = await msp.customer();
    await backfill(customer.id, 3 * PAGE + 17, 1);
    const pageQueries = () => api.queries.filter((sql) => /FROM "public"\."AuditEvent"/.test(sql) && /LIMIT/.test(sql));
    const before = pageQueries().length;
    let letGo = () => {};
    holdSecondPage = new Promise((resolve) => (letGo = resolve));
    const response = await download(`/graphql/audit-events.csv?tenantId=${customer.id}`, msp.token);
    const reader = response.body!.getReader();
    // The header and the first page reach the client while the second is not yet read.
    const first = await reader.read();
    const readWhenFirstArrived = pageQueries().length - before;
    holdSecondPage = null;
    letGo();
    let text = new TextDecoder().decode(first.value);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    const pages = pageQueries().slice(before);
    // A header, 317 rows and the export's own event: three pages of 100 and one short one.
    expect(text.trimEnd().split("\r\n")).toHaveLength(1 + 3 * PAGE + 17 + 1);
    expect(pages).toHaveLength(4);
    // Each page after the first starts after the last row of the one before.
    expect(pages.slice(1).every((sql) => /"createdAt" < \$\d+/.test(sql) && /"id" < \$\d+/.test(sql))).toBe(true);
    expect(readWhenFirstArrived).toBe(1);
  });
});

describe("retention", () => {
  it("purges events past the tenant's retention through the purge function, which records a checkpoint", async () => {
    const customer = await msp.customer();
    const { updateTenantSettings } = await api.gql(
      `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename
        ... on UpdateTenantSettingsPayload { tenant { auditRetentionDays } } ... on Error { code } } }`,
      { input: { tenantId: customer.id, auditRetentionDays: 30 } },
      { token: msp.token },
    );
    expect(updateTenantSettings.tenant.auditRetentionDays).toBe(30);
    await backfill(customer.id, 25, 45, "old.event");
    await backfill(customer.id, 5, 10, "recent.event");

    // The trigger still refuses any other way to rewrite history.
    await expect(api.db.$executeRaw`DELETE FROM "AuditEvent" WHERE "tenantId" = ${customer.id}::uuid`).rejects.toThrow();
    await expect(api.db.$executeRaw`UPDATE "AuditEvent" SET "action" = 'x' WHERE "tenantId" = ${customer.id}::uuid`).rejects.toThrow();
    // Nor does the purge function's flag leak into the statements after it.
    await api.db.$queryRaw`SELECT "audit_event_purge"(${customer.id}::uuid, now() - interval '3650 days', 'test')`;
    await expect(api.db.$executeRaw`DELETE FROM "AuditEvent" WHERE "tenantId" = ${customer.id}::uuid`).rejects.toThrow();

    await api.app.services.jobs.enqueue("audit.retention", {});
    await api.jobsSettled();
    const left = await api.db.auditEvent.findMany({ where: { tenantId: customer.id } });
    expect(left.filter((e) => e.action === "old.event")).toEqual([]);
    expect(left.filter((e) => e.action === "recent.event")).toHaveLength(5);
    const checkpoint = left.find((e) => e.action === "audit.purged");
    expect(checkpoint?.data).toMatchObject({ count: 25, reason: "retention" });
    expect(new Date((checkpoint!.data as { before: string }).before).getTime()).toBeLessThan(Date.now() - 29 * 24 * 3600_000);
  });

  it("refuses a retention shorter than a month or longer than ten years, and keeps it from outsiders", async () => {
    for (const days of [1, 29, 3651]) {
      const { updateTenantSettings } = await api.gql(
        `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename ... on ValidationError { fields { path } } } }`,
        { input: { tenantId: contoso.id, auditRetentionDays: days } },
        { token: msp.token },
      );
      expect(updateTenantSettings.fields, String(days)).toEqual([{ path: "auditRetentionDays" }]);
    }
    const user = await contoso.user();
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { id auditRetentionDays } }`, { id: contoso.id }, { token: await user.token() });
    expect(tenant).toEqual({ id: contoso.id, auditRetentionDays: null });
  });
});

describe("the audit chain", () => {
  const CHAIN = `query($t: ID!) { auditChain(tenantId: $t) { intact length brokenAtEventId problem } }`;
  const check = async (tenantId: string, token = msp.token) => (await api.gql(CHAIN, { t: tenantId }, { token })).auditChain;

  /** What someone with the database can do: switch the append-only trigger off for one statement. */
  async function tamper(statement: Parameters<typeof api.db.$executeRaw>[0], ...values: unknown[]) {
    await api.db.$transaction([api.db.$executeRaw`SET LOCAL session_replication_role = replica`, api.db.$executeRaw(statement, ...values)]);
  }

  it("is intact as events are recorded, and shows an altered event and a deleted one", async () => {
    const customer = await msp.customer();
    for (const name of ["first", "second", "third"]) await customer.user({ password: `Chain ${name} ${randomUUID()}` });
    const intact = await check(customer.id);
    expect(intact).toMatchObject({ intact: true, brokenAtEventId: null });
    expect(intact.length).toBeGreaterThanOrEqual(3);
    // Chaining is idempotent: the same events, the same chain.
    expect(await check(customer.id)).toEqual(intact);

    const events = await api.db.auditEvent.findMany({ where: { tenantId: customer.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    const altered = events[0]!;
    await tamper`UPDATE "AuditEvent" SET "actorLabel" = 'Somebody Else' WHERE "id" = ${altered.id}::uuid`;
    expect(await check(customer.id)).toMatchObject({ intact: false, brokenAtEventId: altered.id, problem: expect.stringMatching(/altered/) });
    await tamper`UPDATE "AuditEvent" SET "actorLabel" = ${altered.actorLabel} WHERE "id" = ${altered.id}::uuid`;
    expect((await check(customer.id)).intact).toBe(true);

    const deleted = events[1]!;
    await tamper`DELETE FROM "AuditEvent" WHERE "id" = ${deleted.id}::uuid`;
    expect(await check(customer.id)).toMatchObject({ intact: false, brokenAtEventId: deleted.id, problem: expect.stringMatching(/deleted/) });
    // Its link deleted too: the gap shows at the next event.
    await api.db.auditChainLink.delete({ where: { eventId: deleted.id } });
    expect(await check(customer.id)).toMatchObject({ intact: false, brokenAtEventId: events[2]!.id, problem: expect.stringMatching(/deleted/) });
  });

  it("is null for a tenant the viewer does not administer, existing or not", async () => {
    const other = await seed(api).msp();
    expect(await check(contoso.id, other.token)).toBeNull();
    expect(await check(randomUUID(), msp.token)).toBeNull();
  });
});
