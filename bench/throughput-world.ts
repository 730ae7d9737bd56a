// The world the throughput bench measures, the same for every server: an MSP
// with its customers, their directories, technicians with delegations, and a
// second MSP nobody else reaches, created through the public API; then the bulk
// rows the API would take too long to make (desktop login history) and account
// locks (which take ten refused passwords each) written with SQL.
import { randomBytes, randomUUID } from "node:crypto";
import { logInWithPassword, registerPassword, type RunOperation } from "@latchkey/passwords";

export type GraphQLBody = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

/** POSTs an operation; the parsed body and its raw text. */
export async function post(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as GraphQLBody, text };
  } catch {
    throw new Error(`HTTP ${response.status} from ${url}, not JSON: ${text.slice(0, 500)}`);
  }
}

/** The data of an operation that must succeed, and whose union answer (if `field` is one) must not be an error. */
async function mutate(url: string, query: string, variables: Record<string, unknown>, token?: string, field?: string) {
  const { status, body } = await post(url, query, variables, token);
  if (body.errors?.length) throw new Error(`GraphQL errors (HTTP ${status}): ${JSON.stringify(body.errors)}`);
  const data = body.data ?? {};
  const answer = field ? (data[field] as { __typename?: string } | null) : null;
  if (field && (!answer || /error/i.test(answer.__typename ?? ""))) throw new Error(`${field} answered ${JSON.stringify(answer)}`);
  return data;
}

export type WorldSize = { customers: number; usersPerCustomer: number; technicians: number; concurrency: number };

type SeededUser = { id: string; username: string };

export type World = {
  mspId: string;
  /** Tokens of the three kinds of viewer whose answers are compared. */
  tokens: { admin: string; technician: string; customerAdmin: string };
  customers: { id: string; name: string; users: SeededUser[] }[];
  /** The customer whose users and login history are loaded (the first by name; the technician's and the customer admin's). */
  measured: string;
  /** A customer of the same MSP that the technician does not reach. */
  undelegated: string;
  /** A customer of another MSP. */
  outsider: SeededUser & { customerId: string };
  apiCalls: number;
};

