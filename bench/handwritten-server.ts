// The throughput bench's anchor: graphql-yoga serving the bench's query shapes
// with one hand-written SQL statement per request through `pg`, behind the
// API's own authentication (Bearer session token -> SHA-256 -> Session row,
// revoked, expired, idle or disabled users refused, the idle window slid at most
// once a minute), its session memory (10 s, as SessionCache keeps it) and its
// tenant rule (administeredTenants / reachableCustomers in schema/src/access.ts).
// No ORM, no schema builder: what this page costs at the least on this machine.
//
// Run as a child process by throughput.ts against the same PostgreSQL database as
// the API; listens on HANDWRITTEN_PORT on loopback only.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { GraphQLError, GraphQLScalarType } from "graphql";
import { createSchema, createYoga } from "graphql-yoga";
import pg from "pg";

/** SessionCache.TTL_MS and SLIDE_EVERY_MS of schema/src/modules/session. */
const SESSION_MEMORY_MS = 10_000;
const SLIDE_EVERY_MS = 60_000;
const MAX_PAGE = 100;

const port = Number(process.env.HANDWRITTEN_PORT);
const databaseUrl = process.env.DATABASE_URL;
const idleMinutes = Number(process.env.SESSION_IDLE_MINUTES || 60);
if (!Number.isInteger(port) || port <= 0 || !databaseUrl) {
  console.error("handwritten-server: HANDWRITTEN_PORT and DATABASE_URL are required");
  process.exit(2);
}

// The API's pool size, so neither side has more connections to work with.
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DATABASE_POOL_SIZE || 10) });

type Viewer = { sessionId: string; userId: string; tenantId: string; tenantKind: "MSP" | "CUSTOMER"; role: "ADMIN" | "TECHNICIAN" | "USER" };
type Remembered = { viewer: Viewer; cachedAt: number; expiresAt: number; idleExpiresAt: number; lastSeenAt: number };

const sessions = new Map<string, Remembered>();

const SESSION_SQL = `
  SELECT s.id, s."userId", s."expiresAt", s."idleExpiresAt", s."lastSeenAt", s."revokedAt",
         u."tenantId", u.role, u.status, t.kind
  FROM "Session" s
  JOIN "User" u ON u.id = s."userId"
  JOIN "Tenant" t ON t.id = u."tenantId"
  WHERE s."tokenHash" = $1`;

type SessionRow = {
  id: string;
  userId: string;
  expiresAt: Date;
  idleExpiresAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
  tenantId: string;
  role: Viewer["role"];
  status: string;
  kind: Viewer["tenantKind"];
};

async function authenticate(header: string | null): Promise<Viewer | null> {
  const token = header ? /^Bearer\s+(\S+)$/i.exec(header.trim())?.[1] : undefined;
  if (!token || token.length > 128) return null;
  const tokenHash = createHash("sha256").update(token).digest("hex");
  const now = Date.now();
  const remembered = sessions.get(tokenHash);
  if (remembered) {
    const fresh =
      now - remembered.cachedAt < SESSION_MEMORY_MS &&
      now < remembered.expiresAt &&
      now < remembered.idleExpiresAt &&
      now - remembered.lastSeenAt <= SLIDE_EVERY_MS;
    if (fresh) return remembered.viewer;
    sessions.delete(tokenHash);
  }
  const { rows } = await pool.query<SessionRow>({ name: "session", text: SESSION_SQL, values: [tokenHash] });
  const session = rows[0];
  const at = Date.now();
  if (!session || session.revokedAt) return null;
  if (session.expiresAt.getTime() <= at || session.idleExpiresAt.getTime() <= at) return null;
  if (session.status !== "ACTIVE") return null;
  let lastSeenAt = session.lastSeenAt.getTime();
  let idleExpiresAt = session.idleExpiresAt.getTime();
  if (at - lastSeenAt > SLIDE_EVERY_MS) {
    idleExpiresAt = Math.min(at + idleMinutes * 60_000, session.expiresAt.getTime());
    lastSeenAt = at;
    await pool.query({
      name: "slide",
      text: `UPDATE "Session" SET "lastSeenAt" = $2, "idleExpiresAt" = $3 WHERE id = $1`,
      values: [session.id, new Date(at), new Date(idleExpiresAt)],
    });
  }
  const viewer: Viewer = { sessionId: session.id, userId: session.userId, tenantId: session.tenantId, tenantKind: session.kind, role: session.role };
  sessions.set(tokenHash, { viewer, cachedAt: at, expiresAt: session.expiresAt.getTime(), idleExpiresAt, lastSeenAt });
  return viewer;
}

