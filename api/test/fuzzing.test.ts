// Fuzzing the API: every query and mutation of the schema as it is when the
// test runs, called with hostile values for every argument (huge, empty, RTL,
// zero-width, emoji, NUL, out-of-range numbers, wrong types, malformed ids and
// the victim tenant's real ones) by each of tenant A's callers and by nobody,
// for a bounded time. It fails on a 5xx, on an error the API did not expect
// (masked as "Unexpected error."), on internal text in an answer, on one of the
// victim's ids in an answer to a request that did not name it, and on any
// change to a row of the victim, MSP B, outside the public sign-in flows
// anyone may start against any tenant.
//
// FUZZ_SEED reproduces a run's values (ids drawn from the database and timing
// between concurrent requests aside); FUZZ_SECONDS sets how long it fuzzes
// (default: what keeps the whole test within about 90 s).
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { buildSchema, isEnumType, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEFAULT_COST_BUDGETS } from "../src/limits.ts";
import { Api } from "./harness.ts";
import { type Answer, LEAK_PATTERNS, Tally, problemsOf } from "./fuzzing/answers.ts";
import { InputGenerator, type IdPool, type Operation, mentions, operationsOf } from "./fuzzing/operations.ts";
import { TenantRows, changesBetween, type Row, type RowChange } from "./fuzzing/tenant-rows.ts";
import { FilePart, HOSTILE_EMAILS, HOSTILE_STRINGS, HOSTILE_URLS, Random, hostileFiles, seedFrom } from "./fuzzing/values.ts";
import { type Caller, type World, world } from "./fuzzing/world.ts";

/** When this test file's process started (vitest gives each file its own): loading the modules counts too. */
const startedAt = Date.now() - Math.round(process.uptime() * 1000);
const SEED = seedFrom(process.env.FUZZ_SEED);
/** The whole test, setup included, stays within this unless FUZZ_SECONDS asks for more. */
const TEST_SECONDS = 90;
/** Kept for what follows the fuzzing: waiting for jobs, the last snapshot, the report. */
const FINISH_SECONDS = 12;
const CONCURRENCY = 4;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Rate limits raised far above what a run spends, so that the run reaches the
 * resolvers behind them; a limit not named here keeps its default, and its
 * refusals show as RATE_LIMITED in the counts (so do the sign-in admission
 * budgets, which no setting changes).
 */
const GENEROUS_LIMITS = Object.fromEntries(
  [
    ...[
      "signUp",
      "signUpRegistrationPerIp",
      "challengeStartPerIp",
      "emailCodePerAddress",
      "emailCodePerIp",
      "emailVerifyPerIp",
      "decisionPerDevice",
      "decisionPerUser",
      "enrollPerIp",
      "challengeStartPerWorkstation",
      "desktopAttemptPerWorkstation",
    ].map((name) => [name, { points: 1_000_000, durationSeconds: 60 }]),
    ...Object.keys(DEFAULT_COST_BUDGETS).map((name) => [name, { points: 100_000_000, durationSeconds: 3600 }]),
  ] as [string, unknown][],
);

/** Fields not called, by whom, and why. Everything else is called by every caller. */
const EXCLUDED: { field: string; skip: (caller: Caller) => boolean; why: string }[] = [
  {
    field: "revokeCurrentSession",
    skip: (caller) => caller.session,
    why: "ends the session the caller signs in with (fuzzed as the API key, workstation, phone and signed out)",
  },
  { field: "logOut", skip: (caller) => caller.session, why: "the deprecated revokeCurrentSession: same reason" },
];
const SUBSCRIPTIONS_SKIPPED =
  "subscriptions run over WebSocket and stay open: this HTTP fuzzer does not open them (their arguments are checked by isolation.test.ts and the subscription tests)";

/**
 * Changes to the victim's rows that anyone may cause, signed in or not: they are
 * what a stranger typing the victim's slug or addresses on a sign-in page or a
 * phone causes, by design. Each is allowed only in the shape described.
 */
