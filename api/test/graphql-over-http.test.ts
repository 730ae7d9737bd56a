// The GraphQL over HTTP specification, checked by its own audit suite
// (graphql-http) against the real server, and the answers the suite does not
// cover: refused operations, and CORS for the portal's origin and no other.
import { auditServer } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { seed } from "./seed.ts";

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(() => api?.stop());

describe("GraphQL over HTTP audit", () => {
  it("passes every MUST and SHOULD of graphql-http's server audits", async () => {
    const results = await auditServer({ url: `${api.url}/graphql` });
    const required = results.filter((result) => /^(MUST|SHOULD) /.test(result.name));
    expect(required.length).toBeGreaterThan(20);
    const failures = required
      .filter((result) => result.status !== "ok")
      .map((result) => ({ name: result.name, reason: "reason" in result ? result.reason : undefined }));
    expect(failures).toEqual([]);
  });
});

describe("refused operations", () => {
  async function post(query: string, accept: string, token?: string) {
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  }

  const nested = (levels: number) => {
    let selection = "id";
    for (let i = 0; i < levels; i += 1) selection = `parent { ${selection} }`;
    return `{ viewer { tenant { ${selection} } } }`;
  };
  const refusals: [string, string, RegExp][] = [
    ["DEPTH_LIMIT_EXCEEDED", nested(15), /depth/i],
    ["ALIAS_LIMIT_EXCEEDED", `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { user { id } }`).join(" ")} }`, /alias/i],
    ["DIRECTIVE_LIMIT_EXCEEDED", `{ __typename ${"@include(if: true) ".repeat(30)}}`, /directive/i],
    // Three nested pages of 100: a million rows asked for in one operation.
    ["COST_LIMIT_EXCEEDED", `{ customers(first: 100) { edges { node { customers(first: 100) { edges { node { users(first: 100) { edges { node { id } } } } } } } } } }`, /costs 2,030,301, over the limit of 10,000/],
    ["TOKEN_LIMIT_EXCEEDED", `{ ${"__typename ".repeat(2100)}}`, /token/i],
  ];

  it.each(refusals)("answers %s with 400 and its code under application/graphql-response+json", async (code, query, message) => {
    const msp = await seed(api).msp();
    const { status, type, body } = await post(query, "application/graphql-response+json", msp.token);
    expect(type).toMatch(/^application\/graphql-response\+json/);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    const refusal = body.errors?.find((error) => error.extensions?.code === code);
    expect(refusal, JSON.stringify(body.errors)).toBeDefined();
    expect(refusal!.message).toMatch(message);
    expect(refusal!.message).not.toMatch(/Syntax Error/);
    // Transport hints stay on the server.
    expect(refusal!.extensions).toEqual({ code });
  });

  it("keeps the code for clients that accept only application/json", async () => {
    const { body } = await post(nested(15), "application/json");
    expect(body.data).toBeUndefined();
    expect(body.errors).toMatchObject([{ extensions: { code: "DEPTH_LIMIT_EXCEEDED" } }]);
  });
});

describe("CORS", () => {
  const query = JSON.stringify({ query: "{ __typename }" });

  it("admits the portal's origin, credentials included, and says the answer varies by origin", async () => {
    const preflight = await fetch(`${api.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin: "http://portal.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://portal.test");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    const response = await fetch(`${api.url}/graphql`, { method: "POST", headers: { origin: "http://portal.test", "content-type": "application/json" }, body: query });
    expect(response.headers.get("access-control-allow-origin")).toBe("http://portal.test");
    expect(response.headers.get("vary")).toMatch(/origin/i);
  });

  it("gives any other origin no CORS headers at all", async () => {
    for (const origin of ["http://evil.test", "null"]) {
      const preflight = await fetch(`${api.url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
      expect(preflight.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(preflight.headers.get("access-control-allow-credentials"), origin).toBeNull();
      const response = await fetch(`${api.url}/graphql`, { method: "POST", headers: { origin, "content-type": "application/json" }, body: query });
      expect(response.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });
});