/**
 * The tenants (alias `t`) a viewer administers, as SQL with its parameters
 * numbered from 1: MSP admins their MSP and its customers, technicians the
 * customers delegated to them, customer admins their own tenant. Null: none.
 */
function administered(viewer: Viewer): { variant: string; sql: string; values: string[] } | null {
  if (viewer.tenantKind === "MSP" && viewer.role === "ADMIN") {
    return { variant: "mspAdmin", sql: `(t.id = $1 OR t."parentId" = $1)`, values: [viewer.tenantId] };
  }
  if (viewer.tenantKind === "MSP" && viewer.role === "TECHNICIAN") {
    return {
      variant: "technician",
      sql: `(t."parentId" = $1 AND EXISTS (SELECT 1 FROM "Delegation" d WHERE d."customerId" = t.id AND d."technicianId" = $2))`,
      values: [viewer.tenantId, viewer.userId],
    };
  }
  if (viewer.tenantKind === "CUSTOMER" && viewer.role === "ADMIN") {
    return { variant: "customerAdmin", sql: `t.id = $1`, values: [viewer.tenantId] };
  }
  return null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function pageSize(first: number | null | undefined, fallback: number) {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE) {
    throw new GraphQLError(`first must be between 0 and ${MAX_PAGE}`, { extensions: { code: "VALIDATION" } });
  }
  return size;
}

/** A page of `size` from rows fetched with one extra, which only tells whether there is more. */
function connection<T>(rows: T[], size: number) {
  return { edges: rows.slice(0, size).map((node) => ({ node })), pageInfo: { hasNextPage: rows.length > size } };
}

// Each statement first narrows to one page, then counts for that page only.
function customersSql(reach: string, n: number) {
  return `
    WITH page AS (
      SELECT t.id, t.slug, t."displayName" FROM "Tenant" t
      WHERE t.kind = 'CUSTOMER' AND t."parentId" = $1 AND ${reach}
      ORDER BY t."displayName", t.id
      LIMIT $${n}
    )
    SELECT p.id, p.slug, p."displayName", c."userCount", c."adminCount",
           (SELECT count(*)::int FROM "Delegation" d WHERE d."customerId" = p.id) AS "technicianCount"
    FROM page p
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS "userCount", (count(*) FILTER (WHERE u.role = 'ADMIN'))::int AS "adminCount"
      FROM "User" u WHERE u."tenantId" = p.id
    ) c
    ORDER BY p."displayName", p.id`;
}

// No row: the viewer does not administer the tenant (or it does not exist); one
// row with a null id: an empty page.
function usersSql(reach: string, n: number) {
  return `
    WITH reached AS (SELECT t.id FROM "Tenant" t WHERE t.id = $${n} AND ${reach})
    SELECT u.id, u.username, u."firstName", u."lastName", u.email, u.role, u.status, u."hasPassword", u."lockedUntil"
    FROM reached r
    LEFT JOIN LATERAL (
      SELECT u.id, u.username, u."firstName", u."lastName", u.email, u.role, u.status,
             u."opaqueRecord" IS NOT NULL AS "hasPassword",
             CASE WHEN u."lockedUntil" > now() THEN u."lockedUntil" END AS "lockedUntil"
      FROM "User" u WHERE u."tenantId" = r.id
      ORDER BY u."lastName", u."firstName", u.id
      LIMIT $${n + 1}
    ) u ON true
    ORDER BY u."lastName", u."firstName", u.id`;
}

function loginEventsSql(reach: string, n: number) {
  return `
    WITH reached AS (SELECT t.id FROM "Tenant" t WHERE t.id = $${n} AND ${reach})
    SELECT e.id, e.username, e."loginPseudonym", e."workstationId", e."workstationName", e.method, e.outcome,
           e.reason, e."accountOutcome", e."accountDetail", e.ip, e."createdAt"
    FROM reached r
    LEFT JOIN LATERAL (
      SELECT * FROM "LoginEvent" e WHERE e."tenantId" = r.id
      ORDER BY e."createdAt" DESC, e.id DESC
      LIMIT $${n + 1}
    ) e ON true
    ORDER BY e."createdAt" DESC, e.id DESC`;
}

