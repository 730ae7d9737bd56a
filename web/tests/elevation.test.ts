// Elevated access from the portal end to end: an MSP admin configures a customer's shared
// account on its Accounts tab, watches a technician's elevation appear live on the
// Elevations page while the reference desktop agent's CLI holds it, and ends it from there;
// the agent logs the session off and rotates the password. The real API on an embedded
// database, the built portal, Debian's Chromium, the reference authenticator as the phone.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Authenticator } from "@latchkey/mobile";
import { logInWithPassword } from "@latchkey/passwords";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { screenshotPath } from "./screenshots";
import { startStack, type Stack } from "./servers";

const here = dirname(fileURLToPath(import.meta.url));
const desktopAgentCli = resolve(here, "../../clients/desktop/bin/desktop-agent.mjs");

const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = {
  slug: `beacon${suffix}`,
  displayName: "Beacon Managed IT",
  firstName: "Noor",
  lastName: "Haddad",
  email: `noor${suffix}@beacon.example`,
  password: "correct horse battery staple 42",
};

if (browserMissing) console.warn(`elevation browser tests skipped: no Chromium at ${chromiumPath}`);

type Run = { code: number | null; stdout: string; stderr: string };

describe.skipIf(browserMissing)("elevated access in the portal", () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let agentDir: string;
  let customerUrl = "";
  let phone: Authenticator;
  /** The MSP admin's session from before their phone was linked (after that, a password asks for the phone). */
  let adminToken = "";
  const pageErrors: string[] = [];
  /** The agent's test-only record of the passwords it generates. */
  const generated = async () =>
    (await readFile(join(agentDir, "generated.jsonl"), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { account: string; password: string });

  async function api(query: string, variables: Record<string, unknown>, token?: string) {
    const response = await fetch(`${stack.apiUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  /** The reference desktop agent's CLI; resolves when it exits, and shows its standard error as it comes. */
  function agent(args: string[], onStderr: (text: string) => void = () => undefined): Promise<Run> {
    return new Promise((resolveRun) => {
      const child = spawn(process.execPath, [desktopAgentCli, ...args, "--api", `${stack.apiUrl}/graphql`, "--state", join(agentDir, "agent.json")]);
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => onStderr((stderr += chunk)));
      child.on("close", (code) => {
        clearTimeout(timer);
        resolveRun({ code, stdout, stderr });
      });
      child.stdin.end();
    });
  }

  beforeAll(async () => {
    agentDir = await mkdtemp(join(tmpdir(), "latchkey-web-elevation-"));
    stack = await startStack();
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (agentDir) await rm(agentDir, { recursive: true, force: true });
  });

  test("configures the shared account, watches a live elevation appear and ends it from the portal", async () => {
    await page.goto(`${stack.webUrl}/signup`);
    await page.getByLabel("Company name").fill(msp.displayName);
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill(msp.firstName);
    await page.getByLabel("Last name").fill(msp.lastName);
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);
    await page.getByLabel("Name", { exact: true }).fill("fabrikam");
    await page.getByLabel("Display name").fill("Fabrikam Inc");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("link", { name: "Fabrikam Inc", exact: true }).click();
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    customerUrl = page.url();
    const customerId = customerUrl.split("/").at(-1)!;

    // Configure shared account.
    await page.getByRole("navigation", { name: "Fabrikam Inc sections" }).getByRole("link", { name: "Accounts" }).click();
    await page.waitForURL(`${customerUrl}/accounts`);
    const form = page.getByRole("form", { name: "Configure shared account" });
    await form.getByLabel("Shared admin account").fill("LatchkeyAdmin");
    await form.getByLabel("Maximum session length (minutes)").fill("15");
    await form.getByRole("button", { name: "Save elevated access" }).click();
    await form.getByRole("status").filter({ hasText: "Saved: technicians are elevated as LatchkeyAdmin." }).waitFor();
    await page.getByRole("list", { name: "Elevation accounts" }).getByText("LatchkeyAdmin").waitFor();
    await expectAccessible(page, "a customer's Accounts tab");

    // A workstation, and the admin's phone, set up outside the browser.
    // Directory passwords are proved with OPAQUE: the reference client's login, as the browser runs it.
    const logIn = await logInWithPassword((query, variables) => api(query, variables), { tenant: msp.slug, login: msp.email, password: msp.password });
    expect(logIn.__typename, JSON.stringify(logIn)).toBe("AuthPayload");
    adminToken = logIn.token;
    const { createInstallToken } = await api(`mutation($input: CreateInstallTokenInput!) { createInstallToken(input: $input) { ... on CreateInstallTokenPayload { installToken } } }`, {
      input: { tenantId: customerId, autoApprove: true },
    }, logIn.token);
    const enrolled = await agent(["enroll", "--token", createInstallToken.installToken, "--hostname", "FRONT-DESK-7", "--os", "Windows 11 Pro"]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    phone = await Authenticator.create({ apiUrl: `${stack.apiUrl}/graphql` });
    await phone.requestEmailVerification(msp.email);
    await phone.verifyEmail(msp.email, await stack.emailedCode(msp.email), "Noor's phone");
    const { startDeviceOnboarding } = await api(`mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { ... on StartDeviceOnboardingPayload { qrPayload } } }`, {
      userId: logIn.user.id,
    }, logIn.token);
    const { authenticator } = await phone.onboard(startDeviceOnboarding.qrPayload);
    // The MSP's owner showed their own code: they approve their first phone themselves.
    const { approveAuthenticator } = await api(`mutation($id: ID!) { approveAuthenticator(input: { id: $id }) { __typename } }`, { id: authenticator.id }, logIn.token);
    expect(approveAuthenticator.__typename).toBe("ApproveAuthenticatorPayload");

    // A workstation may have an account of its own, and go back to the shared one.
    await page.goto(`${customerUrl}/accounts`);
    const own = page.getByRole("form", { name: "Account on FRONT-DESK-7" });
    await own.getByText("Now: LatchkeyAdmin").waitFor();
    await own.getByRole("textbox").fill("FrontDeskAdmin");
    await own.getByRole("button", { name: "Assign" }).click();
    await own.getByText("Now: FrontDeskAdmin").waitFor();
    await own.getByRole("textbox").fill("");
    await own.getByRole("button", { name: "Assign" }).click();
    await own.getByText("Now: LatchkeyAdmin").waitFor();

    // The MSP-wide Elevations page, open before anything happens.
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Elevations" }).click();
    await page.waitForURL(`${stack.webUrl}/elevations`);
    await page.getByText("No technician is elevated right now.").waitFor();
    await page.getByText("Updates live").first().waitFor();

    // The customer's workstations, open in a second tab: the elevation shows on its workstation too.
    const workstationsTab = await page.context().newPage();
    workstationsTab.setDefaultTimeout(15_000);
    await workstationsTab.goto(`${customerUrl}/workstations`);
    await workstationsTab.getByText("Admin account: LatchkeyAdmin").waitFor();
    expect(await workstationsTab.getByText(/^Elevated: /).count()).toBe(0);

    let approving: Promise<unknown> | null = null;
    const held = agent(["elevate", "--minutes", "10", "--reveal-passwords-to", join(agentDir, "generated.jsonl")], (stderr) => {
      const code = /Code: (lk1\.\S+)/.exec(stderr)?.[1];
      if (code && !approving) approving = phone.approve(code);
    });
    const active = page.getByRole("list", { name: "Active technician sessions" });
    const session = active.getByRole("listitem", { name: /on FRONT-DESK-7/ });
    await session.waitFor({ timeout: 30_000 });
    await session.getByText("LatchkeyAdmin").waitFor();
    await session.getByText(/started/).waitFor();
    expect(await session.getByText("Fabrikam Inc").count()).toBe(1);
    await page.screenshot({ path: await screenshotPath("elevations.png"), fullPage: true });
    await expectAccessible(page, "the Elevations page with an active session");

    await workstationsTab.getByText(`Elevated: ${msp.firstName} ${msp.lastName} <${msp.email}>`, { exact: false }).waitFor();

    await session.getByRole("button", { name: /End now/ }).click();
    const run = await held;
    expect(run.code, run.stderr).toBe(0);
    // The admin approved with their own phone: they ended their own session.
    expect(run.stderr).toContain("(ENDED_BY_TECHNICIAN)");
    await page.getByText("No technician is elevated right now.").waitFor();
    const history = page.getByRole("table", { name: "Technician session history" });
    await history.getByText(/ended by the technician by Noor Haddad/).first().waitFor();
    // The history's filters: ended sessions of that workstation and technician.
    await page.getByLabel("Show").selectOption("ended");
    await page.getByRole("combobox", { name: /^Workstation/ }).selectOption({ label: "FRONT-DESK-7" });
    await page.getByRole("combobox", { name: /^Technician/ }).selectOption({ index: 1 });
    await expect.poll(() => history.getByRole("row").count()).toBe(2);
    await history.getByText(/ended by the technician/).waitFor();

    await expect.poll(() => workstationsTab.getByText(/^Elevated: /).count()).toBe(0);
    await workstationsTab.close();
    expect(pageErrors).toEqual([]);
  });

  test("an MSP admin reveals the workstation's break-glass password with their phone, once, and the agent rotates it", async () => {
    await page.goto(`${customerUrl}/accounts`);
    const row = page.getByRole("listitem").filter({ has: page.getByRole("form", { name: "Account on FRONT-DESK-7" }) });
    await row.getByText("Break-glass password on file for LatchkeyAdmin (rotation 2).").waitFor();
    await row.getByRole("button", { name: "Reveal break-glass password" }).click();
    await row.getByRole("img", { name: /reveal the break-glass password for LatchkeyAdmin on FRONT-DESK-7/ }).waitFor();
    await expectAccessible(page, "the break-glass reveal's QR code");
    await row.getByText("Can't scan?").click();
    const qrPayload = (await row.getByTestId("qr-payload").textContent())!;
    await phone.approve(qrPayload);

    const shown = row.getByTestId("break-glass-password");
    await shown.waitFor();
    const current = (await generated()).filter((entry) => entry.account === "LatchkeyAdmin").at(-1)!.password;
    expect(await shown.textContent()).toBe(current);
    await row.getByRole("button", { name: "Copy" }).click();
    await row.getByRole("button", { name: "Copied" }).waitFor();
    await row.getByRole("button", { name: "Done" }).click();
    expect(await row.getByTestId("break-glass-password").count()).toBe(0);

    const service = await agent(["service", "--once", "--reveal-passwords-to", join(agentDir, "generated.jsonl")]);
    expect(service.code, service.stderr).toBe(0);
    expect(service.stdout).toContain("commands: 1");
    const rotated = (await generated()).filter((entry) => entry.account === "LatchkeyAdmin").at(-1)!.password;
    expect(rotated).not.toBe(current);
    await page.reload();
    await page.getByText("Break-glass password on file for LatchkeyAdmin (rotation 3).").waitFor();
    expect(pageErrors).toEqual([]);
  });

  test("the customer's admin turns the master key on with their phone from the Desktop login page; a break-glass password is then revealed on that phone, never by the service", async () => {
    const customerId = customerUrl.split("/").at(-1)!;
    const logIn = { token: adminToken };
    // The customer's own admin, with a phone the MSP admin links for them.
    const email = `it-lead${suffix}@fabrikam.example`;
    const { createUser } = await api(
      `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserPayload { user { id } } ... on Error { message } } }`,
      { input: { tenantId: customerId, firstName: "Ines", lastName: "Lead", username: "ines.lead", email, role: "ADMIN" } },
      logIn.token,
    );
    expect(createUser.__typename, JSON.stringify(createUser)).toBe("CreateUserPayload");
    const linkPhone = async (name: string) => {
      const phone = await Authenticator.create({ apiUrl: `${stack.apiUrl}/graphql` });
      await phone.requestEmailVerification(email);
      await phone.verifyEmail(email, await stack.emailedCode(email), name);
      const { startDeviceOnboarding } = await api(`mutation($userId: ID!) { startDeviceOnboarding(input: { userId: $userId }) { ... on StartDeviceOnboardingPayload { qrPayload } } }`, {
        userId: createUser.user.id,
      }, logIn.token);
      await phone.onboard(startDeviceOnboarding.qrPayload);
      return phone;
    };
    const holder = await linkPhone("Ines's phone");
    // Her second phone may hold the key too, but only once a holder admits it.
    const second = await linkPhone("Ines's tablet");

    await page.goto(`${customerUrl}/desktop`);
    const panel = page.getByRole("region", { name: "Master key" });
    await panel.getByRole("button", { name: "Enable master key" }).click();
    await panel.getByRole("img", { name: "QR code to turn the master key on" }).waitFor();
    await expectAccessible(page, "the master key's QR code");
    await panel.getByText("Can't scan?").click();
    const { tenantKey } = await holder.enableMasterKey((await panel.getByTestId("qr-payload").textContent())!);
    expect(tenantKey.epoch).toBe(2);
    await panel.getByRole("status").filter({ hasText: "The master key is on (epoch 2)" }).waitFor();
    await panel.getByRole("list", { name: "Master key holders" }).getByText(/Ines's phone \(Ines Lead\)/).waitFor();
    await panel.getByRole("list", { name: "Phones waiting to be admitted" }).getByText(/Ines's tablet \(Ines Lead\)/).waitFor();
    await page.screenshot({ path: await screenshotPath("master-key-on.png"), fullPage: true });
    // Passwords set before stay readable from older backups: the panel asks every user for a new one.
    page.once("dialog", (dialog) => void dialog.accept());
    await panel.getByRole("button", { name: "Ask every user for a new password" }).click();
    await panel.getByRole("status").filter({ hasText: /\d+ user\(s\) must choose a new password at their next sign-in/ }).waitFor();

    // A holder rotates it from the same panel.
    await panel.getByRole("button", { name: "Rotate key" }).click();
    await panel.getByRole("img", { name: "QR code to rotate the key" }).waitFor();
    await panel.getByText("Can't scan?").click();
    // ... and admits the tablet by the fingerprint the tablet shows.
    const rotated = await holder.rotateTenantKey((await panel.getByTestId("qr-payload").textContent())!, { admit: [await second.fingerprint()] });
    expect(rotated.tenantKey.epoch).toBe(3);
    await panel.getByRole("status").filter({ hasText: "The master key is on (epoch 3)" }).waitFor();
    await panel.getByRole("list", { name: "Master key holders" }).getByText(/Ines's tablet \(Ines Lead\)/).waitFor();
    await panel.getByRole("list", { name: "Phones waiting to be admitted" }).waitFor({ state: "detached" });
    await panel.getByText("No recovery kit yet").waitFor();

    // And admits a recovery kit: its code is shown on the phone only; the panel lists the kit.
    await panel.getByRole("button", { name: "New recovery kit" }).click();
    await panel.getByRole("img", { name: "QR code to create a recovery kit" }).waitFor();
    await panel.getByText("Can't scan?").click();
    const { recoveryCode } = await holder.createRecoveryKit((await panel.getByTestId("qr-payload").textContent())!);
    await panel.getByRole("list", { name: "Master key holders" }).getByText(/^Recovery kit/).waitFor();
    expect(await page.content()).not.toContain(recoveryCode.slice(0, 9));

    // The service can no longer open the workstation's break-glass box: the holder's phone does, sealing the
    // password to a one-time key this browser made, whose hash the QR code carries.
    await page.goto(`${customerUrl}/accounts`);
    const row = page.getByRole("listitem").filter({ has: page.getByRole("form", { name: "Account on FRONT-DESK-7" }) });
    await row.getByRole("button", { name: "Reveal break-glass password" }).click();
    await row.getByText("The master key is on: scan with the Latchkey authenticator of a phone that holds the key").waitFor();
    await expectAccessible(page, "the break-glass reveal on a holder's phone");
    await row.getByText("Can't scan?").click();
    const revealPayload = (await row.getByTestId("qr-payload").textContent())!;
    expect(revealPayload.split(".")).toHaveLength(4);
    await holder.revealBreakGlassPassword(revealPayload);
    const shown = row.getByTestId("break-glass-password");
    await shown.waitFor();
    const current = (await generated()).filter((entry) => entry.account === "LatchkeyAdmin").at(-1)!.password;
    expect(await shown.textContent()).toBe(current);
    await row.getByRole("button", { name: "Done" }).click();

    // The agent follows the key's hand-overs from the epoch it pinned, rotates the password and seals it to the new key.
    const service = await agent(["service", "--once", "--reveal-passwords-to", join(agentDir, "generated.jsonl")]);
    expect(service.code, service.stderr).toBe(0);
    expect((await generated()).filter((entry) => entry.account === "LatchkeyAdmin").at(-1)!.password).not.toBe(current);
    expect(pageErrors).toEqual([]);
  });
});
