// The MSP quick start, walked the way the product describes it, with nobody at
// anyone's elbow: sign up; add a technician, who links their phone from the
// invitation email, has it approved by the owner, and signs in at the MSP's own
// address with their password and then their phone (an MSP's sign-in requires it); create a customer and delegate it; add a customer user,
// who links their phone the same way (their first phone, by their company
// email, needs no approval); passwordless desktop login through the reference
// agent; the login feed shows it. The real API and the portal behind its front
// server, Debian's Chromium, the reference authenticator and desktop agent;
// nothing is mocked.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Authenticator } from "@latchkey/mobile";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";

const here = dirname(fileURLToPath(import.meta.url));
const desktopAgentCli = resolve(here, "../../clients/desktop/bin/desktop-agent.mjs");

const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = { slug: `northwind${suffix}`, email: "owner@northwind.example", password: "amber quarry violet 2231" };
const technician = {
  email: "tech@northwind.example",
  firstName: "Theo",
  lastName: "Nakamura",
  /** What the owner gives him; he chooses his own at his first sign-in. */
  password: "cobalt fern harbour 7140",
  ownPassword: "thistle Copper-ferry 5381",
};
const customerUser = { email: "mia@lagoon.example", firstName: "Mia", lastName: "Okoye", username: "mia.okoye" };

if (browserMissing) console.warn(`quick start browser test skipped: no Chromium at ${chromiumPath}`);

function statusOf(page: Page, text: string | RegExp) {
  return page.getByRole("status").filter({ hasText: text });
}

