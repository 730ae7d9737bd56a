// The portal end to end: real API on an embedded database, production build of the
// portal, Debian's Chromium. Nothing is mocked.
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";
import { screenshotPath } from "./screenshots";

// The embedded database is new for every run; a shared PostgreSQL (CI may set DATABASE_URL)
// keeps earlier runs' tenants, so there the MSP slug gets a random suffix.
const msp = {
  slug: process.env.DATABASE_URL ? `northpoint-${randomBytes(3).toString("hex")}` : "northpoint",
  displayName: "Northpoint IT",
  firstName: "Ada",
  lastName: "Brooks",
  email: "ada@northpoint.example",
  password: "correct horse battery staple 42",
};

if (browserMissing) console.warn(`portal browser tests skipped: no Chromium at ${chromiumPath}`);

describe.skipIf(browserMissing)("portal", () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requestedUrls: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("request", (request) => requestedUrls.push(request.url()));
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("sends a signed-out visitor from / to /login", async () => {
    await page.goto(`${stack.webUrl}/`);
    await page.waitForURL(`${stack.webUrl}/login`);
    await expect(page.getByRole("heading", { name: "Sign in to Latchkey" }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, "the log-in page");
  });

  test("signs up an MSP, showing client and API validation next to the fields", async () => {
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(`${stack.webUrl}/signup`);

    // Caught in the browser: nothing is sent.
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Enter your company's name").waitFor();
    expect(await page.getByLabel("Tenant slug").getAttribute("aria-invalid")).toBe("true");
    await expectAccessible(page, "the sign-up page with its errors shown");

    await page.getByLabel("Company name").fill(msp.displayName);
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill(msp.firstName);
    await page.getByLabel("Last name").fill(msp.lastName);
    await page.getByLabel("Email").fill(msp.email);
    // Long enough for the browser, too easy to guess for the API: a ValidationError on `password`.
    await page.getByLabel("Password").fill("aaaaaaaaaaaa");
    await page.getByRole("button", { name: "Create account" }).click();
    const passwordError = page.locator(".field", { has: page.getByLabel("Password") }).locator(".field-error");
    await passwordError.waitFor();
    expect(await passwordError.textContent()).toMatch(/guess/i);
    expect(page.url()).toBe(`${stack.webUrl}/signup`);

    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);
    await page.getByRole("heading", { name: "Customers", exact: true }).waitFor();
    await page.getByText("No customers yet").waitFor();
  });

  test("keeps the session in an HttpOnly cookie, never in web storage", async () => {
    const cookies = await context.cookies(`${stack.apiUrl}/graphql`);
    expect(cookies.length).toBeGreaterThan(0);
    expect(cookies.every((cookie) => cookie.httpOnly)).toBe(true);
    const stored = await page.evaluate(() => ({
      local: Object.keys(window.localStorage),
      session: Object.keys(window.sessionStorage),
    }));
    expect(stored).toEqual({ local: [], session: [] });
  });

  test("creates customers named <name>-<msp slug> and lists them", async () => {
    const preview = page.locator("output.slug-preview");
    await page.getByLabel("Name", { exact: true }).fill("Contoso");
    // Typed in capitals, folded to the rule, previewed as the subdomain.
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("contoso");
    expect(await preview.textContent()).toBe(`contoso-${msp.slug}`);
    await page.getByLabel("Display name").fill("Contoso Ltd");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("status").filter({ hasText: `Created contoso-${msp.slug}.` }).waitFor();

    const row = page.getByRole("row", { name: /Contoso Ltd/ });
    await row.waitFor();
    await row.getByText(`contoso-${msp.slug}`, { exact: true }).waitFor();

    for (const [name, displayName] of [
      ["fabrikam", "Fabrikam Inc."],
      ["northwind", "Northwind Traders"],
    ]) {
      await page.getByLabel("Name", { exact: true }).fill(name!);
      await page.getByLabel("Display name").fill(displayName!);
      await page.getByRole("button", { name: "Create customer" }).click();
      await page.getByRole("row", { name: new RegExp(displayName!.replace(".", "\\.")) }).waitFor();
    }

    await page.getByLabel("Search").fill("fabri");
    await page.getByRole("row", { name: /Contoso Ltd/ }).waitFor({ state: "detached" });
    await page.getByRole("row", { name: /Fabrikam Inc\./ }).waitFor();
    await page.getByLabel("Search").fill("");
    await page.getByRole("row", { name: /Contoso Ltd/ }).waitFor();

    // No hover or focus ring in the screenshot the README shows.
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: await screenshotPath("customers.png"), fullPage: true });
    await expectAccessible(page, "the customers dashboard");
  });

  test("shows the API's ConflictError for a taken name next to the name field", async () => {
    await page.getByLabel("Name", { exact: true }).fill("contoso");
    await page.getByLabel("Display name").fill("Contoso again");
    await page.getByRole("button", { name: "Create customer" }).click();
    const nameError = page
      .locator(".field", { has: page.getByLabel("Name", { exact: true }) })
      .locator(".field-error");
    await nameError.waitFor({ timeout: 10_000 });
    expect(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator(".form-problem").count()).toBe(0);
  });

  test("signs out, is kept out of /customers, and signs back in", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${stack.webUrl}/login`);

    await page.goto(`${stack.webUrl}/customers`);
    await page.waitForURL(`${stack.webUrl}/login`);

    await page.getByLabel("Tenant").fill(msp.slug);
    await page.getByLabel("Email or username").fill(msp.email);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    const problem = page.locator(".form-problem");
    await problem.waitFor();
    expect(await problem.getAttribute("role")).toBe("alert");
    await expectAccessible(page, "the log-in page with a wrong password");
    expect(page.url()).toBe(`${stack.webUrl}/login`);

    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);
    await page.getByRole("row", { name: /Contoso Ltd/ }).waitFor();
    await page.getByText(`contoso-${msp.slug}`).waitFor();
  });

  test("talks to no host but the portal and the API, without uncaught errors", () => {
    const allowed = new Set([new URL(stack.webUrl).origin, new URL(stack.apiUrl).origin]);
    const elsewhere = requestedUrls.filter((url) => !url.startsWith("data:") && !allowed.has(new URL(url).origin));
    expect(elsewhere).toEqual([]);
    expect(requestedUrls.some((url) => url.startsWith(`${stack.apiUrl}/graphql`))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