const PUBLIC_FLOW_CHANGES: { why: string; allows: (change: RowChange, after: Map<string, Row>) => boolean }[] = [
  {
    why: "anyone may have a code emailed to any address (a phone proving its address), and try codes for it",
    allows: (change) =>
      change.table === "EmailVerification" && (change.kind === "added" || (change.kind === "changed" && change.columns!.every((column) => column === "attempts"))),
  },
  {
    why: "anyone may start a password sign-in on any tenant's page: its state is kept a minute, then dropped",
    allows: (change) => change.table === "PasswordLogin" && change.kind !== "changed",
  },
  {
    why: "anyone may show a sign-in QR code on any tenant's page",
    allows: (change) => change.table === "Challenge" && change.kind === "added" && fields(change).kind === "PORTAL_LOGIN" && fields(change).status === "PENDING",
  },
  {
    why: "enough failed sign-ins from unknown clients lock an account for unknown clients (its admins see it and may unlock it)",
    allows: (change) => change.table === "User" && change.kind === "changed" && change.columns!.every((column) => column === "lockedAt" || column === "lockedUntil"),
  },
  {
    why: "a sign-in started and never finished is a failed one, in that tenant's audit log, by nobody (as is the lock that follows enough of them)",
    allows: (change) => change.table === "AuditEvent" && change.kind === "added" && anonymousSignInFailure(fields(change)),
  },
  {
    why: "the audit log's hash chain takes in those failures",
    allows: (change, after) => {
      if (change.table !== "AuditChainLink" || change.kind !== "added") return false;
      const event = after.get(`AuditEvent:${String(fields(change).eventId)}`);
      return Boolean(event && anonymousSignInFailure(JSON.parse(event.json) as Record<string, unknown>));
    },
  },
];

function countBy(items: string[]) {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

function fields(change: RowChange): Record<string, unknown> {
  return JSON.parse(change.after ?? change.before ?? "{}") as Record<string, unknown>;
}

function anonymousSignInFailure(event: Record<string, unknown>) {
  return (event.action === "session.logInFailed" || event.action === "user.locked") && event.actorId === null;
}

let api: Api;
let w: World;
let receiver: Server;
let schema: GraphQLSchema;

beforeAll(async () => {
  // Webhooks of both tenants point here; every name resolves to this one loopback address, allowed as a target.
  receiver = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.77", resolve));
  const port = (receiver.address() as { port: number }).port;
  api = await Api.start(
    {
      RATE_LIMIT_OVERRIDES: JSON.stringify(GENEROUS_LIMITS),
      WEBHOOK_ALLOWED_TARGET_RANGES: "127.0.0.77/32",
      // The victim's seeded sign-in challenge must not expire (and change) during the run.
      CHALLENGE_TTL_SECONDS: "600",
    },
    { webhookResolver: async () => [{ address: "127.0.0.77", family: 4 }] },
  );
  // The schema as it is now: every field in it is fuzzed, whatever was added since this was written.
  schema = buildSchema(readFileSync(fileURLToPath(new URL("../../schema/schema.graphql", import.meta.url)), "utf8"));
  const permissions = schema.getType("ApiKeyPermission");
  w = await world(api, `https://hooks.fuzz.test:${port}/hook`, isEnumType(permissions) ? permissions.getValues().map((value) => value.name) : []);
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

type Finding = { caller: string; field: string; problems: string[]; document: string; variables: unknown; status: number; answer: string; log?: string[] };

/** What the API logged above debug level while answering one request: for an unexpected error, where it was thrown. */
function loggedFor(requestId: string | null): string[] {
  if (!requestId) return [];
  return api.logs.filter((line) => line.includes(requestId) && !/"level":(10|20|30)\b/.test(line)).map((line) => line.slice(0, 3000));
}

/** Long values cut short in a report: a 100 000-character string says no more than its first 60. */
function abridged(value: unknown): unknown {
  if (value instanceof FilePart) return value.toJSON();
  if (typeof value === "string") return value.length > 120 ? `${value.slice(0, 60)}…(${value.length} chars)` : value;
  if (Array.isArray(value)) return value.length > 10 ? [...value.slice(0, 5).map(abridged), `…(${value.length} items)`] : value.map(abridged);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, abridged(v)]));
  return value;
}

