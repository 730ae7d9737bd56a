// Asking for an email code must not tell who has an account. Shown by
// construction, from the query log: the request runs the same statements for
// any address and answers with the workers paused, so it cannot wait on them;
// the per-address work happens in a job afterwards.
import { randomBytes } from "node:crypto";
import { Authenticator } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { Api, unique } from "./harness.ts";
import { seed, type MspSeed } from "./seed.ts";

const REQUEST = `mutation($email: String!) { requestEmailVerification(input: { email: $email }) { __typename
  ... on RequestEmailVerificationPayload { sent expiresAt } ... on Error { code message } } }`;

let api: Api;
let msp: MspSeed;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
});
afterAll(async () => {
  await api?.stop();
});

/** Statements that read or write per-address data. */
const perAddress = (sql: string) => /"User"|"EmailVerification"/.test(sql);

async function mailsTo(address: string) {
  return (await api.outbox()).filter((mail) => mail.toLowerCase().includes(`to: ${address.toLowerCase()}`));
}

describe("requestEmailVerification", () => {
  it("runs the same statements for an address with an account and one without, and answers before looking either up", async () => {
    const known = (await msp.technician()).email;
    const unknown = `${unique("nobody")}@example.test`;
    await api.jobsSettled();
    // No worker runs now: an answer that came back cannot have waited on one.
    await api.app.jobs.pauseWorkers();
    const ask = async (email: string) => {
      const from = api.queries.length;
      const { body } = await api.request(REQUEST, { email });
      return { answer: body.data?.requestEmailVerification, sql: api.requestQueriesSince(from) };
    };
    const forKnown = await ask(known);
    const forUnknown = await ask(unknown);
    const answeredAt = api.queries.length;

    expect(forKnown.answer).toMatchObject({ __typename: "RequestEmailVerificationPayload", sent: true });
    expect(Object.keys(forUnknown.answer).sort()).toEqual(Object.keys(forKnown.answer).sort());
    expect(forUnknown.answer.sent).toBe(true);
    // Identical in count and text: one enqueue, nothing about the address.
    expect(forUnknown.sql).toEqual(forKnown.sql);
    expect(forKnown.sql).toHaveLength(1);
    expect(forKnown.sql[0]).toMatch(/INSERT INTO \w+\.job/);
    expect(forKnown.sql.filter(perAddress)).toEqual([]);
    expect(await mailsTo(known)).toEqual([]);

    await api.app.jobs.resumeWorkers();
    const code = await api.emailedCode(known);
    await api.jobsSettled();
    // The lookups ran afterwards, in the worker: one for each address.
    const later = api.queries.slice(answeredAt);
    expect(later.filter((sql) => /FROM "public"\."User"/.test(sql))).toHaveLength(2);

    // The address with an account got a working code ...
    const phone = await Authenticator.create({ apiUrl: `${api.url}/graphql` });
    await phone.verifyEmail(known, code, "Phone");
    expect(phone.deviceToken).toBeTruthy();
    // ... and the other one nothing at all.
    expect(await mailsTo(unknown)).toEqual([]);
    expect(await api.db.emailVerification.count({ where: { emailKey: unknown.toLowerCase() } })).toBe(0);
  });

  it("keeps the code out of the job: the queue's tables never see it", async () => {
    const technician = await msp.technician();
    await api.request(REQUEST, { email: technician.email });
    const code = await api.emailedCode(technician.email);
    await api.jobsSettled();
    const schema = api.app.jobs.schema;
    const rows = await api.db.$queryRawUnsafe<unknown[]>(
      `SELECT data, output FROM ${schema}.job WHERE name = 'emailVerification.send' UNION ALL SELECT data, output FROM ${schema}.archive WHERE name = 'emailVerification.send'`,
    );
    expect(JSON.stringify(rows)).toContain(technician.email);
    expect(JSON.stringify(rows)).not.toContain(code);
    const stored = await api.db.emailVerification.findFirstOrThrow({ where: { emailKey: technician.email.toLowerCase() }, orderBy: { createdAt: "desc" } });
    expect(stored.codeHash).not.toContain(code);
  });
});

describe("the email-code key", () => {
  it("is its own: codes are hashed under EMAIL_CODE_KEY, not the log pseudonym key", async () => {
    const technician = await msp.technician();
    await api.request(REQUEST, { email: technician.email });
    const code = await api.emailedCode(technician.email);
    await api.jobsSettled();
    const stored = await api.db.emailVerification.findFirstOrThrow({ where: { emailKey: technician.email.toLowerCase() }, orderBy: { createdAt: "desc" } });
    const { config } = api.app.services;
    expect(stored.codeHash).toBe(config.hashEmailCode(technician.email.toLowerCase(), code));
    expect(stored.codeHash).not.toBe(config.pseudonymize(`${technician.email.toLowerCase()}:${code}`));
  });

  it("is required on PostgreSQL: an instance without it refuses to start", async () => {
    const postgres = { DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none", DATA_DIR: api.dataDir, KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64") };
    expect(() => loadConfig({ ...postgres, EMAIL_CODE_KEY: randomBytes(16).toString("base64") })).toThrow(/EMAIL_CODE_KEY: must be base64 of exactly 32 bytes/);
    const key = randomBytes(32);
    expect(loadConfig({ ...postgres, EMAIL_CODE_KEY: key.toString("base64") }).emailCodeKey).toEqual(key);
    // Refused before any connection is opened (nothing listens on that port anyway).
    await expect(buildApp(loadConfig({ ...postgres, LOG_LEVEL: "silent" }))).rejects.toThrow(
      /EMAIL_CODE_KEY is required when DATABASE_URL is set\. A code hashed by one instance is checked by whichever instance/,
    );
    // The same for the key of browsers' device cookies.
    await expect(buildApp(loadConfig({ ...postgres, EMAIL_CODE_KEY: key.toString("base64"), LOG_LEVEL: "silent" }))).rejects.toThrow(
      /DEVICE_COOKIE_KEY is required when DATABASE_URL is set\. A browser known to one instance must be known to all of them/,
    );
  });
});
