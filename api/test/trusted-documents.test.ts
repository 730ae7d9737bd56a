// A portal session runs only the operations the portal was built with (its
// manifest, by SHA-256), however its token is sent; API keys and bearer
// sessions keep sending their own.
import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, setCookieLine } from "./harness.ts";
import { passwordLogIn } from "./password-login.ts";
import { PASSWORD, seed } from "./seed.ts";

const REGISTERED = "query PortalViewer { viewer { user { id email } } }";
const CUSTOMERS = "query PortalCustomers { customers(first: 5) { totalCount } }";
const hashOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const persisted = (text: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(text) } } });

let api: Api;
let manifestPath: string;
let cookie: string;
let bearer: string;
let mspId: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "latchkey-manifest-"));
  manifestPath = join(dir, "persisted-documents.json");
  await writeFile(manifestPath, JSON.stringify({ [hashOf(REGISTERED)]: REGISTERED, [hashOf(CUSTOMERS)]: CUSTOMERS }));
  api = await Api.start({ PORTAL_DOCUMENTS: "registered", PORTAL_DOCUMENT_MANIFESTS: manifestPath });
  const msp = await seed(api).msp();
  mspId = msp.id;
  const { response } = await passwordLogIn(api, { tenant: msp.slug, login: msp.adminEmail, password: PASSWORD, tokenDelivery: "COOKIE" });
  cookie = setCookieLine(response).split(";")[0]!;
  bearer = await seed(api).logIn(msp.slug, msp.adminEmail, PASSWORD);
});
afterAll(() => api?.stop());

/** A POST as the portal sends it: the session cookie, and either a hash or a document. */
async function post(body: Record<string, unknown>, headers: Record<string, string>) {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe("the portal's registered operations", () => {
  it("runs a registered operation sent by its hash", async () => {
    const body = await post(persisted(REGISTERED), { cookie });
    expect(body.errors).toBeUndefined();
    expect(body.data!.viewer.user.email).toMatch(/@/);
  });

  it("refuses a portal session's own document, and runs none of it", async () => {
    const before = await api.db.tenant.count({ where: { parentId: mspId } });
    const create = `mutation { createCustomer(input: { name: "Injected", slug: "injected-${Date.now()}" }) { __typename } }`;
    for (const query of [create, REGISTERED]) {
      const body = await post({ query }, { cookie });
      expect(body.data ?? null).toBeNull();
      expect(body.errors![0]!.extensions?.code).toBe("PERSISTED_QUERY_ONLY");
      expect(body.errors![0]!.message).toMatch(/registered operations/);
    }
    expect(await api.db.tenant.count({ where: { parentId: mspId } })).toBe(before);
  });

  it("refuses a hash nobody registered", async () => {
    const body = await post(persisted("query Other { viewer { tenant { id } } }"), { cookie });
    expect(body.errors![0]!.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });

  it("leaves API keys and bearer sessions free to send their own documents", async () => {
    const created = await api.gql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { apiKey } } }`,
      { input: { tenantId: mspId, name: "PSA sync", permissions: ["READ_DIRECTORY"] } },
      { token: bearer },
    );
    const apiKey = created.createApiKey.apiKey as string;
    for (const token of [apiKey, bearer]) {
      const body = await post({ query: "query Mine { customers(first: 1) { totalCount } }" }, { authorization: `Bearer ${token}` });
      expect(body.errors).toBeUndefined();
      expect(body.data!.customers.totalCount).toBeGreaterThanOrEqual(0);
    }
  });

  it("holds the portal's session to them when its token is taken out of the cookie and sent as a bearer token", async () => {
    const token = decodeURIComponent(cookie.slice(cookie.indexOf("=") + 1));
    const before = await api.db.tenant.count({ where: { parentId: mspId } });
    const create = `mutation { createCustomer(input: { name: "Lifted", slug: "lifted-${Date.now()}" }) { __typename } }`;
    const body = await post({ query: create }, { authorization: `Bearer ${token}` });
    expect(body.data ?? null).toBeNull();
    expect(body.errors![0]!.extensions?.code).toBe("PERSISTED_QUERY_ONLY");
    expect(await api.db.tenant.count({ where: { parentId: mspId } })).toBe(before);
    // The registered operations still run with it, and over a WebSocket its own text is refused too.
    expect((await post(persisted(REGISTERED), { authorization: `Bearer ${token}` })).data!.viewer.user.email).toMatch(/@/);
    const client = api.ws(token);
    const own = await new Promise<readonly { extensions?: { code?: string } }[] | undefined>((resolve) => {
      let errors: readonly { extensions?: { code?: string } }[] | undefined;
      client.subscribe({ query: CUSTOMERS }, { next: (value) => (errors = value.errors as never), error: (error) => resolve(error as never), complete: () => resolve(errors) });
    });
    expect(own![0]!.extensions?.code).toBe("PERSISTED_QUERY_ONLY");
    await client.dispose();
  });

  it("holds a portal session's WebSocket to the same rule", async () => {
    const client = api.ws(undefined, { cookie, origin: "http://portal.test" });
    const run = (payload: { query: string; extensions?: Record<string, unknown> }) =>
      new Promise<{ data?: any; errors?: readonly { extensions?: { code?: string } }[] }>((resolve) => {
        let result: { data?: any; errors?: readonly { extensions?: { code?: string } }[] } = {};
        client.subscribe(payload, {
          next: (value) => (result = value as typeof result),
          error: (errors) => resolve({ errors: errors as never }),
          complete: () => resolve(result),
        });
      });
    const registered = await run({ query: "", ...persisted(CUSTOMERS) });
    expect(registered.errors).toBeUndefined();
    expect(registered.data.customers.totalCount).toBeGreaterThanOrEqual(0);
    const own = await run({ query: CUSTOMERS });
    expect(own.errors![0]!.extensions?.code).toBe("PERSISTED_QUERY_ONLY");
  });

  it("will not start held to a manifest that is not there", async () => {
    await expect(Api.start({ PORTAL_DOCUMENTS: "registered", PORTAL_DOCUMENT_MANIFESTS: join(tmpdir(), "no-such-manifest.json") })).rejects.toThrow(
      /PORTAL_DOCUMENTS=registered, but no manifest was found/,
    );
  });
});
