// What one answer says, and what would make it a finding: a 5xx, an error the
// API did not expect (yoga's masked "Unexpected error."), internal text (stack
// frames, Prisma, PostgreSQL or JavaScript error messages), or one of the
// victim's ids that the request did not name.

/** Text that only an unhandled exception or a driver puts in front of a client. */
export const LEAK_PATTERNS: readonly RegExp[] = [
  /Unexpected error\./,
  /Invalid `prisma/i,
  /PrismaClient/,
  /\bprisma\./i,
  /\bP[1-5]\d{3}\b/,
  /\b(TypeError|ReferenceError|RangeError|SyntaxError|EvalError|AggregateError)\b/,
  /Cannot read propert/,
  /Cannot destructure/,
  /is not a function/,
  /is not iterable/,
  /undefined is not/,
  /Maximum call stack/,
  /\bat [\w.<>]+ \(/,
  /\n\s+at /,
  /\bat \//,
  /\bat file:/,
  /node:internal/,
  /node_modules/,
  /\bE(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|ADDRINUSE)\b/,
  /duplicate key value/,
  /violates .* constraint/,
  /invalid input syntax for/,
  /invalid byte sequence/,
  /out of range for type/,
  /value too long for type/,
  /(relation|column) "[^"]*" does not exist/,
  /syntax error at or near/,
  /unterminated quoted/,
  /\bpglite\b/i,
  /\bioredis\b/i,
];

export type Answer = {
  status: number;
  /** The request id the API logged it under (x-request-id). */
  requestId: string | null;
  /** Parsed body; null when it was not JSON. */
  body: { data?: Record<string, unknown> | null; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] } | null;
  text: string;
};

/** How an answer is counted: its GraphQL error code, its result union's code, OK, or null. */
export function codeOf(answer: Answer, field: string): string {
  if (answer.status === 429) return "RATE_LIMITED";
  if (!answer.body) return `HTTP_${answer.status}`;
  const error = answer.body.errors?.[0];
  if (error) {
    if (typeof error.extensions?.code === "string") return error.extensions.code;
    // GraphQL's own refusals of a variable carry no code; anything else without one is named by its words.
    const message = String(error.message);
    if (/^Variable "\$\w+" (got invalid value|of non-null type|of required type)/.test(message)) return "(no code: variable refused by GraphQL)";
    // What follows a colon is usually the value refused ("Invalid cursor: …"): counted as one.
    return `(no code) ${message.split(":")[0]!.slice(0, 70)}`;
  }
  const result = answer.body.data?.[field];
  if (result === null || result === undefined) return "NULL";
  if (typeof result === "object" && !Array.isArray(result) && typeof (result as { code?: unknown }).code === "string") {
    return (result as { code: string }).code;
  }
  return "OK";
}

/** Every `message` in the data: the typed errors' words for people. */
function messagesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) messagesIn(item, out);
  else if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "message" && typeof inner === "string") out.push(inner);
      else messagesIn(inner, out);
    }
  }
  return out;
}

/**
 * Answer fields that may carry another tenant's id by design, and why: they are
 * left out of the search for the victim's ids.
 */
export const PUBLIC_ID_FIELDS: Record<string, string> = {
  clientIdentity:
    "a password sign-in's first step names the account by its id (OPAQUE's client identity) to whoever types its login on a sign-in page; an unknown login gets a stable stand-in, so this tells nobody whether the account exists",
};

function withoutPublicIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPublicIds);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).filter(([key]) => !(key in PUBLIC_ID_FIELDS)).map(([key, inner]) => [key, withoutPublicIds(inner)]));
  return value;
}

/** Why this answer is a finding, or an empty list. */
export function problemsOf(answer: Answer, echoed: (id: string) => boolean, victimIds: readonly string[]): string[] {
  const problems: string[] = [];
  if (answer.status === 599) problems.push(answer.text);
  else if (answer.status >= 500) problems.push(`HTTP ${answer.status}`);
  if (!answer.body) {
    if (answer.status < 500 && answer.status !== 413 && answer.status !== 429) problems.push(`a ${answer.status} answer that is not JSON`);
    if (answer.status !== 599 && LEAK_PATTERNS.some((pattern) => pattern.test(answer.text))) problems.push("internal text in a non-JSON answer");
    return problems;
  }
  for (const error of answer.body.errors ?? []) {
    if (error.extensions?.code === "INTERNAL_SERVER_ERROR" || error.extensions?.unexpected) problems.push(`an unexpected error (masked): ${JSON.stringify(error)}`);
  }
  const said = [JSON.stringify(answer.body.errors ?? []), ...messagesIn(answer.body.data)].join("\n");
  for (const pattern of LEAK_PATTERNS) if (pattern.test(said)) problems.push(`internal text (${pattern}) in: ${said.slice(0, 400)}`);
  const lower = JSON.stringify(withoutPublicIds(answer.body)).toLowerCase();
  for (const id of victimIds) if (lower.includes(id) && !echoed(id)) problems.push(`the victim's id ${id} in an answer to a request that did not name it`);
  return problems;
}

/** What a run's answers came to: counts by code, which fields ran, which answered a payload, how long each took. */
export class Tally {
  readonly codes = new Map<string, number>();
  private readonly byField = new Map<string, Map<string, number>>();
  private readonly reached = new Set<string>();
  private readonly succeeded = new Set<string>();
  private readonly spent = new Map<string, { ms: number; count: number }>();
  requests = 0;

  record(field: string, answer: Answer, ms: number) {
    this.requests += 1;
    const code = codeOf(answer, field);
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    const answered = this.byField.get(field) ?? new Map<string, number>();
    this.byField.set(field, answered.set(code, (answered.get(code) ?? 0) + 1));
    const time = this.spent.get(field) ?? { ms: 0, count: 0 };
    this.spent.set(field, { ms: time.ms + ms, count: time.count + 1 });
    // Reached: the field ran (its result, or an error at its path), rather than the request being refused whole.
    const body = answer.body;
    if ((body?.data && field in body.data) || body?.errors?.some((error) => (error as { path?: unknown[] }).path?.[0] === field)) this.reached.add(field);
    if (code === "OK") this.succeeded.add(field);
  }

  neverReached(fields: string[]) {
    return fields.filter((field) => !this.reached.has(field));
  }

  /** The report's lines on coverage, speed and codes. */
  lines(fields: string[]): string[] {
    const mean = [...this.spent.entries()].map(([field, t]) => [field, Math.round(t.ms / t.count)] as const).sort((x, y) => y[1] - x[1]);
    return [
      `operations covered: ${fields.length - this.neverReached(fields).length} of ${fields.length} root fields reached their resolvers; ${this.succeeded.size} answered a payload at least once`,
      `  never a payload (no request got past their checks): ${fields.filter((field) => !this.succeeded.has(field)).join(", ")}`,
      ...this.neverReached(fields).map((field) => `  never reached: ${field}, answered ${JSON.stringify(Object.fromEntries(this.byField.get(field) ?? []))}`),
      `slowest operations (mean ms): ${mean.slice(0, 8).map(([field, ms]) => `${field} ${ms}`).join(", ")}`,
      `answers by code:`,
      ...[...this.codes.entries()].sort((x, y) => y[1] - x[1]).map(([code, count]) => `  ${code.padEnd(40)} ${count}`),
    ];
  }
}