type Context = { viewer: Viewer | null };

const schema = createSchema<Context>({
  typeDefs: /* GraphQL */ `
    scalar DateTime
    enum UserRole { ADMIN TECHNICIAN USER }
    enum UserStatus { ACTIVE DISABLED }
    enum LoginMethod { PASSWORD QR }
    enum LoginOutcome { SUCCEEDED FAILED }
    enum AccountOutcome { CREATED TAKEN_OVER REFUSED PASSWORD_REJECTED }
    type PageInfo { hasNextPage: Boolean! }
    type Tenant { id: ID! slug: String! displayName: String! userCount: Int! adminCount: Int! technicianCount: Int! }
    type TenantEdge { node: Tenant! }
    type TenantConnection { edges: [TenantEdge!]! pageInfo: PageInfo! }
    type User {
      id: ID! username: String! firstName: String! lastName: String! email: String!
      role: UserRole! status: UserStatus! hasPassword: Boolean! lockedUntil: DateTime
    }
    type UserEdge { node: User! }
    type UserConnection { edges: [UserEdge!]! pageInfo: PageInfo! }
    type LoginEvent {
      id: ID! username: String loginPseudonym: String workstationId: ID workstationName: String
      method: LoginMethod! outcome: LoginOutcome! reason: String accountOutcome: AccountOutcome
      accountDetail: String ip: String createdAt: DateTime!
    }
    type LoginEventEdge { node: LoginEvent! }
    type LoginEventConnection { edges: [LoginEventEdge!]! pageInfo: PageInfo! }
    type Query {
      customers(first: Int): TenantConnection
      users(tenantId: ID!, first: Int): UserConnection
      loginEvents(tenantId: ID!, first: Int): LoginEventConnection
    }
  `,
  resolvers: {
    // pg hands timestamps over as Dates; JSON makes them ISO strings, as the API's DateTime does.
    DateTime: new GraphQLScalarType({ name: "DateTime", serialize: (value) => value }),
    Query: {
      customers: async (_root: unknown, args: { first?: number | null }, { viewer }: Context) => {
        if (!viewer) return null;
        const size = pageSize(args.first, 20);
        const reach = viewer.tenantKind === "MSP" ? administered(viewer) : null;
        if (!reach) return connection([], size);
        const values = [...reach.values, size + 1];
        const { rows } = await pool.query({ name: `customers:${reach.variant}`, text: customersSql(reach.sql, values.length), values });
        return connection(rows, size);
      },
      users: async (_root: unknown, args: { tenantId: string; first?: number | null }, { viewer }: Context) => {
        const reach = viewer ? administered(viewer) : null;
        if (!reach || !UUID.test(args.tenantId)) return null;
        const size = pageSize(args.first, 20);
        const values = [...reach.values, args.tenantId, size + 1];
        const { rows } = await pool.query({ name: `users:${reach.variant}`, text: usersSql(reach.sql, values.length - 1), values });
        if (rows.length === 0) return null;
        return connection(rows.filter((row) => row.id !== null), size);
      },
      loginEvents: async (_root: unknown, args: { tenantId: string; first?: number | null }, { viewer }: Context) => {
        const reach = viewer ? administered(viewer) : null;
        // Like every list of a tenant out of reach: null, as for a tenant that does not exist.
        if (!reach || !UUID.test(args.tenantId)) return null;
        const size = pageSize(args.first, 20);
        const values = [...reach.values, args.tenantId, size + 1];
        const { rows } = await pool.query({ name: `loginEvents:${reach.variant}`, text: loginEventsSql(reach.sql, values.length - 1), values });
        if (rows.length === 0) return null;
        return connection(rows.filter((row) => row.id !== null), size);
      },
    },
  },
});

const yoga = createYoga<object, Context>({
  schema,
  context: async ({ request }) => ({ viewer: await authenticate(request.headers.get("authorization")) }),
  graphiql: false,
  logging: false,
});

await pool.query("SELECT 1");
const server = createServer(yoga);
server.listen(port, "127.0.0.1", () => {
  console.log(`hand-written server listening on http://127.0.0.1:${port}/graphql`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => void pool.end().finally(() => process.exit(0))));
}
