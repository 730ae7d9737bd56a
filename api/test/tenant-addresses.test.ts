// Tenants at their own addresses: a page at `<slug>.<BASE_DOMAIN>` (with the
// portal's scheme and port) may use the API from the browser, over HTTP (CORS)
// and WebSocket, by the one origin rule; a name that is no tenant's, another
// domain that merely starts alike, or another scheme or port may not. Node
// cannot resolve these names, so requests go to 127.0.0.1 with the Origin a
// browser would send.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { RawSocket } from "./raw-socket.ts";
import { seed, type MspSeed } from "./seed.ts";

let api: Api;
let msp: MspSeed;
let customerSlug: string;
beforeAll(async () => {
  api = await Api.start({ WEB_ORIGIN: "https://portal.test", BASE_DOMAIN: "portal.test" });
  msp = await seed(api).msp();
  customerSlug = (await msp.customer()).slug;
});
afterAll(() => api?.stop());

/** Whether the API answers a request from `origin` with CORS headers that let the page read it. */
async function corsAllows(origin: string) {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { origin, "content-type": "application/json", "x-graphql-yoga-csrf": "1" },
    body: JSON.stringify({ query: "{ __typename }" }),
  });
  const allowed = response.headers.get("access-control-allow-origin");
  return allowed === origin && response.headers.get("access-control-allow-credentials") === "true";
}

/** Tenants created after the API started are admitted within its refresh; a generous bound, no timing asserted. */
async function eventually(check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a tenant's own address", () => {
  it("is an allowed origin for the MSP and its customer, over HTTP and WebSocket", async () => {
    for (const slug of [msp.slug, customerSlug]) {
      const origin = `https://${slug}.portal.test`;
      await eventually(() => corsAllows(origin), `CORS for ${origin}`);
      const opened = await RawSocket.open(api.url, { headers: { origin } });
      expect(opened.status, origin).toBeUndefined();
      await opened.socket!.close();
    }
    // The portal's own origin, as before.
    expect(await corsAllows("https://portal.test")).toBe(true);
  });

  it("is not an origin for a name that is no tenant's, another domain, scheme or port", async () => {
    await eventually(() => corsAllows(`https://${msp.slug}.portal.test`), "the MSP's address");
    const refused = [
      "https://nosuchtenant.portal.test",
      `https://${msp.slug}.portal.test.evil.test`,
      `https://evil.${msp.slug}.portal.test`,
      `http://${msp.slug}.portal.test`,
      `https://${msp.slug}.portal.test:8443`,
      `https://${msp.slug}portal.test`,
    ];
    // Asked twice: a miss is looked up in the background, and must still be refused after it.
    for (let round = 0; round < 2; round += 1) {
      for (const origin of refused) {
        expect(await corsAllows(origin), origin).toBe(false);
        expect((await RawSocket.open(api.url, { headers: { origin } })).status, origin).toBe(403);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
