// Settings > Integrations end to end: an MSP admin creates an API key (its secret shown
// once, then working against the API), revokes it, and creates, edits, replays and
// deletes a webhook whose deliveries reach a receiver on 127.0.0.1. The real API on an
// embedded database, the built portal, Debian's Chromium; nothing is mocked.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";

const suffix = randomBytes(3).toString("hex");
const msp = {
  slug: `hookline-${suffix}`,
  email: "ines@hookline.example",
  password: "copper lantern orbit meadow 58",
};

if (browserMissing) console.warn(`integrations browser tests skipped: no Chromium at ${chromiumPath}`);

type Received = { headers: Record<string, string>; body: string };

async function gql(stack: Stack, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${stack.apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
}

describe.skipIf(browserMissing)("integrations", () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let receiver: Server;
  let receiverUrl = "";
  const received: Received[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/latchkey`;
    // The receiver is on loopback: the operator's allowance, as in development.
    stack = await startStack({ apiEnv: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "1" } });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.webUrl });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // Signed up in the portal, whose password goes by OPAQUE.
    await page.goto(`${stack.webUrl}/signup`);
    await page.getByLabel("Company name").fill("Hookline IT");
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill("Ines");
    await page.getByLabel("Last name").fill("Moreau");
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  test("creates an API key, shows its secret once with a copy button, and revokes it", async () => {
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Integrations" }).click();
    await page.waitForURL(`${stack.webUrl}/integrations`);
    await page.getByText("No API keys yet.").waitFor();
    await expectAccessible(page, "the integrations page");

    const form = page.getByRole("form", { name: "New API key" });
    await form.getByRole("button", { name: "Create API key" }).click();
    await form.getByText("Choose at least one permission").waitFor();
    await form.getByLabel("Name").fill("PSA sync");
    await form.getByLabel("Read the directory").check();
    await form.getByLabel("Allowed source addresses (optional)").fill("10.0.0.0/33");
    await form.getByRole("button", { name: "Create API key" }).click();
    // The API's refusal, next to the field it names.
    await form.getByText("Not an IPv4 or IPv6 address or CIDR range").waitFor();
    await form.getByLabel("Allowed source addresses (optional)").fill("127.0.0.0/8, ::1");
    await form.getByRole("button", { name: "Create API key" }).click();

    const shown = page.getByRole("region", { name: "New API key" });
    const secret = (await shown.getByTestId("integration-secret").textContent())!;
    expect(secret).toMatch(/^lk_[0-9a-f]{72}$/);
    await shown.getByRole("button", { name: "Copy secret" }).click();
    await shown.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await page.getByRole("listitem", { name: "API key PSA sync" }).getByText("Active").waitFor();

    // The key works against the API, for what it may do.
    const tenantId = (await gql(stack, `{ viewer { tenant { id } } }`, {}, secret)).data;
    expect(tenantId?.viewer ?? null).toBeNull();
    const customers = await gql(stack, `{ customers { totalCount } }`, {}, secret);
    expect(customers.data?.customers).toEqual({ totalCount: 0 });

    await shown.getByRole("button", { name: "Done" }).click();
    await expect.poll(() => page.getByTestId("integration-secret").count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    const item = page.getByRole("listitem", { name: "API key PSA sync" });
    await item.getByRole("button", { name: "Revoke API key PSA sync" }).click();
    await item.getByRole("button", { name: "Revoke key" }).click();
    await page.getByRole("status").filter({ hasText: "Revoked API key PSA sync." }).waitFor();
    await item.getByText("Revoked").waitFor();
    const refused = await gql(stack, `{ customers { totalCount } }`, {}, secret);
    expect(refused.data?.customers ?? null).toBeNull();
  });

  test("creates a webhook, shows its deliveries, replays one, edits and deletes it", async () => {
    const form = page.getByRole("form", { name: "New webhook" });
    await form.getByLabel("Endpoint URL").fill(receiverUrl);
    await form.getByLabel("Description (optional)").fill("SIEM collector");
    await form.getByLabel("Audit log entries").check();
    await form.getByRole("button", { name: "Create webhook" }).click();
    const shown = page.getByRole("region", { name: "New webhook secret" });
    expect(await shown.getByTestId("integration-secret").textContent()).toMatch(/^whsec_/);
    await shown.getByRole("button", { name: "Done" }).click();

    // Its own creation is an audit entry: the first delivery.
    await expect.poll(() => received.filter((r) => r.body.includes("webhook.created")).length, { timeout: 20_000 }).toBe(1);
    const first = received.find((r) => r.body.includes("webhook.created"))!;
    expect(first.headers["webhook-signature"]).toMatch(/^v1,/);

    const item = page.getByRole("listitem", { name: `Webhook ${receiverUrl}` });
    await item.getByRole("button", { name: "Deliveries" }).click();
    const log = item.getByRole("table", { name: "Deliveries" });
    await expect
      .poll(async () => {
        await item.getByRole("button", { name: "Refresh" }).click();
        return log.getByRole("cell", { name: "Delivered" }).count();
      }, { timeout: 20_000 })
      .toBeGreaterThan(0);
    await log.getByRole("cell", { name: "204" }).first().waitFor();
    await expectAccessible(page, "a webhook's delivery log");

    await log.getByRole("button", { name: `Replay delivery ${first.headers["webhook-id"]}` }).click();
    await item.getByRole("status").filter({ hasText: "Queued again." }).waitFor();
    await expect.poll(() => received.filter((r) => r.headers["webhook-id"] === first.headers["webhook-id"]).length, { timeout: 20_000 }).toBe(2);

    await item.getByRole("button", { name: "Edit" }).click();
    const edit = item.getByRole("form", { name: `Edit webhook ${receiverUrl}` });
    await edit.getByLabel("Desktop logins").check();
    await edit.getByLabel("Audit log entries").uncheck();
    await edit.getByRole("button", { name: "Save webhook" }).click();
    await item.getByText(/Desktop logins · SIEM collector/).waitFor();

    await item.getByRole("button", { name: "Disable" }).click();
    await item.getByText("Disabled", { exact: true }).waitFor();

    await item.getByRole("button", { name: `Delete webhook ${receiverUrl}` }).click();
    await item.getByRole("button", { name: "Delete webhook" }).click();
    await page.getByText("No webhooks yet.").waitFor();
    expect(pageErrors).toEqual([]);
  });
});