/**
 * JSON, or a GraphQL multipart request when the variables hold files: each
 * file's place is null in `operations`, and `map` says where its part goes.
 */
function requestBody(query: string, variables: Record<string, unknown>): { body: string | FormData; headers: Record<string, string> } {
  const files: FilePart[] = [];
  const map: Record<string, string[]> = {};
  const withoutFiles = (value: unknown, path: string): unknown => {
    if (value instanceof FilePart) {
      map[String(files.length)] = [path];
      files.push(value);
      return null;
    }
    if (Array.isArray(value)) return value.map((item, i) => withoutFiles(item, `${path}.${i}`));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutFiles(inner, `${path}.${key}`)]));
    return value;
  };
  const json = withoutFiles(variables, "variables");
  if (files.length === 0) return { body: JSON.stringify({ query, variables }), headers: { "content-type": "application/json" } };
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: json }));
  form.append("map", JSON.stringify(map));
  files.forEach((file, i) => form.append(String(i), new File([new Uint8Array(file.bytes)], file.name, { type: file.type })));
  // Yoga's CSRF prevention asks a multipart request for a header no HTML form can send.
  return { body: form, headers: { "x-graphql-yoga-csrf": "1" } };
}

/** Requests sent again because the connection closed under them (see send). */
let resent = 0;

async function send(caller: Caller, operation: Operation, variables: Record<string, unknown>, attempt = 1): Promise<Answer> {
  const token = await caller.credential();
  try {
    const { body: payload, headers } = requestBody(operation.document, variables);
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      body: payload,
      headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: Answer["body"] = null;
    try {
      body = JSON.parse(text) as Answer["body"];
    } catch {
      body = null;
    }
    return { status: response.status, requestId: response.headers.get("x-request-id"), body, text };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    // A kept-alive connection the server closed as the request went out: sent once more. Twice is a finding.
    if (attempt === 1 && (cause?.code === "ECONNRESET" || cause?.code === "UND_ERR_SOCKET" || /other side closed/.test(cause?.message ?? ""))) {
      resent += 1;
      return send(caller, operation, variables, 2);
    }
    // No answer at all (a hang past the timeout, a dropped connection) is a finding too.
    return { status: 599, requestId: null, body: null, text: `no answer: ${String(error)} (${cause?.code ?? ""} ${cause?.message ?? ""})` };
  }
}

/** Runs `work` over `items`, `CONCURRENCY` at a time, starting none after `deadline`. */
async function inParallel<T>(items: T[], deadline: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < deadline) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return next;
}

