// Desktop login from the portal end to end: settings, branding and its preview, install
// tokens, workstations, and the live login feed, with the reference desktop agent's CLI
// (clients/desktop) as the workstation. The real API on an embedded database, the built
// portal, Debian's Chromium; nothing is mocked.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { deflateSync } from "node:zlib";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";
import { screenshotPath } from "./screenshots";

const here = dirname(fileURLToPath(import.meta.url));
const desktopAgentCli = resolve(here, "../../clients/desktop/bin/desktop-agent.mjs");
const run = promisify(execFile);

// A shared PostgreSQL (CI may set DATABASE_URL) keeps earlier runs' tenants: random suffix there.
const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = {
  slug: `lighthouse${suffix}`,
  displayName: "Lighthouse IT",
  firstName: "Maya",
  lastName: "Lindqvist",
  email: "maya@lighthouse.example",
  password: "correct horse battery staple 42",
};
const jane = { username: "jane.doe", email: "jane.doe@contoso.example", password: "maple orbit candle quartz 19" };

if (browserMissing) console.warn(`desktop browser tests skipped: no Chromium at ${chromiumPath}`);

function statusOf(scope: Page | Locator, text: string | RegExp) {
  return scope.getByRole("status").filter({ hasText: text });
}

/** A solid-colour PNG, made here so the test needs no image file or library. */
function solidPng(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).fill(Buffer.from([r, g, b]))]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe.skipIf(browserMissing)("desktop login in the portal", () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let agentDir: string;
  let customerUrl = "";
  let installToken = "";
  const requestedUrls: string[] = [];
  const pageErrors: string[] = [];

  /** The reference desktop agent's CLI, as a workstation would run it. */
  const agent = (...args: string[]) =>
    run(process.execPath, [desktopAgentCli, ...args, ...(args.includes("--config") ? [] : ["--api", `${stack.apiUrl}/graphql`]), "--state", join(agentDir, "agent.json")], {
      timeout: 60_000,
    });
  /** The agent configuration file the portal offered beside the install token. */
  let agentConfigPath = "";

  beforeAll(async () => {
    agentDir = await mkdtemp(join(tmpdir(), "latchkey-web-agent-"));
    stack = await startStack();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.webUrl });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("request", (request) => requestedUrls.push(request.url()));
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (agentDir) await rm(agentDir, { recursive: true, force: true });
  });

  test("signs up, creates a customer and a user with a password", async () => {
    await page.goto(`${stack.webUrl}/signup`);
    await page.getByLabel("Company name").fill(msp.displayName);
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill(msp.firstName);
    await page.getByLabel("Last name").fill(msp.lastName);
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);

    await page.getByLabel("Name", { exact: true }).fill("contoso");
    await page.getByLabel("Display name").fill("Contoso Ltd");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("link", { name: "Contoso Ltd", exact: true }).click();
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    customerUrl = page.url();

    const form = page.getByRole("form", { name: "New user" });
    await form.getByLabel("Email", { exact: true }).fill(jane.email);
    await form.getByLabel("First name").fill("Jane");
    await form.getByLabel("Last name").fill("Doe");
    await form.getByLabel("Password (optional)").fill(jane.password);
    await form.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("listitem", { name: /Jane Doe/ }).waitFor();
  });

  test("enables desktop login, and the preview follows the method", async () => {
    await page.getByRole("navigation", { name: "Contoso Ltd sections" }).getByRole("link", { name: "Desktop login" }).click();
    await page.waitForURL(`${customerUrl}/desktop`);
    const form = page.getByRole("form", { name: "Desktop login" });
    const preview = page.getByTestId("login-preview");
    await form.getByLabel("Enable desktop login").waitFor();
    expect(await form.getByLabel("Enable desktop login").isChecked()).toBe(false);
    await preview.getByText("Desktop login is off").waitFor();

    await form.getByLabel("Enable desktop login").check();
    await form.getByLabel("Passwordless (QR)").check();
    await preview.getByText("Scan with the Latchkey authenticator").waitFor();
    await form.getByLabel("Allow the password as a fallback").uncheck();
    expect(await preview.getByText("Password", { exact: true }).count()).toBe(0);
    await form.getByLabel("Allow the password as a fallback").check();
    await preview.getByText("Password", { exact: true }).waitFor();

    // Users of this test log in with their password.
    await form.getByLabel("Password", { exact: true }).check();
    expect(await form.getByLabel("Allow the password as a fallback").count()).toBe(0);
    await form.getByRole("button", { name: "Save desktop login" }).click();
    await statusOf(form, "Desktop login settings saved.").waitFor();

    await page.reload();
    await form.getByLabel("Enable desktop login").waitFor();
    expect(await form.getByLabel("Enable desktop login").isChecked()).toBe(true);
    expect(await form.getByLabel("Password", { exact: true }).isChecked()).toBe(true);
  });

  test("previews branding text as text, and uploads a logo and a background shown from the API", async () => {
    const branding = page.getByRole("region", { name: "Branding" });
    const preview = page.getByTestId("login-preview");
    const text = "<b>Welcome to Contoso</b>\nHelp desk: 555 0100";
    await branding.getByLabel("Login screen text").fill(text);
    // Live, before saving; markup stays text.
    await expect.poll(() => preview.getByTestId("login-preview-text").textContent()).toBe(text);
    expect(await preview.locator("b").count()).toBe(0);
    await branding.getByRole("button", { name: "Save text" }).click();
    await statusOf(branding, "Login screen text saved.").waitFor();

    await branding.getByLabel("Logo").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: solidPng(120, 40, [34, 81, 199]) });
    await statusOf(branding, "Logo uploaded.").waitFor();
    const logo = preview.locator("img.login-preview-logo");
    await logo.waitFor();
    expect(await logo.getAttribute("src")).toMatch(new RegExp(`^${stack.apiUrl}/branding/[0-9a-f]{64}\\.png$`));
    await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(120);

    await branding
      .getByLabel("Background")
      .setInputFiles({ name: "background.png", mimeType: "image/png", buffer: solidPng(320, 200, [24, 121, 78]) });
    await statusOf(branding, "Background uploaded.").waitFor();
    await expect.poll(() => preview.evaluate((el) => getComputedStyle(el).backgroundImage)).toContain(`${stack.apiUrl}/branding/`);

    // The fullest screen, passwordless with the password as a fallback under a logo and text,
    // fits its preview: nothing is cut off at the bottom.
    const form = page.getByRole("form", { name: "Desktop login" });
    await form.getByLabel("Passwordless (QR)").check();
    await form.getByLabel("Allow the password as a fallback").check();
    await preview.getByText("Sign in", { exact: true }).waitFor();
    const [frame, panel] = await Promise.all([preview.boundingBox(), preview.locator(".login-preview-panel").boundingBox()]);
    expect(panel!.y + panel!.height).toBeLessThanOrEqual(frame!.y + frame!.height);
    expect(panel!.y).toBeGreaterThanOrEqual(frame!.y);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: await screenshotPath("customer-desktop-passwordless.png"), fullPage: true });
    await form.getByLabel("Password", { exact: true }).check();

    // Not an image: refused next to the field before anything is sent.
    await branding.getByLabel("Logo").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await branding.getByText("Choose a PNG or JPEG image.").waitFor();
    expect(await branding.getByLabel("Logo").getAttribute("aria-invalid")).toBe("true");

    await page.mouse.move(0, 0);
    await page.screenshot({ path: await screenshotPath("customer-desktop.png"), fullPage: true });
    await expectAccessible(page, "the desktop login tab with its branding preview");
  });

  test("creates an install token, shows its secret once with a copy button", async () => {
    await page.getByRole("navigation", { name: "Contoso Ltd sections" }).getByRole("link", { name: "Workstations" }).click();
    await page.waitForURL(`${customerUrl}/workstations`);
    await page.getByText("No workstations yet").waitFor();
    const tokens = page.getByRole("region", { name: "Install tokens" });
    await tokens.getByText("No install tokens yet.").waitFor();

    const form = tokens.getByRole("form", { name: "New install token" });
    await form.getByLabel("Workstations it may enroll").fill("0");
    await form.getByRole("button", { name: "Create install token" }).click();
    await form.getByText("Enter a whole number from 1 to 100000").waitFor();
    await form.getByLabel("Workstations it may enroll").fill("2");
    await form.getByLabel("Valid for (hours)").fill("48");
    await form.getByRole("button", { name: "Create install token" }).click();

    const secretBox = page.getByRole("region", { name: "New install token" });
    installToken = ((await secretBox.getByTestId("install-token-secret").textContent()) ?? "").trim();
    expect(installToken.length).toBeGreaterThan(20);
    // The command it suggests names the API workstations reach and the organisation, so the
    // agent refuses another one's token.
    expect(await secretBox.getByTestId("enroll-command").textContent()).toBe(
      `desktop-agent enroll --api ${stack.apiUrl}/graphql --token ${installToken} --tenant contoso-${msp.slug}`,
    );
    // Or a configuration file with the same, made in the browser.
    const [download] = await Promise.all([page.waitForEvent("download"), secretBox.getByRole("link", { name: "Download configuration" }).click()]);
    expect(download.suggestedFilename()).toBe("latchkey-agent.json");
    agentConfigPath = join(agentDir, "latchkey-agent.json");
    await download.saveAs(agentConfigPath);
    expect(JSON.parse(await readFile(agentConfigPath, "utf8"))).toEqual({
      latchkeyAgentConfiguration: 1,
      api: `${stack.apiUrl}/graphql`,
      tenant: `contoso-${msp.slug}`,
      installToken,
    });
    await secretBox.getByRole("button", { name: "Copy token" }).click();
    await statusOf(secretBox, "Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(installToken);
    await expectAccessible(page, "the workstations tab with a token's secret shown");

    const listed = tokens.getByRole("list", { name: "Install tokens" }).getByRole("listitem");
    await expect.poll(() => listed.count()).toBe(1);
    await listed.getByText("Active").waitFor();
    await listed.getByText(/0 of 2 used/).waitFor();
    // Only the first characters are listed, never the secret.
    expect(await tokens.getByRole("list", { name: "Install tokens" }).textContent()).not.toContain(installToken);

    await secretBox.getByRole("button", { name: "Done" }).click();
    expect(await page.getByTestId("install-token-secret").count()).toBe(0);
  });

  test("shows a workstation the desktop agent enrolls, live, then approves and renames it", async () => {
    // Anything that reloads the page would drop this marker.
    await page.evaluate(() => Object.assign(window, { __stillTheSamePage: true }));
    // Subscribed since the page opened in the previous test, and not failed since.
    await page.getByText("Updates live").waitFor();
    // Enrolled with the downloaded configuration alone: API address, tenant and token.
    const { stdout } = await agent("enroll", "--config", agentConfigPath, "--hostname", "CONTOSO-PC-07", "--os", "Windows 11 Pro");
    expect(stdout).toContain("PENDING");

    // Pushed, not polled and not refreshed: well within what any poll would wait.
    const pushed = { timeout: 5_000 };
    const workstation = page.getByRole("listitem", { name: "CONTOSO-PC-07" });
    await workstation.getByText("Waiting for approval").waitFor(pushed);
    await page.getByRole("region", { name: "Install tokens" }).getByText(/1 of 2 used/).waitFor(pushed);
    const figure = page.locator(".figure").filter({ has: page.getByText("Workstations", { exact: true }) }).locator("dd");
    await expect.poll(() => figure.textContent(), pushed).toBe("1");
    expect(await page.evaluate(() => (window as { __stillTheSamePage?: boolean }).__stillTheSamePage)).toBe(true);
    await expectAccessible(page, "the workstations tab with a pending workstation");

    await workstation.getByRole("button", { name: "Approve CONTOSO-PC-07" }).click();
    await workstation.getByText("Approved", { exact: true }).waitFor();

    await workstation.getByRole("button", { name: "Rename CONTOSO-PC-07" }).click();
    const dialog = page.getByRole("dialog", { name: "Rename CONTOSO-PC-07" });
    await dialog.getByLabel("Name").fill("Reception desk");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("listitem", { name: "Reception desk" }).waitFor();
  });

  test("shows the desktop agent's logins in the live feed without a reload", async () => {
    await page.getByRole("navigation", { name: "Contoso Ltd sections" }).getByRole("link", { name: "Login feed" }).click();
    await page.waitForURL(`${customerUrl}/logins`);
    await page.getByText("No desktop logins yet").waitFor();
    // Anything that reloads the page would drop this marker.
    await page.evaluate(() => Object.assign(window, { __stillTheSamePage: true }));

    const { stdout } = await agent("login", "--username", jane.username, "--password", jane.password);
    expect(stdout).toContain("outcome: CREATED");
    const rows = page.getByRole("table").getByRole("row");
    const success = rows.filter({ hasText: jane.username }).filter({ hasText: "Succeeded" });
    await success.waitFor();
    await success.getByText("Reception desk").waitFor();
    await success.getByText("Created the local account").waitFor();

    await expect(agent("login", "--username", jane.username, "--password", "not her password at all")).rejects.toThrow();
    const failure = rows.filter({ hasText: "Failed: wrong password" });
    // With OPAQUE the agent finds out about a wrong password itself and never finishes its log
    // in: the API records the attempt as failed once the log in expires (60 s), at its next
    // sweep (every 60 s), and pushes it to the feed then.
    await failure.waitFor({ timeout: 180_000 });
    // Newest first.
    expect(await rows.nth(1).textContent()).toContain("Failed");
    // The customer's figures follow the feed.
    const figure = (label: string) => page.locator(".figure").filter({ has: page.getByText(label, { exact: true }) }).locator("dd");
    await expect.poll(() => figure("Successful logins, last 24 h").textContent()).toBe("1");
    await expect.poll(() => figure("Failed logins, last 24 h").textContent()).toBe("1");
    expect(await page.evaluate(() => (window as { __stillTheSamePage?: boolean }).__stillTheSamePage)).toBe(true);

    await page.mouse.move(0, 0);
    await page.screenshot({ path: await screenshotPath("login-feed.png"), fullPage: true });
    await expectAccessible(page, "the login feed");

    // The history is there after a reload too.
    await page.reload();
    await rows.filter({ hasText: "Failed: wrong password" }).waitFor();
    await rows.filter({ hasText: "Succeeded" }).waitFor();
  }, 300_000);

  test("keeps the customer's figures live on every tab, not only the feed", async () => {
    await page.getByRole("navigation", { name: "Contoso Ltd sections" }).getByRole("link", { name: "Users" }).click();
    await page.waitForURL(customerUrl);
    await page.evaluate(() => Object.assign(window, { __stillTheSamePage: true }));
    const figure = (label: string) => page.locator(".figure").filter({ has: page.getByText(label, { exact: true }) }).locator("dd");
    await expect.poll(() => figure("Successful logins, last 24 h").textContent()).toBe("1");

    const { stdout } = await agent("login", "--username", jane.username, "--password", jane.password);
    expect(stdout).toContain("outcome:");
    await expect.poll(() => figure("Successful logins, last 24 h").textContent()).toBe("2");
    expect(await figure("Failed logins, last 24 h").textContent()).toBe("1");
    expect(await page.evaluate(() => (window as { __stillTheSamePage?: boolean }).__stillTheSamePage)).toBe(true);
  });

  test("shows the customer's figures on the dashboard", async () => {
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Customers" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);
    const row = page.getByRole("row", { name: /Contoso Ltd/ });
    await row.waitFor();
    // Users, admins, technicians, workstations, successful and failed logins in the last 24 h.
    await expect.poll(async () => await row.getByRole("cell").allTextContents()).toEqual(["1", "0", "0", "1", "2", "1"]);

    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move(0, 0);
    await page.screenshot({ path: await screenshotPath("dashboard.png"), fullPage: true });
    await expectAccessible(page, "the customers dashboard with figures");
  });

  test("revokes the install token and removes the workstation", async () => {
    await page.goto(`${customerUrl}/workstations`);
    const tokens = page.getByRole("region", { name: "Install tokens" });
    await tokens.getByRole("button", { name: /^Revoke token/ }).click();
    await tokens.getByRole("button", { name: "Revoke token" }).click();
    await tokens.getByText("Revoked", { exact: true }).waitFor();
    await expect(agent("enroll", "--token", installToken)).rejects.toThrow();

    const workstation = page.getByRole("listitem", { name: "Reception desk" });
    await workstation.getByRole("button", { name: "Remove Reception desk" }).click();
    await workstation.getByRole("button", { name: "Remove workstation" }).click();
    await page.getByText("No workstations yet").waitFor();
    // Its credential stops working at once.
    await expect(agent("config")).rejects.toThrow();
  });

  test("shows a user locked by wrong passwords at other workstations, since when and until when, and unlocks them", async () => {
    await page.goto(`${customerUrl}/workstations`);
    const form = page.getByRole("region", { name: "Install tokens" }).getByRole("form", { name: "New install token" });
    await form.getByLabel("Workstations it may enroll").fill("2");
    await form.getByLabel("Approve its workstations automatically").check();
    await form.getByRole("button", { name: "Create install token" }).click();
    const token = ((await page.getByTestId("install-token-secret").textContent()) ?? "").trim();
    // Two workstations jane never used: five wrong passwords each spend the account's
    // budget for unknown clients, without waiting out any back-off.
    const guessers = ["guesser-1.json", "guesser-2.json"].map((file) => join(agentDir, file));
    const at = (state: string, ...args: string[]) =>
      run(process.execPath, [desktopAgentCli, ...args, "--api", `${stack.apiUrl}/graphql`, "--state", state], { timeout: 60_000 });
    for (const [index, state] of guessers.entries()) await at(state, "enroll", "--token", token, "--hostname", `GUESSER-${index}`);
    for (let i = 0; i < 5; i += 1) {
      for (const state of guessers) await expect(at(state, "login", "--username", jane.username, "--password", `not-her-password-${i}`)).rejects.toThrow();
    }

    await page.getByRole("navigation", { name: "Contoso Ltd sections" }).getByRole("link", { name: "Users" }).click();
    await page.waitForURL(customerUrl);
    const user = page.getByRole("listitem", { name: /Jane/ });
    await user.getByText("Locked", { exact: true }).waitFor();
    await user.getByText(/Locked for unrecognised devices since .+ until .+, after too many wrong passwords/).waitFor();
    await user.getByText("No phone").waitFor();
    await expectAccessible(page, "a locked user in the directory");
    await page.screenshot({ path: await screenshotPath("locked-user.png"), fullPage: true });
    await user.getByRole("button", { name: /^Unlock / }).click();
    await statusOf(page, /^Unlocked /).waitFor();
    await expect.poll(() => user.getByText("Locked", { exact: true }).count()).toBe(0);
    expect(await user.getByRole("button", { name: /^Unlock / }).count()).toBe(0);
  });

  test("fits a phone's screen on the dashboard and the desktop login, workstation and feed pages", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      for (const path of ["desktop", "workstations", "logins"]) {
        await page.goto(`${customerUrl}/${path}`);
        await page.getByRole("heading", { name: "Contoso Ltd", level: 1 }).waitFor();
        await page.locator(".card").first().waitFor();
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
        await expectAccessible(page, `the customer's ${path} tab, on a phone`);
      }
      // The dashboard's wide table scrolls inside its card.
      await page.goto(`${stack.webUrl}/customers`);
      await page.getByRole("row", { name: /Contoso Ltd/ }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await expectAccessible(page, "the customers dashboard, on a phone");
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
