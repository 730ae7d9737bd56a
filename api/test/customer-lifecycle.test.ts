// A customer's lifecycle as its MSP runs it: rename, suspend (nobody of it signs
// in, its workstations refuse logins, its data stays), resume, and delete (typed
// confirmation; its rows gone, its audit log purged through the purge function
// with the checkpoint in the MSP's own log). Through the public API on a real
// database; isolation of these mutations is in isolation.test.ts.
import { logInWithPassword } from "@latchkey/passwords";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { desktopSeed } from "./desktop-seed.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed } from "./seed.ts";

let api: Api;
let msp: MspSeed;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
});
afterAll(() => api?.stop());

const ERRORS = `... on Error { code message } ... on ValidationError { fields { path message } }`;
const SUSPEND = `mutation($input: SuspendCustomerInput!) { suspendCustomer(input: $input) { __typename
  ... on SuspendCustomerPayload { customer { id status suspendedAt } } ${ERRORS} } }`;
const RESUME = `mutation($input: ResumeCustomerInput!) { resumeCustomer(input: $input) { __typename
  ... on ResumeCustomerPayload { customer { id status suspendedAt } } ... on Error { code message } } }`;
const DELETE = `mutation($input: DeleteCustomerInput!) { deleteCustomer(input: $input) { __typename
  ... on DeleteCustomerPayload { deletedCustomerId } ${ERRORS} } }`;
const START_QR = `mutation { startLoginChallenge(input: { kind: DESKTOP_LOGIN }) { __typename ${ERRORS} } }`;

/** A password sign-in, by OPAQUE as every client makes it. */
function logIn(tenant: string, login: string) {
  return logInWithPassword((query, variables) => api.gql(query, variables), { tenant, login, password: PASSWORD }, `__typename ${ERRORS}`);
}