const FIRST = ["Ada", "Björn", "Chloé", "Dmitri", "Eve", "Farah", "Grace", "Hiro", "Inès", "José", "Kwame", "Lena", "Mateo", "Noor", "Olga", "Priya", "Quinn", "Rafael", "Sofia", "Tariq"];
const LAST = ["Andersson", "Bauer", "Castillo", "de Vries", "Eriksen", "Fischer", "García", "Hoffmann", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Müller", "Nakamura", "O'Brien", "Østergaard", "Petrov", "Quispe", "Rossi", "Šimek", "Tanaka", "van Dijk", "Weber", "Zhang"];

const passphrase = () => `${randomBytes(12).toString("base64url")} velvet harbor lantern`;

/** Runs `work` over `items`, `concurrency` at a time. */
async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const SIGN_UP = /* GraphQL */ `mutation BenchSignUp($input: SignUpMspInput!) {
  signUpMsp(input: $input) { __typename ... on AuthPayload { token tenant { id } } ... on Error { message } }
}`;
const CREATE_CUSTOMER = /* GraphQL */ `mutation BenchCreateCustomer($input: CreateCustomerInput!) {
  createCustomer(input: $input) { __typename ... on CreateCustomerPayload { customer { id slug } } ... on Error { message } }
}`;
const CREATE_USER = /* GraphQL */ `mutation BenchCreateUser($input: CreateUserInput!) {
  createUser(input: $input) { __typename ... on CreateUserPayload { user { id username } } ... on Error { message } }
}`;
const DISABLE_USER = /* GraphQL */ `mutation BenchDisableUser($input: DisableUserInput!) {
  disableUser(input: $input) { __typename ... on Error { message } }
}`;
const DELEGATE = /* GraphQL */ `mutation BenchDelegate($input: DelegateCustomerAccessInput!) {
  delegateCustomerAccess(input: $input) { __typename ... on Error { message } }
}`;

/** For @latchkey/passwords' flows: runs an operation that must not fail at the transport or top level. */
function runner(url: string, token?: string): RunOperation {
  return async (query, variables) => {
    const { status, body } = await post(url, query, variables, token);
    if (body.errors?.length) throw new Error(`GraphQL errors (HTTP ${status}): ${JSON.stringify(body.errors)}`);
    return (body.data ?? {}) as Record<string, any>;
  };
}

async function signUp(url: string, label: string) {
  const suffix = randomBytes(4).toString("hex");
  const slug = `${label}-${suffix}`;
  const { registrationId } = await registerPassword(runner(url), { password: passphrase() });
  const data = await mutate(
    url,
    SIGN_UP,
    {
      input: {
        slug,
        displayName: `Bench ${label} ${suffix}`,
        firstName: "Bench",
        lastName: "Admin",
        email: `admin@${slug}.example.com`,
        passwordRegistrationId: registrationId,
        tokenDelivery: "BEARER",
      },
    },
    undefined,
    "signUpMsp",
  );
  const payload = data.signUpMsp as { token: string; tenant: { id: string } };
  return { token: payload.token, mspId: payload.tenant.id, slug };
}

export async function seedThroughApi(url: string, size: WorldSize): Promise<World> {
  let apiCalls = 0;
  const call = (query: string, variables: Record<string, unknown>, token: string | undefined, field: string) => {
    apiCalls++;
    return mutate(url, query, variables, token, field);
  };

  const msp = await signUp(url, "bench");
  apiCalls++;
  const admin = msp.token;

  const customers: World["customers"] = [];
  const slugs = new Map<string, string>();
  for (let i = 1; i <= size.customers; i++) {
    const name = `customer${String(i).padStart(2, "0")}`;
    const data = await call(CREATE_CUSTOMER, { input: { name, displayName: `Bench Customer ${String(i).padStart(2, "0")}` } }, admin, "createCustomer");
    const customer = (data.createCustomer as { customer: { id: string; slug: string } }).customer;
    customers.push({ id: customer.id, name, users: [] });
    slugs.set(customer.id, customer.slug);
  }
  const measured = customers[0]!;

  // Directories: pairs of users share a name, so pages must break ties by id;
  // one in nine is an admin; the measured customer's users have passwords every
  // fourth (hashing them all would only slow the seeding down).
  const passwords = new Map<string, string>();
  const tasks = customers.flatMap((customer) =>
    Array.from({ length: size.usersPerCustomer }, (_, index) => ({ customer, i: index + 1 })),
  );
  await inParallel(tasks, size.concurrency, async ({ customer, i }) => {
    const pair = Math.floor(i / 2);
    const username = `u${String(i).padStart(4, "0")}`;
    const password = customer === measured && (i === 1 || i % 4 === 0) ? passphrase() : null;
    // The admin's client registers the password (OPAQUE) and seals it to the customer's key.
    const registration = password ? await registerPassword(runner(url, admin), { tenant: customer.id, password }) : null;
    if (registration) apiCalls += 2;
    const data = await call(
      CREATE_USER,
      {
        input: {
          tenantId: customer.id,
          firstName: FIRST[pair % FIRST.length],
          lastName: LAST[(pair * 7) % LAST.length],
          username,
          email: `${username}@${customer.name}.example.com`,
          role: i % 9 === 1 ? "ADMIN" : "USER",
          passwordRegistrationId: registration?.registrationId ?? null,
        },
      },
      admin,
      "createUser",
    );
    const user = (data.createUser as { user: SeededUser }).user;
    customer.users.push(user);
    if (password) passwords.set(user.id, password);
  });
  for (const customer of customers) customer.users.sort((a, b) => a.username.localeCompare(b.username));

  // A few disabled users in the measured customer.
  for (const user of measured.users.filter((_, index) => index % 7 === 3)) {
    await call(DISABLE_USER, { input: { userId: user.id } }, admin, "disableUser");
  }

  // Technicians: technician k reaches every (k + 2)th customer, so each customer has its own count.
  const technicians: (SeededUser & { password: string })[] = [];
  for (let k = 0; k < size.technicians; k++) {
    const password = passphrase();
    const username = `tech${k + 1}`;
    const { registrationId } = await registerPassword(runner(url, admin), { tenant: msp.mspId, password });
    apiCalls += 2;
    const data = await call(
      CREATE_USER,
      {
        input: {
          tenantId: msp.mspId, firstName: "Tech", lastName: `Nician ${k + 1}`, username, email: `${username}@msp.example.com`, role: "TECHNICIAN",
          passwordRegistrationId: registrationId,
        },
      },
      admin,
      "createUser",
    );
    technicians.push({ ...(data.createUser as { user: SeededUser }).user, password });
    for (const [index, customer] of customers.entries()) {
      if (index % (k + 2) === 0) await call(DELEGATE, { input: { technicianId: technicians[k]!.id, customerId: customer.id } }, admin, "delegateCustomerAccess");
    }
  }
  if (technicians.length === 0) throw new Error("BENCH_TECHNICIANS must be at least 1");

  const logIn = async (tenant: string, login: string, password: string) => {
    apiCalls += 2;
    const result = await logInWithPassword(runner(url), { tenant, login, password, tokenDelivery: "BEARER" });
    if (result.__typename !== "AuthPayload") throw new Error(`log in answered ${JSON.stringify(result)}`);
    return result.token as string;
  };
  const technician = await logIn(msp.slug, technicians[0]!.username, technicians[0]!.password);
  const customerAdmin = measured.users.find((user) => user.username === "u0001")!;
  const customerAdminToken = await logIn(slugs.get(measured.id)!, customerAdmin.username, passwords.get(customerAdmin.id)!);

  const other = await signUp(url, "outsider");
  apiCalls++;
  const outsiderCustomer = await call(CREATE_CUSTOMER, { input: { name: "outsider", displayName: "Outsider Customer" } }, other.token, "createCustomer");
  const outsiderCustomerId = (outsiderCustomer.createCustomer as { customer: { id: string } }).customer.id;
  const outsiderUser = await call(
    CREATE_USER,
    { input: { tenantId: outsiderCustomerId, firstName: "Out", lastName: "Sider", username: "outsider", email: "outsider@outsider.example.com", role: "USER" } },
    other.token,
    "createUser",
  );

  return {
    mspId: msp.mspId,
    tokens: { admin, technician, customerAdmin: customerAdminToken },
    customers,
    measured: measured.id,
    undelegated: customers[1]?.id ?? outsiderCustomerId,
    outsider: { ...(outsiderUser.createUser as { user: SeededUser }).user, customerId: outsiderCustomerId },
    apiCalls,
  };
}

/** A database connection that runs one statement: node-postgres or PGlite. */
export type Sql = { query(text: string, params: unknown[]): Promise<unknown> };

// Desktop login history: known users and unknown logins, both methods, both
// outcomes with their reasons and account outcomes, on a few workstations, one
// every 41 seconds going back, two at a time on the same millisecond so pages
// must break ties by id.
const LOGIN_HISTORY = `
  WITH input AS (SELECT $2::jsonb AS j),
  rows AS (
    SELECT g, (g % 11 = 0) AS unknown, (g % 5 = 0) AS wrong,
           j->'users'->(g % jsonb_array_length(j->'users')) AS u,
           j->'workstations'->(g % jsonb_array_length(j->'workstations')) AS w
    FROM input, generate_series(1, $3::int) AS g
  )
  INSERT INTO "LoginEvent" (id, "tenantId", "userId", username, "loginPseudonym", "workstationId", "workstationName",
                            method, outcome, reason, "accountOutcome", "accountDetail", ip, "createdAt", "updatedAt")
  SELECT gen_random_uuid(), $1::uuid,
         CASE WHEN unknown THEN NULL ELSE (u->>'id')::uuid END,
         CASE WHEN unknown THEN NULL ELSE u->>'username' END,
         CASE WHEN unknown THEN md5('bench-login-' || (g % 7)) END,
         (w->>'id')::uuid, w->>'name',
         (CASE WHEN g % 4 = 0 THEN 'QR' ELSE 'PASSWORD' END)::"LoginMethod",
         (CASE WHEN unknown OR wrong THEN 'FAILED' ELSE 'SUCCEEDED' END)::"LoginOutcome",
         CASE WHEN unknown THEN 'UNKNOWN_USER' WHEN wrong THEN 'WRONG_PASSWORD' END,
         (CASE WHEN unknown OR wrong THEN NULL WHEN g % 3 = 0 THEN 'TAKEN_OVER' ELSE 'CREATED' END)::"AccountOutcome",
         CASE WHEN NOT (unknown OR wrong) AND g % 3 = 0 THEN 'local account existed; password set' END,
         '10.0.' || (g % 250) || '.' || (g % 200 + 1),
         now() - make_interval(secs => (g / 2) * 41),
         now()
  FROM rows`;

export async function seedThroughSql(sql: Sql, world: World, loginEventsPerCustomer: number) {
  for (const customer of world.customers) {
    const input = {
      users: customer.users,
      workstations: Array.from({ length: 5 }, (_, k) => ({ id: randomUUID(), name: `${customer.name.toUpperCase()}-WS${k + 1}` })),
    };
    await sql.query(LOGIN_HISTORY, [customer.id, JSON.stringify(input), loginEventsPerCustomer]);
  }
  // Two accounts on the measured page locked after wrong passwords: one still
  // locked, one whose lock has run out (shown as not locked).
  await sql.query(
    `WITH page AS (SELECT id, row_number() OVER (ORDER BY "lastName", "firstName", id) AS n FROM "User" WHERE "tenantId" = $1::uuid)
     UPDATE "User" u
     SET "lockedAt" = now() - interval '5 minutes',
         "lockedUntil" = CASE WHEN page.n = 3 THEN now() + interval '10 minutes' ELSE now() - interval '1 minute' END
     FROM page WHERE page.id = u.id AND page.n IN (3, 6)`,
    [world.measured],
  );
  // Fresh statistics, so the planner does not change its mind (autovacuum) in the middle of a measurement.
  await sql.query("ANALYZE", []);
}
