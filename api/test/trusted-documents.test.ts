// A portal session runs only the operations the portal was built with (its
// manifest, by SHA-256), however its token is sent; API keys and bearer
// sessions keep sending their own. During an upgrade the API holds an old and a
// new build's manifests, and says which build a refused request came from.
import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationsManifest } from "../../schema/src/operations-manifest.ts";
import { loadTrustedDocuments } from "../src/trusted-documents.ts";
import { Api, ManualClock, setCookieLine } from "./harness.ts";
import { passwordLogIn } from "./password-login.ts";
import { PASSWORD, seed } from "./seed.ts";

const REGISTERED = "query PortalViewer { viewer { user { id email } } }";
const CUSTOMERS = "query PortalCustomers { customers(first: 5) { totalCount } }";
/** An operation only the newer portal build has. */
const NEWER = "query PortalTenant { viewer { tenant { id slug } } }";
const hashOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const persisted = (text: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(text) } } });

let api: Api;
let manifestDir: string;
let newerVersion: string;
let cookie: string;
let bearer: string;
let mspId: string;

beforeAll(async () => {
  manifestDir = await mkdtemp(join(tmpdir(), "latchkey-manifest-"));
  // The build being replaced wrote a bare map (codegen's persisted-documents.json); the new one a versioned manifest.
  const older = join(manifestDir, "persisted-documents.json");
  await writeFile(older, JSON.stringify({ [hashOf(REGISTERED)]: REGISTERED, [hashOf(CUSTOMERS)]: CUSTOMERS }));
  const newer = operationsManifest({ [hashOf(REGISTERED)]: REGISTERED, [hashOf(NEWER)]: NEWER });
  newerVersion = newer.version;
  await writeFile(join(manifestDir, "operations-manifest.json"), JSON.stringify(newer));
  api = await Api.start({ PORTAL_DOCUMENTS: "registered", PORTAL_DOCUMENT_MANIFESTS: `${older},${join(manifestDir, "operations-manifest.json")}` });
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

  it("holds an old build's bare map and a new build's versioned manifest at once, and names each build's version at start", async () => {
    for (const text of [REGISTERED, CUSTOMERS, NEWER]) {
      const body = await post(persisted(text), { cookie });
      expect(body.errors, text).toBeUndefined();
    }
    const started = api.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === "portal operations");
    expect(started?.registeredOnly).toBe(true);
    const olderVersion = operationsManifest({ [hashOf(REGISTERED)]: REGISTERED, [hashOf(CUSTOMERS)]: CUSTOMERS }).version;
    expect(started?.manifests).toBe(
      `${join(manifestDir, "persisted-documents.json")} (version ${olderVersion}, 2 operations); ${join(manifestDir, "operations-manifest.json")} (version ${newerVersion}, 2 operations)`,
    );
  });

  it("tells a portal of a build it was not given to reload, and logs that build once", async () => {
    const stale = "00c0ffee00c0ffee";
    const unknown = persisted("query Gone { viewer { user { email } } }");
    const asked = { ...unknown, extensions: { ...unknown.extensions, portalOperations: stale } };
    for (let i = 0; i < 3; i += 1) {
      const body = await post(asked, { cookie });
      expect(body.data ?? null).toBeNull();
      expect(body.errors![0]!.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
      expect(body.errors![0]!.message).toContain(`This portal (operations ${stale}) is not the build this API was given; reload the page`);
    }
    // A build it holds asking for a hash it lacks is refused the plain way; a claim that is not a version is not repeated.
    for (const build of [newerVersion, "<script>"]) {
      const body = await post({ ...unknown, extensions: { ...unknown.extensions, portalOperations: build } }, { cookie });
      expect(body.errors![0]!.message).toBe("This operation is not one of the portal's registered operations");
    }
    const warnings = api.logs.filter((line) => line.includes("a portal build this API was not given"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ portalOperations: stale, loaded: expect.stringContaining(newerVersion) });
  });

  it("logs at most 20 builds it was not given an hour, so made-up versions can neither fill the log nor silence it", () => {
    const lines: { message: string; data?: Record<string, unknown> }[] = [];
    const collect = (message: string, data?: Record<string, unknown>) => void lines.push({ message, data });
    const log = { debug: collect, info: collect, warn: collect, error: collect };
    const clock = new ManualClock();
    const trusted = loadTrustedDocuments({ mode: "registered", manifests: [join(manifestDir, "operations-manifest.json")] }, async () => false, log, clock);
    const claim = (build: string) => trusted.notRegistered({ portalOperations: build });
    for (let i = 0; i < 50; i += 1) claim(i.toString(16).padStart(16, "0"));
    const logged = () => lines.filter((line) => line.message.startsWith("a portal build this API was not given")).map((line) => line.data?.portalOperations);
    expect(logged()).toHaveLength(20);
    const real = "feedfacefeedface";
    claim(real);
    expect(logged()).not.toContain(real);
    // The next hour the real one is told, after a line counting what the last hour left out.
    clock.advance(3600_000);
    claim(real);
    expect(lines.at(-2)).toMatchObject({ data: { notLogged: 31 } });
    expect(logged().at(-1)).toBe(real);
  });

  it("names a configured manifest it did not find, and will not start on one it cannot read", async () => {
    const absent = join(manifestDir, "old-build", "operations-manifest.json");
    const server = await Api.start({ PORTAL_DOCUMENTS: "registered", PORTAL_DOCUMENT_MANIFESTS: `${absent},${join(manifestDir, "operations-manifest.json")}` });
    try {
      expect(server.logs.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
        expect.objectContaining({ msg: "no portal operations manifest at a configured path", path: absent }),
      );
    } finally {
      await server.stop();
    }
    await expect(Api.start({ PORTAL_DOCUMENT_MANIFESTS: manifestDir })).rejects.toThrow(/The portal operations manifest .* cannot be read: EISDIR/);
  });

  it("will not start on a manifest edited by hand: a document under another text's hash, or a version that is not its documents'", async () => {
    const edited = operationsManifest({ [hashOf(REGISTERED)]: REGISTERED });
    const cases: [string, unknown, RegExp][] = [
      ["swapped.json", { [hashOf(REGISTERED)]: CUSTOMERS }, /the document under sha256:[0-9a-f]{64} does not have that hash/],
      ["version.json", { ...edited, version: "0000000000000000" }, /its version "0000000000000000" is not its documents'/],
      ["format.json", { ...edited, format: "other/2" }, /format "other\/2" is not latchkey-portal-operations\/1/],
    ];
    for (const [name, content, reason] of cases) {
      const path = join(manifestDir, name);
      await writeFile(path, JSON.stringify(content));
      await expect(Api.start({ PORTAL_DOCUMENT_MANIFESTS: path }), name).rejects.toThrow(reason);
    }
  });

  it("will not start held to a manifest that is not there", async () => {
    await expect(Api.start({ PORTAL_DOCUMENTS: "registered", PORTAL_DOCUMENT_MANIFESTS: join(tmpdir(), "no-such-manifest.json") })).rejects.toThrow(
      /PORTAL_DOCUMENTS=registered, but no manifest was found/,
    );
  });
});
