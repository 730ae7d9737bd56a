// A customer's administration end to end: its page and users, the MSP's team, delegation
// to a technician (who then sees only that customer), settings and sessions. The real API
// on an embedded database, the built portal, Debian's Chromium; nothing is mocked.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";
import { screenshotPath } from "./screenshots";

// A shared PostgreSQL (CI may set DATABASE_URL) keeps earlier runs' tenants: random suffix there.
const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = {
  slug: `bluefin${suffix}`,
  displayName: "Bluefin Managed IT",
  firstName: "Grace",
  lastName: "Okafor",
  email: "grace@bluefin.example",
  password: "correct horse battery staple 42",
};
const technician = {
  email: "tom.reyes@bluefin.example",
  firstName: "Tom",
  lastName: "Reyes",
  password: "tidal mango river lantern 77",
};

if (browserMissing) console.warn(`customer browser tests skipped: no Chromium at ${chromiumPath}`);

function statusOf(scope: Page | Locator, text: string | RegExp) {
  return scope.getByRole("status").filter({ hasText: text });
}

/** The error shown under the input labelled `label`. */
function fieldError(scope: Locator, label: string) {
  // `has` is matched inside each `.field`, so the label's locator must not start from `scope`.
  return scope.locator(".field", { has: scope.page().getByLabel(label, { exact: true }) }).locator(".field-error");
}

/** Elements that stick out past the right edge of the viewport, named by tag and class. */
function widerThanScreen(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`),
  );
}

async function signIn(page: Page, webUrl: string, tenant: string, login: string, password: string) {
  await page.goto(`${webUrl}/login`);
  await page.getByLabel("Tenant").fill(tenant);
  await page.getByLabel("Email or username").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${webUrl}/customers`);
}

