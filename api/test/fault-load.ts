// What the fault tests share: two tenants seeded through a running API
// process, a stream of reads and writes against one of them with every answer
// kept, and the checks made by SQL once the fault is over: every write that
// answered success is there, none is there by halves, and the other tenant's
// rows are as they were.
import { randomBytes } from "node:crypto";
import { postGraphql, type Api } from "./harness.ts";
import { seed, type CustomerSeed, type MspSeed, type SeededUser } from "./seed.ts";

/** A SQL runner: node-postgres on a PostgreSQL cluster, or an API's own Prisma client. Lists go as comma-joined text. */
export type Sql = (text: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

/** SQL through a Prisma client (the embedded database of an API running in this process). */
export function prismaSql(prisma: { $queryRawUnsafe<T>(query: string, ...values: unknown[]): Promise<T> }): Sql {
  return (text, values = []) => prisma.$queryRawUnsafe<Record<string, unknown>[]>(text, ...values);
}

export type FaultWorld = {
  /** The tenant the load writes to: an MSP and one of its customers. */
  load: { msp: MspSeed; customer: CustomerSeed };
  /** A tenant nothing touches during the fault: its rows are hashed before and after. */
  other: { msp: MspSeed; customer: CustomerSeed; users: SeededUser[] };
};

/** Seeds both tenants through the API at `graphqlUrl`. */
export async function seedWorld(graphqlUrl: string): Promise<FaultWorld> {
  const gql = async (query: string, variables?: Record<string, unknown>, options?: { token?: string | null }) => {
    const { body } = await postGraphql(graphqlUrl, query, variables, { token: options?.token ?? undefined, timeoutMs: 30_000 });
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data as Record<string, any>;
  };
  const viaApi = seed({ gql } as unknown as Api);
  const loadMsp = await viaApi.msp();
  const loadCustomer = await loadMsp.customer();
  const otherMsp = await viaApi.msp();
  const otherCustomer = await otherMsp.customer();
  const users = [await otherCustomer.user(), await otherCustomer.user({ password: null }), await otherCustomer.admin(), await otherMsp.technician()];
  await otherMsp.delegate(users[3]!.id, otherCustomer.id);
  return { load: { msp: loadMsp, customer: loadCustomer }, other: { msp: otherMsp, customer: otherCustomer, users } };
}

export type OpName = "createUser" | "createCustomer" | "startLoginChallenge" | "listUsers" | "listCustomers";
export const WRITES: OpName[] = ["createUser", "createCustomer", "startLoginChallenge"];

export type Answer = {
  op: OpName;
  /** What identifies the write's rows: the username, the customer's slug; null for reads and challenges. */
  key: string | null;
  /** The id the API answered with (a created challenge). */
  id: string | null;
  /** HTTP status, or null when no answer came (connection refused or cut, timeout). */
  status: number | null;
  outcome: "ok" | "refused" | "no-answer";
  /** The refusal's code: `errors[0].extensions.code`, or the result union's `Error.code`. */
  code: string | null;
  /** For a GraphQL error: the field it failed at, or null when it failed the whole request (e.g. the session lookup). */
  errorPath: string | null;
  sentAt: number;
  answeredAt: number;
  detail?: string;
};

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
  ... on CreateUserPayload { user { id } } ... on Error { code message } } }`;
const CREATE_CUSTOMER = `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { __typename
  ... on CreateCustomerPayload { customer { id slug } } ... on Error { code message } } }`;
const START_CHALLENGE = `mutation($input: StartLoginChallengeInput!) { startLoginChallenge(input: $input) { __typename
  ... on StartLoginChallengePayload { challenge { id } } ... on Error { code message } } }`;
const LIST_USERS = `query($tenantId: ID!) { users(tenantId: $tenantId, first: 5) { totalCount edges { node { id username } } } }`;
const LIST_CUSTOMERS = `{ customers(first: 5) { totalCount edges { node { id slug } } } }`;

let sequence = 0;
/** A name no other run or write uses (lower-case letters and digits, short enough for a slug). */
function freshName(prefix: string) {
  sequence += 1;
  return `${prefix}${randomBytes(3).toString("hex")}${sequence.toString(36)}`;
}

/** Sends one operation of the load and records how it was answered. */
export async function runOp(graphqlUrl: string, world: FaultWorld, op: OpName, timeoutMs = 30_000): Promise<Answer> {
  const { msp, customer } = world.load;
  let query: string;
  let variables: Record<string, unknown> = {};
  let token: string | undefined = msp.token;
  let key: string | null = null;
  switch (op) {
    case "createUser": {
      key = freshName("fu");
      query = CREATE_USER;
      variables = { input: { tenantId: customer.id, firstName: "Fault", lastName: "Load", username: key, email: `${key}@example.test`, role: "USER" } };
      break;
    }
    case "createCustomer": {
      const name = freshName("fc");
      key = `${name}-${msp.slug}`;
      query = CREATE_CUSTOMER;
      variables = { input: { name, displayName: `Fault ${name}` } };
      break;
    }
    case "startLoginChallenge":
      query = START_CHALLENGE;
      variables = { input: { tenant: msp.slug, kind: "PORTAL_LOGIN" } };
      token = undefined;
      break;
    case "listUsers":
      query = LIST_USERS;
      variables = { tenantId: customer.id };
      break;
    case "listCustomers":
      query = LIST_CUSTOMERS;
      break;
  }
  const sentAt = Date.now();
  try {
    const { response, body } = await postGraphql(graphqlUrl, query, variables, { token, timeoutMs });
    const answered = { op, key, status: response.status, sentAt, answeredAt: Date.now(), errorPath: null };
    const code = (body.errors?.[0]?.extensions?.code as string | undefined) ?? null;
    if (body.errors?.length) {
      const path = (body.errors[0] as { path?: (string | number)[] }).path;
      return { ...answered, id: null, outcome: "refused", code: code ?? "NO_CODE", errorPath: path ? path.join(".") : null, detail: body.errors[0]!.message };
    }
    const result = body.data?.[op === "listUsers" ? "users" : op === "listCustomers" ? "customers" : op] as Record<string, any> | null | undefined;
    if (!result) return { ...answered, id: null, outcome: "refused", code: "NO_DATA", detail: JSON.stringify(body).slice(0, 300) };
    if (typeof result.code === "string") return { ...answered, id: null, outcome: "refused", code: result.code, detail: result.message };
    return { ...answered, id: result.challenge?.id ?? null, outcome: "ok", code: null };
  } catch (error) {
    return { op, key, id: null, status: null, outcome: "no-answer", code: null, errorPath: null, sentAt, answeredAt: Date.now(), detail: String(error) };
  }
}

/** Counts answers by op and outcome/code, for the test's printed report. */
export function tally(answers: Answer[]) {
  const byOutcome: Record<string, number> = {};
  const refusalsByCode: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const answer of answers) {
    const label = answer.outcome === "refused" ? `refused:${answer.code}` : answer.outcome;
    byOutcome[`${answer.op} ${label}`] = (byOutcome[`${answer.op} ${label}`] ?? 0) + 1;
    if (answer.outcome === "refused") refusalsByCode[answer.code!] = (refusalsByCode[answer.code!] ?? 0) + 1;
    byStatus[String(answer.status ?? "none")] = (byStatus[String(answer.status ?? "none")] ?? 0) + 1;
  }
  return { requests: answers.length, byStatus, refusalsByCode, byOutcome };
}

/**
 * A hash of every row of these tenants that the load must leave alone: the
 * tenants, their users (and usernames' skeletons), key pairs, delegations,
 * audit events, challenges and sessions (without the sliding idle times a use
 * of the session moves).
 */
export async function tenantHash(sql: Sql, tenantIds: string[]): Promise<{ hash: string; rows: number }> {
  const [row] = await sql(
    `SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) AS hash, count(*)::int AS rows FROM (
       SELECT 'Tenant ' || row_to_json(t)::text AS x FROM "Tenant" t WHERE t.id = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'User ' || row_to_json(u)::text FROM "User" u WHERE u."tenantId" = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'UsernameSkeleton ' || row_to_json(s)::text FROM "UsernameSkeleton" s WHERE s."tenantId" = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'TenantKeyPair ' || row_to_json(k)::text FROM "TenantKeyPair" k WHERE k."tenantId" = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'Delegation ' || row_to_json(d)::text FROM "Delegation" d WHERE d."mspId" = ANY(string_to_array($1::text, ',')::uuid[]) OR d."customerId" = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'AuditEvent ' || row_to_json(a)::text FROM "AuditEvent" a WHERE a."tenantId" = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'Challenge ' || row_to_json(c)::text FROM "Challenge" c WHERE c."tenantId" = ANY(string_to_array($1::text, ',')::uuid[])
       UNION ALL SELECT 'Session ' || json_build_array(s.id, s."tokenHash", s."userId", s."tenantId", s."createdAt", s."expiresAt", s."revokedAt")::text
         FROM "Session" s WHERE s."tenantId" = ANY(string_to_array($1::text, ',')::uuid[])
     ) rows`,
    [tenantIds.join(",")],
  );
  return { hash: String(row!.hash), rows: Number(row!.rows) };
}

export function otherTenantIds(world: FaultWorld) {
  return [world.other.msp.id, world.other.customer.id];
}

export type WriteCheck = {
  /** Rows looked at: users, customers, challenges and audit events of the load tenant. */
  rowsChecked: number;
  /** Writes that answered success, each found whole. */
  confirmed: number;
  /** Writes without a success answer (refused or unanswered) found whole: committed as the connection went. */
  inDoubtCommitted: number;
  /** Writes without a success answer of which no row exists. */
  inDoubtAbsent: number;
  /** Problems found; the test expects none. */
  problems: string[];
};

/**
 * Checks the load tenant after the fault. Every user of the customer and every
 * customer of the MSP must be whole (a user: its username skeletons and its one
 * `user.created` audit event; a customer: its key pair and its one
 * `customer.created` event), with no audit event left without its object; every
 * write answered with success must be there, and every other one either whole
 * or entirely absent.
 */
export async function checkWrites(sql: Sql, world: FaultWorld, answers: Answer[]): Promise<WriteCheck> {
  const problems: string[] = [];
  const customerId = world.load.customer.id;
  const mspId = world.load.msp.id;

  const users = await sql(
    `SELECT u.id, u.username,
       (SELECT count(*)::int FROM "UsernameSkeleton" s WHERE s."userId" = u.id AND s."tenantId" = u."tenantId") AS skeletons,
       (SELECT count(*)::int FROM "AuditEvent" a WHERE a."tenantId" = u."tenantId" AND a.action = 'user.created' AND a."targetId" = u.id::text) AS audits
     FROM "User" u WHERE u."tenantId" = $1::uuid`,
    [customerId],
  );
  for (const user of users) {
    if (Number(user.skeletons) < 1) problems.push(`user ${user.username} has no username skeletons`);
    if (Number(user.audits) !== 1) problems.push(`user ${user.username} has ${user.audits} user.created audit events`);
  }
  const usernames = new Set(users.map((user) => String(user.username)));

  const customers = await sql(
    `SELECT t.id, t.slug,
       (SELECT count(*)::int FROM "TenantKeyPair" k WHERE k."tenantId" = t.id) AS keys,
       (SELECT count(*)::int FROM "AuditEvent" a WHERE a."tenantId" = t."parentId" AND a.action = 'customer.created' AND a."targetId" = t.id::text) AS audits
     FROM "Tenant" t WHERE t."parentId" = $1::uuid`,
    [mspId],
  );
  for (const customer of customers) {
    if (Number(customer.keys) !== 1) problems.push(`customer ${customer.slug} has ${customer.keys} key pairs`);
    if (Number(customer.audits) !== 1) problems.push(`customer ${customer.slug} has ${customer.audits} customer.created audit events`);
  }
  const slugs = new Set(customers.map((customer) => String(customer.slug)));

  // Audit events of a creation whose object is missing: a change that committed by halves.
  const audits = await sql(
    `SELECT a.action, a."targetId", a.data->>'username' AS username, a.data->>'slug' AS slug,
       CASE a.action
         WHEN 'user.created' THEN EXISTS (SELECT 1 FROM "User" u WHERE u.id::text = a."targetId")
         ELSE EXISTS (SELECT 1 FROM "Tenant" t WHERE t.id::text = a."targetId")
       END AS "targetExists"
     FROM "AuditEvent" a
     WHERE (a."tenantId" = $1::uuid AND a.action = 'user.created') OR (a."tenantId" = $2::uuid AND a.action = 'customer.created')`,
    [customerId, mspId],
  );
  for (const audit of audits) if (!audit.targetExists) problems.push(`${audit.action} audit event for ${audit.targetId} without its object`);
  const auditedUsernames = new Set(audits.filter((a) => a.action === "user.created").map((a) => String(a.username)));
  const auditedSlugs = new Set(audits.filter((a) => a.action === "customer.created").map((a) => String(a.slug)));

  const challengeIds = answers.filter((a) => a.op === "startLoginChallenge" && a.outcome === "ok").map((a) => a.id!);
  const [found] = await sql(`SELECT count(*)::int AS n FROM "Challenge" WHERE id = ANY(string_to_array($1::text, ',')::uuid[])`, [challengeIds.join(",")]);
  if (Number(found!.n) !== challengeIds.length) problems.push(`${challengeIds.length - Number(found!.n)} of ${challengeIds.length} challenges answered as started are missing`);

  let confirmed = Number(found!.n);
  let inDoubtCommitted = 0;
  let inDoubtAbsent = 0;
  for (const answer of answers) {
    if (answer.op !== "createUser" && answer.op !== "createCustomer") continue;
    const present = answer.op === "createUser" ? usernames.has(answer.key!) : slugs.has(answer.key!);
    const audited = answer.op === "createUser" ? auditedUsernames.has(answer.key!) : auditedSlugs.has(answer.key!);
    if (answer.outcome === "ok") {
      if (present) confirmed += 1;
      else problems.push(`${answer.op} ${answer.key} answered success but is not in the database`);
    } else if (present) {
      inDoubtCommitted += 1;
    } else {
      inDoubtAbsent += 1;
      if (audited) problems.push(`${answer.op} ${answer.key} has an audit event but no row`);
    }
  }
  return { rowsChecked: users.length + customers.length + audits.length + challengeIds.length, confirmed, inDoubtCommitted, inDoubtAbsent, problems };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it answers true, or fails after `timeoutMs` naming `what` (and what `explain` says of the state). */
export async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 200, explain?: () => string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${explain()}` : ""}`);
    await sleep(everyMs);
  }
}