async function actions(tenantId: string) {
  const events = await api.db.auditEvent.findMany({ where: { tenantId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return events;
}

describe("suspending a customer", () => {
  let customer: CustomerSeed;
  beforeAll(async () => {
    customer = await msp.customer();
  });

  it("signs its users out, refuses their sign-in and its workstations' logins, and keeps its data", async () => {
    const [admin, user] = [await customer.admin(), await customer.user()];
    const adminToken = await admin.token();
    const desk = desktopSeed(api, msp, customer);
    await desk.settings({ desktopLoginEnabled: true, method: "PASSWORDLESS" });
    const workstation = await desk.workstation();
    expect((await api.gql(START_QR, {}, { token: await workstation.credential() })).startLoginChallenge.__typename).toBe("StartLoginChallengePayload");
    const usersBefore = await api.db.user.count({ where: { tenantId: customer.id } });

    const { suspendCustomer } = await api.gql(SUSPEND, { input: { customerId: customer.id, reason: "contract paused" } }, { token: msp.token });
    expect(suspendCustomer).toMatchObject({ __typename: "SuspendCustomerPayload", customer: { id: customer.id, status: "SUSPENDED" } });
    expect(suspendCustomer.customer.suspendedAt).not.toBeNull();

    // The admin's session ended, and nobody of it signs in again, whatever they prove.
    const { viewer } = await api.gql(`{ viewer { user { id } } }`, {}, { token: adminToken });
    expect(viewer).toBeNull();
    for (const who of [admin, user]) {
      expect(await logIn(customer.slug, who.email)).toMatchObject({ __typename: "ForbiddenError", code: "TENANT_SUSPENDED" });
    }
    // Its workstations refuse logins, and say why on the customer's feed.
    expect((await api.gql(START_QR, {}, { token: await workstation.credential() })).startLoginChallenge).toMatchObject({ code: "TENANT_SUSPENDED" });
    expect(await desk.loginEvents()).toContainEqual(expect.objectContaining({ outcome: "FAILED", reason: "TENANT_SUSPENDED" }));

    // The data is kept, and the MSP still sees and manages the customer.
    expect(await api.db.user.count({ where: { tenantId: customer.id } })).toBe(usersBefore);
    const { tenant } = await api.gql(`query($id: ID!) { tenant(id: $id) { id status userCount } }`, { id: customer.id }, { token: msp.token });
    expect(tenant).toEqual({ id: customer.id, status: "SUSPENDED", userCount: usersBefore });
    expect((await actions(customer.id)).find((e) => e.action === "customer.suspended")).toMatchObject({ data: { reason: "contract paused", sessionsEnded: 1 } });

    // Again: nothing changes, nothing more is logged.
    const count = (await actions(customer.id)).length;
    expect((await api.gql(SUSPEND, { input: { customerId: customer.id } }, { token: msp.token })).suspendCustomer.customer.status).toBe("SUSPENDED");
    expect((await actions(customer.id)).length).toBe(count);
  });

  it("lets them in again once resumed", async () => {
    const user = await customer.user();
    const { resumeCustomer } = await api.gql(RESUME, { input: { customerId: customer.id } }, { token: msp.token });
    expect(resumeCustomer).toMatchObject({ __typename: "ResumeCustomerPayload", customer: { status: "ACTIVE", suspendedAt: null } });
    expect((await logIn(customer.slug, user.email)).__typename).toBe("AuthPayload");
    expect((await actions(customer.id)).map((e) => e.action)).toContain("customer.resumed");
  });
});

describe("deleting a customer", () => {
  it("asks for the customer's slug typed, and changes nothing otherwise", async () => {
    const customer = await msp.customer();
    await customer.user();
    const before = await api.db.tenant.findUnique({ where: { id: customer.id } });
    for (const confirmation of ["", "yes", customer.name, `${customer.slug}x`]) {
      const { deleteCustomer } = await api.gql(DELETE, { input: { customerId: customer.id, confirmation } }, { token: msp.token });
      expect(deleteCustomer, confirmation).toMatchObject({ __typename: "ValidationError", fields: [{ path: "confirmation" }] });
    }
    expect(await api.db.tenant.findUnique({ where: { id: customer.id } })).toEqual(before);
    expect(await api.db.user.count({ where: { tenantId: customer.id } })).toBe(1);
  });

  it("removes its rows, purges its audit log through the purge function, and keeps the MSP's record of it", async () => {
    const customer = await msp.customer();
    const user = await customer.user();
    const userToken = await user.token();
    const desk = desktopSeed(api, msp, customer);
    await desk.settings({ desktopLoginEnabled: true, method: "PASSWORDLESS" });
    const workstation = await desk.workstation();
    const customerEvents = (await actions(customer.id)).length;
    expect(customerEvents).toBeGreaterThan(0);

    // Typed as people type it: spaces and capitals are forgiven.
    const { deleteCustomer } = await api.gql(DELETE, { input: { customerId: customer.id, confirmation: ` ${customer.slug.toUpperCase()} ` } }, { token: msp.token });
    expect(deleteCustomer).toEqual({ __typename: "DeleteCustomerPayload", deletedCustomerId: customer.id });

    expect(await api.db.tenant.findUnique({ where: { id: customer.id } })).toBeNull();
    expect(await api.db.user.count({ where: { tenantId: customer.id } })).toBe(0);
    expect(await api.db.workstation.count({ where: { tenantId: customer.id } })).toBe(0);
    expect(await api.db.auditEvent.count({ where: { tenantId: customer.id } })).toBe(0);
    // Its people and machines are out at once.
    expect((await api.gql(`{ viewer { user { id } } }`, {}, { token: userToken })).viewer).toBeNull();
    const refused = await api.gql(START_QR, {}, { token: await workstation.credential() });
    expect(refused.startLoginChallenge?.__typename ?? "refused").not.toBe("StartLoginChallengePayload");

    // The MSP's log keeps its own events about the customer, the deletion, and the purge's checkpoint.
    const mspLog = await actions(msp.id);
    expect(mspLog.filter((e) => e.targetId === customer.id).map((e) => e.action)).toEqual(["customer.created", "audit.purged", "customer.deleted"]);
    expect(mspLog.find((e) => e.action === "audit.purged" && e.targetId === customer.id)?.data).toMatchObject({ count: customerEvents, before: null, reason: "customer deleted" });
    expect(mspLog.find((e) => e.action === "customer.deleted")?.data).toMatchObject({ slug: customer.slug, users: 1, workstations: 1, auditEventsPurged: customerEvents });
    // The audit log is still append-only to everything but the purge function.
    await expect(api.db.$executeRaw`DELETE FROM "AuditEvent" WHERE "tenantId" = ${msp.id}::uuid`).rejects.toThrow();

    // Gone for the MSP too; a second delete is NOT_FOUND.
    const again = await api.gql(DELETE, { input: { customerId: customer.id, confirmation: customer.slug } }, { token: msp.token });
    expect(again.deleteCustomer).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
  });
});