describe.skipIf(browserMissing)("customer administration", () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let customerUrl = "";
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

  test("signs up an MSP, creates a customer and opens its page in one click", async () => {
    await page.goto(`${stack.webUrl}/signup`);
    await page.getByLabel("Company name").fill("Bluefin Managed IT, Inc.");
    // Suggested from the company name until typed in.
    expect(await page.getByLabel("Tenant slug").inputValue()).toBe("bluefin-managed-it-inc");
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("Company name").fill(msp.displayName);
    expect(await page.getByLabel("Tenant slug").inputValue()).toBe(msp.slug);
    await page.getByLabel("First name").fill(msp.firstName);
    await page.getByLabel("Last name").fill(msp.lastName);
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);

    await page.getByLabel("Name", { exact: true }).fill("contoso");
    await page.getByLabel("Display name").fill("Contoso Ltd");
    await page.getByRole("button", { name: "Create customer" }).click();
    await statusOf(page, `Created contoso-${msp.slug}.`).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("fabrikam");
    await page.getByLabel("Display name").fill("Fabrikam Inc.");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("row", { name: /Fabrikam Inc\./ }).waitFor();

    await page.getByRole("link", { name: "Contoso Ltd", exact: true }).click();
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    customerUrl = page.url();
    await page.getByRole("heading", { name: "Contoso Ltd", level: 1 }).waitFor();
    await page.getByText(`contoso-${msp.slug}`).waitFor();
    await page.getByText("No users yet").waitFor();
    await expectAccessible(page, "an empty customer's users tab");
    const sections = page.getByRole("navigation", { name: "Contoso Ltd sections" });
    expect(await sections.getByRole("link", { name: "Users" }).getAttribute("aria-current")).toBe("page");
  });

  test("creates a customer user with a password, with browser and API errors next to the fields", async () => {
    const form = page.getByRole("form", { name: "New user" });
    await form.getByRole("button", { name: "Add user" }).click();
    await fieldError(form, "Email").filter({ hasText: "Enter an email address" }).waitFor();
    expect(await form.getByLabel("Email", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    // Keyboard users land on the first field to fix.
    await expect.poll(() => form.getByLabel("Email", { exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);
    await expectAccessible(page, "the new-user form with its errors shown");

    await form.getByLabel("Email", { exact: true }).fill("jane.doe@contoso.example");
    // The username is suggested from the email.
    expect(await form.getByLabel("Username").inputValue()).toBe("jane.doe");
    await form.getByLabel("First name").fill("Jane");
    await form.getByLabel("Last name").fill("Doe");
    await form.getByLabel("Personal email (optional)").fill("jane@home.example");
    // Long enough for the browser, too easy to guess for the API.
    await form.getByLabel("Password (optional)").fill("aaaaaaaaaaaa");
    await form.getByRole("button", { name: "Add user" }).click();
    await fieldError(form, "Password (optional)").filter({ hasText: /guess/i }).waitFor();

    await form.getByLabel("Password (optional)").fill("maple orbit candle quartz 19");
    // The admin knows this password: by default Jane replaces it at her first sign-in.
    expect(await form.getByLabel("Ask them to choose their own password at their first sign-in").isChecked()).toBe(true);
    await form.getByRole("button", { name: "Add user" }).click();
    await statusOf(form, "Added Jane Doe (jane.doe).").waitFor();
    const jane = page.getByRole("listitem", { name: /Jane Doe/ });
    await jane.getByText("jane@home.example").waitFor();
    await jane.getByText("Must change password").waitFor();
    expect(await form.getByLabel("Email", { exact: true }).inputValue()).toBe("");

    // The same username again: the API's ConflictError lands on the username field.
    await form.getByLabel("Email", { exact: true }).fill("jane.doe@elsewhere.example");
    await form.getByLabel("First name").fill("Janet");
    await form.getByLabel("Last name").fill("Doe");
    await form.getByRole("button", { name: "Add user" }).click();
    await fieldError(form, "Username").waitFor();
    expect(await form.getByLabel("Username").getAttribute("aria-invalid")).toBe("true");
    await form.getByLabel("Username").fill("janet.doe");
    await form.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("listitem", { name: /Janet Doe/ }).waitFor();
  });

  test("edits a user, resets their password, disables, enables and deletes", async () => {
    const jane = page.getByRole("listitem", { name: /Jane Doe/ });
    await jane.getByRole("button", { name: "Edit Jane Doe" }).click();
    const edit = page.getByRole("dialog", { name: "Edit Jane Doe" });
    await edit.getByLabel("Last name").fill("Doe-Smith");
    await edit.getByLabel("Personal email (optional)").fill("");
    await expectAccessible(page, "the users tab with the edit-user dialog open");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await edit.waitFor({ state: "hidden" });
    const renamed = page.getByRole("listitem", { name: /Jane Doe-Smith/ });
    await renamed.waitFor();
    expect(await renamed.getByText("jane@home.example").count()).toBe(0);

    await renamed.getByRole("button", { name: "Reset password of Jane Doe-Smith" }).click();
    const reset = page.getByRole("dialog", { name: "New password for Jane Doe-Smith" });
    await reset.getByLabel("New password", { exact: true }).fill("violet harbor engine 4410");
    await reset.getByLabel("Repeat the new password").fill("violet harbor engine 44");
    await reset.getByRole("button", { name: "Set password" }).click();
    await reset.getByText("The two passwords differ").waitFor();
    await reset.getByLabel("Repeat the new password").fill("violet harbor engine 4410");
    await reset.getByRole("button", { name: "Set password" }).click();
    await reset.waitFor({ state: "hidden" });
    await statusOf(page, "Set a new password for Jane Doe-Smith.").waitFor();
    // Asked by default: she chooses her own at her next sign-in.
    await renamed.getByText("Must change password", { exact: true }).waitFor();

    await renamed.getByRole("button", { name: "Disable Jane Doe-Smith" }).click();
    await renamed.getByRole("button", { name: "Disable user" }).click();
    await renamed.getByText("Disabled", { exact: true }).waitFor();
    await renamed.getByRole("button", { name: "Enable Jane Doe-Smith" }).click();
    await renamed.getByText("Disabled", { exact: true }).waitFor({ state: "detached" });

    const janet = page.getByRole("listitem", { name: /Janet Doe/ });
    await janet.getByRole("button", { name: "Delete Janet Doe" }).click();
    await janet.getByRole("button", { name: "Delete user" }).click();
    await janet.waitFor({ state: "detached" });
    await statusOf(page, "Deleted Janet Doe.").waitFor();

    await page.getByLabel("Search users").fill("nobody-like-this");
    await page.getByText("No user matches “nobody-like-this”.").waitFor();
    await page.getByLabel("Search users").fill("");
    await page.getByRole("listitem", { name: /Jane Doe-Smith/ }).waitFor();
    // The figures count the users left.
    const users = page.locator(".figure").filter({ has: page.getByText("Users", { exact: true }) }).locator("dd");
    await expect.poll(() => users.textContent()).toBe("1");

    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: await screenshotPath("customer-users.png"), fullPage: true });
    await expectAccessible(page, "the customer's users tab");
  });

  test("adds a technician by email on the team page, and makes them admin and back", async () => {
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Team" }).click();
    await page.waitForURL(`${stack.webUrl}/team`);
    const form = page.getByRole("form", { name: "Add a technician" });
    await form.getByLabel("Email", { exact: true }).fill(technician.email);
    await form.getByLabel("First name").fill(technician.firstName);
    await form.getByLabel("Last name").fill(technician.lastName);
    await form.getByLabel("Password (optional)").fill(technician.password);
    // Tom chose this password with the admin: he keeps it.
    await form.getByLabel("Ask them to choose their own password at their first sign-in").uncheck();
    await form.getByRole("button", { name: "Add technician" }).click();
    const tom = page.getByRole("listitem", { name: /Tom Reyes/ });
    await tom.getByText("Technician", { exact: true }).waitFor();
    await tom.getByText("No customers delegated yet.").waitFor();
    // Their phone can be onboarded from here.
    await tom.getByRole("button", { name: "Onboard phone" }).waitFor();

    // Making an admin is asked once more; cancelling changes nothing.
    await tom.getByRole("button", { name: "Make admin: Tom Reyes" }).click();
    const promote = tom.getByRole("group", { name: "Make admin: Tom Reyes?" });
    await promote.getByText("Admins manage the team and reach every customer.").waitFor();
    await promote.getByRole("button", { name: "Cancel" }).click();
    await tom.getByText("Technician", { exact: true }).waitFor();
    await tom.getByRole("button", { name: "Make admin: Tom Reyes" }).click();
    await promote.getByRole("button", { name: "Make admin" }).click();
    await tom.getByText("Admin", { exact: true }).waitFor();
    await tom.getByRole("button", { name: "Make technician: Tom Reyes" }).click();
    await tom.getByText("Technician", { exact: true }).waitFor();
    await expectAccessible(page, "the team page");
  });

  test("delegates the customer to the technician; MSP admins have access everywhere", async () => {
    await page.goto(`${customerUrl}/settings`);
    const access = page.getByRole("region", { name: "Technician access" });
    await access.getByRole("list", { name: "MSP admins" }).getByText("Grace Okafor").waitFor();
    await access.getByRole("list", { name: "MSP admins" }).getByText("Access to every customer").waitFor();
    const tom = access.getByRole("listitem", { name: "Tom Reyes" });
    await tom.getByText("No access").waitFor();
    await tom.getByRole("button", { name: "Grant access to Tom Reyes" }).click();
    await tom.getByText(/Has access since/).waitFor();
    await statusOf(access, "Tom Reyes now has access to Contoso Ltd.").waitFor();
    await page.getByRole("definition").filter({ hasText: "1" }).first().waitFor();
    await expectAccessible(page, "the customer's settings and access");
  });

  test("a delegated technician sees only their customers", async () => {
    const techContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const techPage = await techContext.newPage();
      techPage.setDefaultTimeout(15_000);
      techPage.on("pageerror", (error) => pageErrors.push(error.message));
      await signIn(techPage, stack.webUrl, msp.slug, technician.email, technician.password);
      await techPage.getByRole("row", { name: /Contoso Ltd/ }).waitFor();
      expect(await techPage.getByRole("row", { name: /Fabrikam/ }).count()).toBe(0);
      expect(await techPage.getByRole("form", { name: "New customer" }).count()).toBe(0);

      await techPage.getByRole("link", { name: "Contoso Ltd", exact: true }).click();
      await techPage.getByRole("listitem", { name: /Jane Doe-Smith/ }).waitFor();

      // Another customer's page, by URL: the same answer as an id that does not exist.
      await page.goto(`${stack.webUrl}/customers`);
      const fabrikamHref = await page.getByRole("link", { name: "Fabrikam Inc.", exact: true }).getAttribute("href");
      await techPage.goto(`${stack.webUrl}${fabrikamHref}`);
      await techPage.getByRole("heading", { name: "Customer not found" }).waitFor();

      // Revoked: the technician's list is empty.
      await page.goto(`${customerUrl}/settings`);
      await page.getByRole("button", { name: "Revoke access of Tom Reyes" }).click();
      await page.getByRole("listitem", { name: "Tom Reyes" }).getByText("No access").waitFor();
      await techPage.goto(`${stack.webUrl}/customers`);
      // Pointed at who grants access, not at a form a technician does not have.
      await techPage.getByText("No customers delegated to you yet. An admin of your MSP grants access to customers.").waitFor();
    } finally {
      await techContext.close();
    }
  });

  test("a customer's admin lands on their own directory and manages its users", async () => {
    await page.goto(customerUrl);
    const form = page.getByRole("form", { name: "New user" });
    await form.getByLabel("Email", { exact: true }).fill("ola.berg@contoso.example");
    await form.getByLabel("First name").fill("Ola");
    await form.getByLabel("Last name").fill("Berg");
    await form.getByLabel("Role").selectOption("ADMIN");
    await form.getByLabel("Password (optional)").fill("saffron kettle meadow 3081");
    await form.getByLabel("Ask them to choose their own password at their first sign-in").uncheck();
    await form.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("listitem", { name: /Ola Berg/ }).getByText("Admin", { exact: true }).waitFor();

    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const adminPage = await adminContext.newPage();
      adminPage.setDefaultTimeout(15_000);
      adminPage.on("pageerror", (error) => pageErrors.push(error.message));
      await signIn(adminPage, stack.webUrl, `contoso-${msp.slug}`, "ola.berg", "saffron kettle meadow 3081");
      await adminPage.waitForURL(customerUrl);
      const nav = adminPage.getByRole("navigation", { name: "Portal" });
      expect(await nav.getByRole("link", { name: "Directory" }).getAttribute("aria-current")).toBe("page");
      expect(await nav.getByRole("link", { name: "Team" }).count()).toBe(0);
      await adminPage.getByRole("listitem", { name: /Jane Doe-Smith/ }).getByRole("button", { name: "Edit Jane Doe-Smith" }).waitFor();
      // Delegation is the MSP's business.
      await adminPage.getByRole("link", { name: "Settings and access" }).click();
      await adminPage.getByText("Your MSP's admins decide which of its technicians reach").waitFor();
      expect(await adminPage.getByRole("button", { name: /Grant access/ }).count()).toBe(0);
    } finally {
      await adminContext.close();
    }
  });

  test("a customer's user lands on their own page, with no admin pages to stumble into", async () => {
    const userContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const userPage = await userContext.newPage();
      userPage.setDefaultTimeout(15_000);
      userPage.on("pageerror", (error) => pageErrors.push(error.message));
      await userPage.goto(`${stack.webUrl}/login`);
      await userPage.getByLabel("Tenant").fill(`contoso-${msp.slug}`);
      await userPage.getByLabel("Email or username").fill("jane.doe");
      await userPage.getByLabel("Password").fill("violet harbor engine 4410");
      await userPage.getByRole("button", { name: "Sign in" }).click();
      // Her admin reset her password above: she chooses her own before anything else.
      await userPage.waitForURL(`${stack.webUrl}/sessions`);
      const notice = userPage.getByRole("alert").filter({ hasText: "Your admin set your password" });
      await notice.waitFor();
      const form = userPage.getByRole("form", { name: "Change your password" });
      await form.getByLabel("Current password").fill("violet harbor engine 4410");
      await form.getByLabel("New password", { exact: true }).fill("amber Lantern-quarry 6612");
      await form.getByLabel("Repeat the new password").fill("amber Lantern-quarry 6612");
      await form.getByRole("button", { name: "Change password" }).click();
      await notice.waitFor({ state: "detached" });
      await userPage.goto(`${stack.webUrl}/`);
      await userPage.waitForURL(`${stack.webUrl}/account`);
      await userPage.getByRole("heading", { name: "Your account", level: 1 }).waitFor();
      const profile = userPage.getByRole("region", { name: "Profile" });
      await profile.getByText("Jane Doe-Smith").waitFor();
      await profile.getByText("jane.doe", { exact: true }).waitFor();
      await userPage.getByRole("region", { name: "Your phones" }).getByText("No phone is linked yet.", { exact: false }).waitFor();
      await userPage.getByRole("region", { name: "Password" }).getByText(/You have a directory password, set /).waitFor();
      const nav = userPage.getByRole("navigation", { name: "Portal" });
      expect(await nav.getByRole("link").allTextContents()).toEqual(["Your account", "Sessions"]);
      await expectAccessible(userPage, "a customer user's own page");
      await userPage.screenshot({ path: await screenshotPath("own-account.png"), fullPage: true });

      // The directory's address, typed: a plain answer, never an API error.
      await userPage.goto(customerUrl);
      await userPage.getByText("Only your organisation's admins manage its directory.").waitFor();
      expect(await userPage.getByText(/GraphQL|not found/i).count()).toBe(0);
    } finally {
      await userContext.close();
    }
  });

  test("emails a user an invitation to link their phone", async () => {
    await page.goto(customerUrl);
    const jane = page.getByRole("listitem", { name: /Jane Doe-Smith/ });
    await jane.getByRole("button", { name: "Invite: Jane Doe-Smith" }).click();
    await statusOf(page, "Emailed Jane Doe-Smith an invitation to link their phone.").waitFor();
    await expect
      .poll(async () => (await stack.outbox()).some((mail) => mail.includes("To: jane.doe@contoso.example") && /invitation code: [0-9A-Z]{4}-/.test(mail)))
      .toBe(true);
  });

  test("saves the customer's directory settings, user source included", async () => {
    await page.goto(`${customerUrl}/settings`);
    const settings = page.getByRole("form", { name: "Directory settings" });
    expect(await settings.getByLabel("User source").inputValue()).toBe("LOCAL");
    await settings.getByLabel("Display name").fill("");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await fieldError(settings, "Display name").filter({ hasText: "Enter a display name" }).waitFor();
    await settings.getByLabel("Display name").fill("Contoso Limited");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await statusOf(settings, "Settings saved.").waitFor();
    await page.getByRole("heading", { name: "Contoso Limited", level: 1 }).waitFor();
    await expectAccessible(page, "the customer's settings, saved");

    // How long the audit log is kept: a year unless changed, within the API's bounds.
    const retention = settings.getByLabel("Keep audit events for (days)");
    expect(await retention.inputValue()).toBe("365");
    await retention.fill("7");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await fieldError(settings, "Keep audit events for (days)").filter({ hasText: "from 30 to 3650" }).waitFor();
    await retention.fill("400");
    // A customer opts in to asking for the phone after every password; an MSP has it on from sign-up.
    const requiresPhone = settings.getByLabel("Sign-in requires phone");
    expect(await requiresPhone.isChecked()).toBe(false);
    await requiresPhone.check();
    await settings.getByRole("button", { name: "Save settings" }).click();
    await statusOf(settings, "Settings saved.").waitFor();
    await page.reload();
    const saved = page.getByRole("form", { name: "Directory settings" });
    expect(await saved.getByLabel("Keep audit events for (days)").inputValue()).toBe("400");
    expect(await saved.getByLabel("Sign-in requires phone").isChecked()).toBe(true);
    await saved.getByLabel("Sign-in requires phone").uncheck();
    await saved.getByRole("button", { name: "Save settings" }).click();
    await statusOf(saved, "Settings saved.").waitFor();
  });

  test("shows a customer's audit log, filters it, and exports exactly what is filtered", async () => {
    await page.goto(customerUrl);
    await page.getByRole("navigation", { name: "Contoso Limited sections" }).getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(`${customerUrl}/audit`);
    const events = page.getByRole("region", { name: "Audit events" });
    await events.getByRole("row", { name: /user\.created/ }).first().waitFor();
    await events.getByRole("row", { name: /tenant\.settingsUpdated|tenant\.updated/ }).first().waitFor();
    await page.getByText(/^Tamper check: the \d+ events of this log are hash-chained and intact\.$/).waitFor();
    await expectAccessible(page, "a customer's audit log");

    const filters = page.getByRole("form", { name: "Filter the audit log" });
    await filters.getByLabel("Action").fill("user.created");
    await filters.getByRole("button", { name: "Filter" }).click();
    const filtered = async () => {
      const rows = (await events.getByRole("row").allTextContents()).slice(1);
      return rows.length > 0 && rows.every((row) => row.includes("user.created"));
    };
    await expect.poll(filtered).toBe(true);
    const shown = (await events.getByRole("row").count()) - 1;
    await statusOf(page, shown === 1 ? "1 event" : `${shown} events`).waitFor();
    await page.screenshot({ path: await screenshotPath("audit-log.png") });

    // The export link carries the filter and the session cookie; it holds the same events.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    const csv = await readFile((await download.path())!, "utf8");
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^createdAt,tenant,action,/);
    expect(lines).toHaveLength(shown + 1);
    expect(lines.slice(1).every((line) => line.split(",")[2] === "user.created")).toBe(true);
  });

  test("shows the MSP-wide audit log with each event's tenant, the export included", async () => {
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(`${stack.webUrl}/audit`);
    const events = page.getByRole("region", { name: "Audit events" });
    // The MSP's own events and its customers', the export just made among them.
    await events.getByRole("row", { name: /Bluefin Managed IT.*customer\.created/ }).first().waitFor();
    await events.getByRole("row", { name: /Contoso Limited.*audit\.exported/ }).first().waitFor();
    await expectAccessible(page, "the MSP-wide audit log");
  });

  test("suspends, resumes and deletes a customer from its settings", async () => {
    await page.goto(`${stack.webUrl}/customers`);
    await page.getByRole("link", { name: "Fabrikam Inc.", exact: true }).click();
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    const fabrikamUrl = page.url();
    await page.getByRole("navigation", { name: "Fabrikam Inc. sections" }).getByRole("link", { name: "Settings and access" }).click();
    await page.waitForURL(`${fabrikamUrl}/settings`);
    const lifecycle = page.getByRole("region", { name: "Suspend or delete" });

    await lifecycle.getByRole("button", { name: "Suspend Fabrikam Inc." }).click();
    await lifecycle.getByRole("button", { name: "Suspend", exact: true }).click();
    await statusOf(lifecycle, "Fabrikam Inc. is suspended.").waitFor();
    await page.getByRole("heading", { level: 1 }).getByText("Suspended").waitFor();
    await expectAccessible(page, "a suspended customer's settings");
    await page.goto(`${stack.webUrl}/customers`);
    await page.getByRole("row", { name: /Fabrikam Inc\./ }).getByText("Suspended").waitFor();
    await page.goto(`${fabrikamUrl}/settings`);
    await lifecycle.getByRole("button", { name: "Resume customer" }).click();
    await statusOf(lifecycle, "Fabrikam Inc. is active again: its users can sign in.").waitFor();
    await lifecycle.getByRole("button", { name: "Suspend Fabrikam Inc." }).waitFor();

    const remove = page.getByRole("form", { name: "Delete Fabrikam Inc." });
    const slug = `fabrikam-${msp.slug}`;
    await remove.getByLabel(`Type ${slug} to confirm`).fill("fabrikam");
    await remove.getByRole("button", { name: "Delete customer" }).click();
    await fieldError(remove, `Type ${slug} to confirm`).filter({ hasText: `Type ${slug} to delete this customer` }).waitFor();
    await remove.getByLabel(`Type ${slug} to confirm`).fill(slug);
    await remove.getByRole("button", { name: "Delete customer" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);
    await page.getByRole("row", { name: /Contoso Limited/ }).waitFor();
    expect(await page.getByRole("row", { name: /Fabrikam/ }).count()).toBe(0);
    await page.goto(fabrikamUrl);
    await page.getByRole("heading", { name: "Customer not found" }).waitFor();
  });

  test("lists sessions and signs out the others", async () => {
    // A second session of the same admin, elsewhere.
    const other = await browser.newContext();
    try {
      const otherPage = await other.newPage();
      otherPage.setDefaultTimeout(15_000);
      await signIn(otherPage, stack.webUrl, msp.slug, msp.email, msp.password);

      await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Sessions" }).click();
      await page.waitForURL(`${stack.webUrl}/sessions`);
      const list = page.getByRole("list", { name: "Your sessions" });
      await list.getByRole("listitem", { name: /this session/ }).waitFor();
      await expect.poll(() => list.getByRole("listitem").count()).toBe(2);
      await expectAccessible(page, "the sessions page");

      await page.getByRole("button", { name: "Sign out other sessions" }).click();
      await page.getByRole("button", { name: "Sign them out" }).click();
      await statusOf(page, "Signed out 1 other session.").waitFor();
      await expect.poll(() => list.getByRole("listitem").count()).toBe(1);
      await page.getByText("This is your only session.").waitFor();
      // The MSP's own settings: one navigation away, reached by no other test.
      await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Settings" }).click();
      await page.waitForURL(`${stack.webUrl}/settings`);
      await page.getByRole("button", { name: /save/i }).waitFor();
      await expectAccessible(page, "the MSP's settings");

      // The other browser is signed out.
      await otherPage.goto(`${stack.webUrl}/customers`);
      await otherPage.waitForURL(`${stack.webUrl}/login`);
    } finally {
      await other.close();
    }
  });

  test("fits a phone's screen on the customer page", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      await page.goto(customerUrl);
      await page.getByRole("listitem", { name: /Jane Doe-Smith/ }).waitFor();
      expect(await widerThanScreen(page)).toEqual([]);
      await expectAccessible(page, "the customer's users tab, on a phone");
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  test("talks to no host but the portal and the API, without uncaught errors", () => {
    const allowed = new Set([new URL(stack.webUrl).origin, new URL(stack.apiUrl).origin]);
    const elsewhere = requestedUrls.filter((url) => !url.startsWith("data:") && !allowed.has(new URL(url).origin));
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