it("answers hostile values with typed refusals, leaks nothing, and never writes to another tenant", async () => {
  const operations = operationsOf(schema);
  const subscriptions = Object.keys(schema.getSubscriptionType()?.getFields() ?? {});
  for (const text of [...HOSTILE_STRINGS, ...HOSTILE_EMAILS, ...HOSTILE_URLS]) {
    // A hostile value echoed in a validation message must not read as a leak.
    expect(LEAK_PATTERNS.filter((pattern) => pattern.test(text)), text).toEqual([]);
  }

  const rng = new Random(SEED);
  const victim = await TenantRows.of(api.db, w.victim);
  const own = await TenantRows.of(api.db, { ...w.own, exclude: w.protectedIds });
  // The seed's own background work (mail, audit chaining) settles before the baseline.
  await api.app.jobs.enqueue("audit.chain", {});
  await api.jobsSettled();
  await victim.follow();
  const baseline = await victim.snapshot();
  const ids: IdPool = { victim: await victim.idsByKind(), own: await own.idsByKind() };
  const victimIds = [...new Set([...victim.ids, ...[...ids.victim.values()].flat()])].sort();
  // The checks themselves: the baseline holds a row of every kind of thing seeded for the victim, and a victim id in an answer is caught.
  const seededKinds = ["Tenant", "User", "Session", "Delegation", "Workstation", "InstallToken", "ApiKey", "Webhook", "Authenticator", "Challenge", "AuditEvent", "BrandingImage"];
  expect(seededKinds.filter((table) => ![...baseline.values()].some((row) => row.table === table))).toEqual([]);
  const leak = JSON.stringify({ data: { user: { id: w.b.user.id } } });
  expect(problemsOf({ status: 200, requestId: null, body: JSON.parse(leak) as Answer["body"], text: leak }, () => false, victimIds)).toHaveLength(1);
  const inputs = new InputGenerator(rng, ids, w.plausible, Date.now(), hostileFiles());

  const explicit = process.env.FUZZ_SECONDS !== undefined;
  const setupSeconds = (Date.now() - startedAt) / 1000;
  const budget = explicit ? Number(process.env.FUZZ_SECONDS) : Math.max(5, Math.min(60, TEST_SECONDS - setupSeconds - FINISH_SECONDS));
  const deadline = Date.now() + budget * 1000;

  const findings: Finding[] = [];
  const tally = new Tally();
  const lostCallers: string[] = [];
  let rounds = 0;
  let completeRounds = 0;
  let rowsChecked = 0;
  let snapshots = 0;
  /** Time between rounds: the callers' checks, the victim's snapshot, the caller's new ids. */
  let bookkeepingMs = 0;
  /** Every victim change seen, allowed or not, by key: reported once. */
  const changes = new Map<string, RowChange & { round: number; why?: string }>();
  /** The requests of each round, to name the candidates when a victim's row changes. */
  let roundLog: { caller: string; field: string; variables: unknown }[] = [];

  const compare = async (after: Map<string, Row>) => {
    snapshots += 1;
    rowsChecked += after.size;
    for (const change of changesBetween(baseline, after)) {
      const key = `${change.kind}:${change.key}:${change.after ?? ""}`;
      if (changes.has(key)) continue;
      const allowed = PUBLIC_FLOW_CHANGES.find((rule) => rule.allows(change, after));
      changes.set(key, { ...change, round: rounds, why: allowed?.why });
      if (!allowed) {
        // The requests whose variables name the row's key or any longer value in it (an id, an address).
        const values = [change.key.split(":")[1]!.split("/")[0]!, ...Object.values(JSON.parse(change.after ?? change.before ?? "{}") as Record<string, unknown>)]
          .filter((value): value is string => typeof value === "string" && value.length >= 8);
        const candidates = roundLog.filter((entry) => values.some((value) => mentions(entry.variables, value))).slice(0, 10);
        findings.push({
          caller: "(any, this round)",
          field: `a victim row ${change.kind}: ${change.key}${change.columns ? ` (${change.columns.join(", ")})` : ""}`,
          problems: [`cross-tenant write in round ${rounds}`, `requests of this round naming it: ${JSON.stringify(candidates.map((c) => ({ ...c, variables: abridged(c.variables) })))}`],
          document: "",
          variables: null,
          status: 0,
          answer: JSON.stringify({ before: change.before, after: change.after }),
        });
      }
    }
  };

  while (Date.now() < deadline) {
    rounds += 1;
    roundLog = [];
    // Caller by caller, the admin first: a run cut short has still called every field once.
    const order = rng.shuffle(operations);
    const batch = w.callers.flatMap((caller) =>
      order
        .filter((operation) => !EXCLUDED.some((rule) => rule.field === operation.field && rule.skip(caller)))
        .filter(() => rounds === 1 || rng.chance(caller.weight))
        .map((operation) => ({ operation, caller, variables: inputs.variables(operation) })),
    );
    const started = await inParallel(batch, deadline, async ({ operation, caller, variables }) => {
      const sentAt = Date.now();
      const answer = await send(caller, operation, variables);
      tally.record(operation.field, answer, Date.now() - sentAt);
      roundLog.push({ caller: caller.name, field: operation.field, variables });
      const problems = problemsOf(answer, (id) => mentions(variables, id), victimIds);
      if (problems.length) {
        findings.push({ caller: caller.name, field: operation.field, problems, document: operation.document, variables: abridged(variables), status: answer.status, answer: answer.text.slice(0, 1500), log: loggedFor(answer.requestId) });
      }
    });
    if (started === batch.length) completeRounds += 1;
    const between = Date.now();

    // Each caller still signed in: otherwise the rest of the run would fuzz nothing but UNAUTHENTICATED.
    for (const caller of w.callers) {
      if (!caller.alive || lostCallers.includes(caller.name)) continue;
      const token = await caller.credential();
      const { body } = await api.request(caller.alive.query, caller.alive.variables, { token });
      if (!JSON.stringify(body.data ?? null).includes(caller.alive.expected)) {
        lostCallers.push(caller.name);
        findings.push({ caller: caller.name, field: "(its credential)", problems: [`stopped working in round ${rounds}: an exclusion is missing`], document: caller.alive.query, variables: null, status: 0, answer: JSON.stringify(body).slice(0, 500) });
      }
    }
    await compare(await victim.snapshot());
    // Objects the callers made this round become ids to act on in the next.
    await own.follow();
    ids.own = await own.idsByKind();
    bookkeepingMs += Date.now() - between;
  }

  // Work the requests left behind (mail, webhooks, audit chaining) has done what it will before the last look.
  await api.jobsSettled(20_000).catch(() => undefined);
  await compare(await victim.snapshot());

  const fields = operations.map((operation) => operation.field);
  const lines = [
    `fuzzing: seed ${SEED} (FUZZ_SEED=${SEED} repeats it), ${budget.toFixed(0)} s of ${explicit ? "FUZZ_SECONDS" : "the test's budget"}, after ${setupSeconds.toFixed(1)} s of setup`,
    `requests: ${tally.requests} in ${rounds} rounds (${completeRounds} complete; ${(bookkeepingMs / 1000).toFixed(1)} s between them) by ${w.callers.length} callers: ${w.callers.map((c) => c.name).join(", ")}; ${resent} sent again after the connection closed under them`,
    ...tally.lines(fields),
    `rows checked: ${rowsChecked} victim rows hashed over ${snapshots} snapshots (${baseline.size} at the baseline, ${victimIds.length} victim ids)`,
    `victim row changes: ${[...changes.values()].filter((c) => !c.why).length} unexplained, ${[...changes.values()].filter((c) => c.why).length} by public sign-in flows`,
    ...[...countBy([...changes.values()].filter((c) => c.why).map((c) => `${c.kind} ${c.table}: ${c.why}`))].map(([what, count]) => `  ${count} × ${what}`),
    `excluded: ${EXCLUDED.map((rule) => `${rule.field} (${rule.why})`).join("; ")}`,
    `subscriptions skipped (${subscriptions.length}): ${SUBSCRIPTIONS_SKIPPED}`,
    `findings: ${findings.length}`,
  ];
  console.log(lines.join("\n"));
  for (const finding of findings.slice(0, 40)) console.log(JSON.stringify(finding, null, 2));

  expect(findings.map((f) => `${f.caller} → ${f.field}: ${f.problems[0]}`)).toEqual([]);
  // The check itself: a write to one of the victim's rows, made here, is seen.
  await api.db.webhook.update({ where: { id: w.b.hook.webhook.id }, data: { description: "written by the test" } });
  expect(changesBetween(baseline, await victim.snapshot()).filter((change) => change.table === "Webhook")).toMatchObject([{ kind: "changed", columns: ["description", "updatedAt"] }]);
  // With two full rounds behind it, every field has been sent enough well-typed variables to reach its resolver.
  if (completeRounds >= 2) expect(tally.neverReached(fields)).toEqual([]);
}, (Math.max(TEST_SECONDS, Number(process.env.FUZZ_SECONDS ?? 0) + 60) + 120) * 1000);
