// Tenants at their own address: each tenant's portal answers at `<slug>.localhost`,
// its sign-in page knows the tenant, the API is served same-origin by the portal's
// front server (HTTP and WebSocket), and the session cookie belongs to that host
// alone. The real API on an embedded database, the built portal behind its front
// server, Debian's Chromium; nothing is mocked.
import { randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";

const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = {
  slug: `harbor${suffix}`,
  email: "ines@harbor.example",
  password: "copper lantern orchard 5512",
};

if (browserMissing) console.warn(`tenant address browser tests skipped: no Chromium at ${chromiumPath}`);

describe.skipIf(browserMissing)("a tenant's own address", () => {
  let stack: Stack;
  let browser: Browser;
  let port = "";
  const at = (slug: string | null, path: string) => `http://${slug ? `${slug}.` : ""}localhost:${port}${path}`;
  const requested: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ sameOrigin: true });
    port = new URL(stack.webUrl).port;
    // Chromium sends *.localhost to loopback by itself; the rule says so explicitly.
    browser = await launchBrowser(["--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1"]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("request", (request) => requested.push(request.url()));
    page.on("pageerror", (error) => pageErrors.push(error.message));
    return page;
  }

  async function signIn(page: Page, login: string, password: string) {
    await page.getByLabel("Email or username").fill(login);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  test("signs up on the bare domain, with the API answering on the portal's own origin", async () => {
    const page = await newPage();
    await page.goto(at(null, "/signup"));
    await page.getByLabel("Company name").fill("Harbor IT");
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill("Ines");
    await page.getByLabel("Last name").fill("Moreau");
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(at(null, "/customers"));
    await page.getByLabel("Name", { exact: true }).fill("lagoon");
    await page.getByLabel("Display name").fill("Lagoon Dental");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("row", { name: /Lagoon Dental/ }).waitFor();
    await page.context().close();
  });

  test("an MSP's address knows its tenant, and its session stays on that host", async () => {
    const page = await newPage();
    await page.goto(at(msp.slug, "/login"));
    const tenant = page.getByLabel("Tenant");
    await expect.poll(() => tenant.inputValue()).toBe(msp.slug);
    expect(await tenant.getAttribute("readonly")).not.toBeNull();
    await page.getByText(`This is ${msp.slug}'s sign-in page.`).waitFor();
    await expectAccessible(page, "a tenant's own sign-in page");

    await signIn(page, msp.email, msp.password);
    await page.waitForURL(at(msp.slug, "/customers"));
    // Live views subscribe over the same origin's WebSocket.
    await page.getByRole("row", { name: /Lagoon Dental/ }).waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.filter((cookie) => cookie.domain.endsWith("localhost")).map((cookie) => cookie.domain)).toEqual(
      cookies.filter((cookie) => cookie.domain.endsWith("localhost")).map(() => `${msp.slug}.localhost`),
    );

    // The bare domain and a customer's address hold no session of it.
    await page.goto(at(null, "/customers"));
    await page.waitForURL(at(null, "/login"));
    await page.goto(at(`lagoon-${msp.slug}`, "/customers"));
    await page.waitForURL(at(`lagoon-${msp.slug}`, "/login"));
    await expect.poll(() => page.getByLabel("Tenant").inputValue()).toBe(`lagoon-${msp.slug}`);

    // The customer's page sends MSP staff to its own address's phone sign-in: they have no password there.
    await page.goto(at(msp.slug, "/customers"));
    await page.getByRole("link", { name: "Lagoon Dental", exact: true }).click();
    const own = page.getByRole("link", { name: "Open at its own address" });
    expect(await own.getAttribute("href")).toBe(at(`lagoon-${msp.slug}`, "/login/phone"));
    const [opened] = await Promise.all([page.context().waitForEvent("page"), own.click()]);
    await opened.getByRole("button", { name: "Show QR code" }).waitFor();
    await expect.poll(() => opened.getByLabel("Tenant").inputValue()).toBe(`lagoon-${msp.slug}`);
    await page.context().close();
  });

  test("the bare domain remembers the last tenant signed in to", async () => {
    const page = await newPage();
    await page.goto(at(null, "/login"));
    expect(await page.getByLabel("Tenant").inputValue()).toBe("");
    await page.getByLabel("Tenant").fill(msp.slug);
    await signIn(page, msp.email, msp.password);
    await page.waitForURL(at(null, "/customers"));
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(at(null, "/login"));
    await expect.poll(() => page.getByLabel("Tenant").inputValue()).toBe(msp.slug);
    expect(await page.getByLabel("Tenant").getAttribute("readonly")).toBeNull();
    await page.context().close();
  });

  test("talks to no host but the tenant's own, without uncaught errors", () => {
    const elsewhere = requested.filter((url) => !url.startsWith("data:") && !new URL(url).hostname.endsWith("localhost"));
    expect(elsewhere).toEqual([]);
    // Nothing went to the API's own port: every call was same-origin.
    expect(requested.filter((url) => new URL(url).port === new URL(stack.apiUrl).port)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