describe.skipIf(browserMissing)("the MSP quick start", () => {
  let stack: Stack;
  let browser: Browser;
  let admin: Page;
  let agentDir = "";
  let port = "";
  const at = (slug: string | null, path: string) => `http://${slug ? `${slug}.` : ""}localhost:${port}${path}`;

  beforeAll(async () => {
    agentDir = await mkdtemp(join(tmpdir(), "latchkey-quick-start-"));
    stack = await startStack({ sameOrigin: true });
    port = new URL(stack.webUrl).port;
    browser = await launchBrowser(["--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1"]);
    admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    admin.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await rm(agentDir, { recursive: true, force: true });
  });

  /** The code in the invitation emailed to `address`, read from the outbox as the user reads their mail. */
  async function invitationCode(address: string) {
    let code: string | undefined;
    await expect
      .poll(async () => {
        const mail = (await stack.outbox()).find((text) => text.includes(`To: ${address}`) && /invitation code: /.test(text));
        code = mail && /invitation code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(mail)?.[1];
        return code ?? null;
      }, { timeout: 20_000 })
      .not.toBeNull();
    return code!;
  }

  /** A phone that verified `email` and presented its invitation: linked, as its owner would do it. */
  async function phoneFromInvitation(email: string) {
    const phone = await Authenticator.create({ apiUrl: `${stack.apiUrl}/graphql` });
    await phone.requestEmailVerification(email);
    await phone.verifyEmail(email, await stack.emailedCode(email), `${email}'s phone`);
    await phone.redeemInvitation(await invitationCode(email));
    return phone;
  }

  test("1. the owner signs up their MSP", async () => {
    await admin.goto(at(null, "/signup"));
    await admin.getByLabel("Company name").fill("Northwind IT");
    await admin.getByLabel("Tenant slug").fill(msp.slug);
    await admin.getByLabel("First name").fill("Olive");
    await admin.getByLabel("Last name").fill("Owner");
    await admin.getByLabel("Email").fill(msp.email);
    await admin.getByLabel("Password").fill(msp.password);
    await admin.getByRole("button", { name: "Create account" }).click();
    await admin.waitForURL(at(null, "/customers"));
  });

  test("2. adds a technician, who links a phone from the invitation, which the owner approves, signs in with password and phone at the MSP's address, and chooses his own password", async () => {
    await admin.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Team" }).click();
    const form = admin.getByRole("form", { name: "Add a technician" });
    await form.getByLabel("Email", { exact: true }).fill(technician.email);
    await form.getByLabel("First name").fill(technician.firstName);
    await form.getByLabel("Last name").fill(technician.lastName);
    await form.getByLabel("Password (optional)").fill(technician.password);
    await form.getByRole("button", { name: "Add technician" }).click();
    const theo = admin.getByRole("listitem", { name: /Theo Nakamura/ });
    await theo.getByRole("button", { name: "Invite: Theo Nakamura" }).click();
    await statusOf(admin, "Emailed Theo Nakamura an invitation to link their phone.").waitFor();

    const phone = await phoneFromInvitation(technician.email);
    await admin.reload();
    await theo.getByText(`${technician.email}'s phone`).waitFor();
    // A technician reaches every customer delegated to them: their phone waits for the owner's approval.
    await theo.getByText("Phone waiting for approval").waitFor();
    await theo.getByRole("button", { name: "Approve phone of Theo Nakamura" }).click();
    await theo.getByRole("button", { name: "Approve phone", exact: true }).click();
    await statusOf(admin, `Approved ${technician.email}'s phone of Theo Nakamura.`).waitFor();
    await expect.poll(() => theo.getByText("Waiting for approval").count()).toBe(0);

    const tech = await (await browser.newContext()).newPage();
    tech.setDefaultTimeout(15_000);
    await tech.goto(at(msp.slug, "/login"));
    await expect.poll(() => tech.getByLabel("Tenant").inputValue()).toBe(msp.slug);
    await tech.getByLabel("Email or username").fill(technician.email);
    await tech.getByLabel("Password").fill(technician.password);
    await tech.getByRole("button", { name: "Sign in" }).click();
    // The password was right; the MSP asks for the phone before any session opens.
    await tech.getByRole("heading", { name: "Approve on your phone" }).waitFor();
    expect(await tech.context().cookies()).toEqual([]);
    const payload = ((await tech.getByTestId("qr-payload").textContent()) ?? "").trim();
    await phone.approve(payload);
    // The owner knows the first password: Theo chooses his own before anything else opens.
    await tech.waitForURL(at(msp.slug, "/sessions"));
    const change = tech.getByRole("form", { name: "Change your password" });
    await change.getByLabel("Current password").fill(technician.password);
    await change.getByLabel("New password", { exact: true }).fill(technician.ownPassword);
    await change.getByLabel("Repeat the new password").fill(technician.ownPassword);
    await change.getByRole("button", { name: "Change password" }).click();
    await tech.getByRole("alert").filter({ hasText: "Your admin set your password" }).waitFor({ state: "detached" });
    await tech.goto(at(msp.slug, "/customers"));
    await tech.getByText("No customers delegated to you yet").waitFor();
    await tech.context().close();
  });

  test("3. creates a customer and delegates it to the technician", async () => {
    await admin.goto(at(null, "/customers"));
    await admin.getByLabel("Name", { exact: true }).fill("lagoon");
    await admin.getByLabel("Display name").fill("Lagoon Dental");
    await admin.getByRole("button", { name: "Create customer" }).click();
    await admin.getByRole("link", { name: "Lagoon Dental", exact: true }).click();
    await admin.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    await admin.getByRole("navigation", { name: "Lagoon Dental sections" }).getByRole("link", { name: "Settings and access" }).click();
    const access = admin.getByRole("region", { name: "Technician access" });
    await access.getByRole("button", { name: "Grant access to Theo Nakamura" }).click();
    await access.getByRole("listitem", { name: "Theo Nakamura" }).getByText(/Has access since/).waitFor();
  });

  let miaPhone: Authenticator;

  test("4. adds a customer user, who links their phone the same way", async () => {
    await admin.getByRole("navigation", { name: "Lagoon Dental sections" }).getByRole("link", { name: "Users" }).click();
    const form = admin.getByRole("form", { name: "New user" });
    await form.getByLabel("Email", { exact: true }).fill(customerUser.email);
    await form.getByLabel("Username").fill(customerUser.username);
    await form.getByLabel("First name").fill(customerUser.firstName);
    await form.getByLabel("Last name").fill(customerUser.lastName);
    await form.getByRole("button", { name: "Add user" }).click();
    const mia = admin.getByRole("listitem", { name: /Mia Okoye/ });
    await mia.getByText("Passwordless").waitFor();
    await mia.getByRole("button", { name: "Invite: Mia Okoye" }).click();
    await statusOf(admin, "Emailed Mia Okoye an invitation to link their phone.").waitFor();
    miaPhone = await phoneFromInvitation(customerUser.email);
    await admin.reload();
    await mia.getByText("Phone linked").waitFor();
  });

  test("5. turns on passwordless desktop login; the agent enrolls from its configuration file and Mia signs in with her phone", async () => {
    await admin.getByRole("navigation", { name: "Lagoon Dental sections" }).getByRole("link", { name: "Desktop login" }).click();
    const settings = admin.getByRole("form", { name: "Desktop login" });
    await settings.getByLabel("Enable desktop login").check();
    await settings.getByLabel("Passwordless (QR)").check();
    await settings.getByRole("button", { name: "Save desktop login" }).click();
    await statusOf(admin, "Desktop login settings saved.").waitFor();

    await admin.getByRole("navigation", { name: "Lagoon Dental sections" }).getByRole("link", { name: "Workstations" }).click();
    const tokens = admin.getByRole("form", { name: "New install token" });
    await tokens.getByLabel("Approve its workstations automatically").check();
    await tokens.getByRole("button", { name: "Create install token" }).click();
    const [download] = await Promise.all([admin.waitForEvent("download"), admin.getByRole("link", { name: "Download configuration" }).click()]);
    const config = join(agentDir, "latchkey-agent.json");
    await download.saveAs(config);

    const state = join(agentDir, "frontdesk.json");
    const enrolled = await agent(["enroll", "--config", config, "--hostname", "FRONTDESK", "--state", state]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain("APPROVED");

    // The login screen shows its code; Mia's phone approves it.
    let approved: Promise<unknown> | null = null;
    const login = await agent(["qr-login", "--state", state], (stderr) => {
      const payload = /^Code: (lk1\.\S+)$/m.exec(stderr)?.[1];
      if (payload && !approved) approved = miaPhone.approve(payload);
    });
    await approved;
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(customerUser.username);
  });

  test("6. the login feed shows Mia's sign-in on FRONTDESK", async () => {
    await admin.getByRole("navigation", { name: "Lagoon Dental sections" }).getByRole("link", { name: "Login feed" }).click();
    const row = admin.getByRole("table").getByRole("row").filter({ hasText: customerUser.username }).filter({ hasText: "Succeeded" });
    await row.waitFor();
    await row.getByText("FRONTDESK").waitFor();
  });

  /** The reference desktop agent; `onStderr` sees its login screen as it draws. */
  function agent(args: string[], onStderr?: (text: string) => void) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun, reject) => {
      const child = spawn(process.execPath, [desktopAgentCli, ...args]);
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => child.kill(), 60_000);
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        onStderr?.(stderr);
      });
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolveRun({ code, stdout, stderr });
      });
      child.stdin.end();
    });
  }
});
