// What reaches the log when clients get things wrong: expected errors at debug
// level with their code, never the operation's text nor a secret written into
// it; nothing printed to the console behind pino's back.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { Api, ManualClock, subscribe } from "./harness.ts";
import { RawSocket } from "./raw-socket.ts";
import { seed } from "./seed.ts";

let api: Api;
const clock = new ManualClock();
beforeAll(async () => {
  api = await Api.start({ LOG_LEVEL: "debug" }, { clock });
});
afterAll(() => api?.stop());

let consoleError: MockInstance;
let consoleWarn: MockInstance;
beforeEach(() => {
  consoleError = vi.spyOn(console, "error");
  consoleWarn = vi.spyOn(console, "warn");
});
afterEach(() => {
  vi.restoreAllMocks();
});

type Line = { level: number; msg: string; code?: string; path?: string; [key: string]: unknown };
const lines = (): Line[] => api.logs.map((line) => JSON.parse(line) as Line);
const secret = () => `lkw_${randomBytes(24).toString("base64url")}`;

describe("logs of refused operations", () => {
  it("logs expected errors at debug, with their code and without the operation or a secret written into it", async () => {
    const [msp, other] = [await seed(api).msp(), await seed(api).msp()];
    const secrets = [secret(), secret(), secret()];
    const queries = [
      `subscription { challengeUpdated(id: "${randomUUID()}", watchToken: "${secrets[0]}") { id status } }`,
      `{ installTokens(tenantId: "${other.id}") { id } } # ${secrets[1]}`,
      `{ desktopConfig { __typename } } # ${secrets[2]}`,
    ];
    const from = api.logs.length;

    const watcher = subscribe(api.ws(), queries[0]!, {});
    await watcher.waitForCompletion();
    expect(watcher.failure ?? watcher.events).toMatchObject([{ extensions: { code: "NOT_FOUND" } }]);
    const notFound = await api.request(queries[1]!, {}, { token: msp.token });
    expect(notFound.body.errors).toMatchObject([{ extensions: { code: "NOT_FOUND" } }]);
    const unauthenticated = await api.request(queries[2]!);
    expect(unauthenticated.body.errors).toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);

    const logged = lines().slice(from);
    const expected = logged.filter((line) => line.msg === "expected error");
    expect(expected.map((line) => line.code).sort()).toEqual(["NOT_FOUND", "NOT_FOUND", "UNAUTHENTICATED"]);
    expect(expected.every((line) => line.level === 20)).toBe(true);
    expect(logged.filter((line) => line.level >= 40)).toEqual([]);
    const text = api.logs.slice(from).join("\n");
    for (const value of [...secrets, ...queries, "watchToken:", "installTokens(", "{ desktopConfig"]) expect(text).not.toContain(value);
    expect(consoleError).not.toHaveBeenCalled();
    expect(consoleWarn).not.toHaveBeenCalled();
  });

  it("logs an unexpected error at error level, with where it happened and without the operation or its variables", async () => {
    const msp = await seed(api).msp();
    const inline = secret();
    const variable = secret();
    const from = api.logs.length;
    // A clock set 7,000 years back asks the database for sessions newer than a
    // time before any it can store, which fails in a way no resolver expects.
    const query = `query($also: String) { viewer { sessions(first: 1) { totalCount } } customers(search: "a${inline}") { totalCount } again: customers(search: $also) { totalCount } }`;
    const YEARS_BACK = 7_000 * 365 * 24 * 3600_000;
    clock.advance(-YEARS_BACK);
    const { body } = await api.request(query, { also: `b${variable}` }, { token: msp.token }).finally(() => clock.advance(YEARS_BACK));
    const logged = lines().slice(from);
    const text = api.logs.slice(from).join("\n");
    for (const value of [inline, variable, "customers(search", query]) expect(text).not.toContain(value);
    // Masked for the client, logged in full for the operator: what failed and where.
    expect((body.errors ?? []).map((error) => error.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(JSON.stringify(body.errors)).not.toContain(inline);
    const unexpected = logged.filter((line) => line.msg === "unexpected error");
    expect(unexpected.length).toBeGreaterThan(0);
    expect(unexpected.every((line) => line.level === 50 && typeof line.error === "string" && typeof line.stack === "string")).toBe(true);
    expect(unexpected.map((line) => line.path)).toContain("viewer.sessions.totalCount");
    expect(consoleError).not.toHaveBeenCalled();
  });

  it("keeps protocol errors on a WebSocket out of the console", async () => {
    const msp = await seed(api).msp();
    const from = api.logs.length;
    const oversized = await RawSocket.connect(api.url, { authorization: `Bearer ${msp.token}` });
    oversized.subscribe("big", `subscription { auditEventAdded(tenantId: "${msp.id}") { action } }`, { padding: "x".repeat(200_000) });
    await oversized.until(() => oversized.closeCode !== null, "the close");
    expect(oversized.closeCode).toBe(1009);

    const malformed = await RawSocket.connect(api.url, { authorization: `Bearer ${msp.token}` });
    malformed.socket.send("{ this is not json");
    await malformed.until(() => malformed.closeCode !== null, "the close");
    expect(malformed.closeCode).toBe(4400);

    expect(consoleError).not.toHaveBeenCalled();
    expect(consoleWarn).not.toHaveBeenCalled();
    expect(lines().slice(from).filter((line) => line.level >= 50)).toEqual([]);
  });
});
