// Passwords in the portal end to end, with the key stretching real deployments use (v1:
// Argon2id, 64 MiB): sign-up, log in, a customer user created with a password, an admin's
// reset, and a person changing their own password. Every request the browser sends is kept,
// and no typed password may be in any of them, in any encoding. The real API on an embedded
// database, the built portal, Debian's Chromium; nothing is mocked.
import { generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { generateTenantKeyPair, tenantKeyStatement } from "@latchkey/passwords";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { secretFormsIn } from "./secret-forms";
import { screenshotPath } from "./screenshots";
import { startStack, type Stack } from "./servers";

const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = {
  slug: `harbourline${suffix}`,
  displayName: "Harbourline IT",
  firstName: "Mira",
  lastName: "Castell",
  email: "mira@harbourline.example",
  password: "amber Quill / tundra 58 \"stove\"",
};
const newOwnPassword = "lantern-Gravel ferry%42 ôrchid";
const ola = { email: "ola.berg@fjord.example", username: "ola.berg", firstName: "Ola", lastName: "Berg", password: "cobalt+Pepper wharf 7731" };
const olaReset = "Velvet_thimble & canyon 916";
/** What Ola chooses when the portal asks for her own password after the reset. */
const olaOwn = "harbour Quince-lattice 5087";
const wrongPassword = "Not-the-password 7 quartz";
// On the common-password list, whatever the account.
const weakPassword = "Password2024";
const shortPassword = "short 1";
/** Typed for a reset that must not happen: the server's answer carries a key that is not the customer's. */
const refusedPassword = "orchard Basalt-kettle 6604";
// Refused only because it is made of the person's own username: the form passes it to the check.
const namesPassword = "ola.berg2024";
/** Everything typed into a password field in this file. */
const typed = [msp.password, newOwnPassword, ola.password, olaReset, olaOwn, wrongPassword, weakPassword, shortPassword, namesPassword, refusedPassword];

type Sent = { url: string; method: string; headers: string; body: string };

if (browserMissing) console.warn(`password browser tests skipped: no Chromium at ${chromiumPath}`);

function fieldError(page: Page, label: string) {
  return page.locator(".field", { has: page.getByLabel(label, { exact: true }) }).locator(".field-error");
}

async function signIn(page: Page, webUrl: string, tenant: string, login: string, password: string) {
  await page.goto(`${webUrl}/login`);
  await page.getByLabel("Tenant").fill(tenant);
  await page.getByLabel("Email or username").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe.skipIf(browserMissing)("passwords in the portal (v1 key stretching)", () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const sent: Sent[] = [];
  const answered: string[] = [];
  const workers: string[] = [];
  const pageErrors: string[] = [];

  function record(target: BrowserContext) {
    target.on("request", (request) => {
      sent.push({
        url: request.url(),
        method: request.method(),
        headers: JSON.stringify(request.headers()),
        body: request.postDataBuffer()?.toString("latin1") ?? "",
      });
    });
    target.on("response", async (response) => {
      if (response.url().startsWith(`${stack.apiUrl}/graphql`) && response.request().method() === "POST") {
        answered.push(await response.text().catch(() => ""));
      }
    });
    target.on("page", (opened) => {
      opened.on("worker", (worker) => workers.push(worker.url()));
      opened.on("pageerror", (error) => pageErrors.push(error.message));
      opened.on("websocket", (socket) =>
        socket.on("framesent", ({ payload }) => sent.push({ url: socket.url(), method: "WS", headers: "", body: String(payload) })),
      );
    });
  }

  /** The bodies of the GraphQL operations named `name` sent so far. */
  const operations = (name: string) => sent.filter((request) => request.body.includes(`"operationName":"${name}"`));

  beforeAll(async () => {
    stack = await startStack({ apiEnv: { PASSWORD_KSF: "v1" } });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    record(context);
    page = await context.newPage();
    // Each password step stretches with Argon2id (64 MiB, 3 passes) in the browser's worker.
    page.setDefaultTimeout(60_000);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("signs up: a weak password is refused in the browser, before anything is sent", async () => {
    await page.goto(`${stack.webUrl}/signup`);
    await page.getByLabel("Company name").fill(msp.displayName);
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill(msp.firstName);
    await page.getByLabel("Last name").fill(msp.lastName);
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(weakPassword);
    await page.getByRole("button", { name: "Create account" }).click();
    await fieldError(page, "Password").filter({ hasText: /commonly used password/ }).waitFor();
    expect(await page.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Password").fill(shortPassword);
    await page.getByRole("button", { name: "Create account" }).click();
    await fieldError(page, "Password").filter({ hasText: "Use at least 10 characters" }).waitFor();
    expect(operations("StartPasswordRegistration")).toEqual([]);
    expect(operations("SignUpMsp")).toEqual([]);

    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);
    expect(operations("StartPasswordRegistration")).toHaveLength(1);
    expect(operations("FinishPasswordRegistration")).toHaveLength(1);
    expect(operations("SignUpMsp")).toHaveLength(1);
    // The API asked for the real profile, and the work ran in a worker served by the portal.
    expect(answered.some((body) => body.includes('"ksf":"v1"'))).toBe(true);
    expect(workers.length).toBeGreaterThan(0);
    expect(workers.every((url) => new URL(url).origin === new URL(stack.webUrl).origin)).toBe(true);
  });

  test("creates a customer user with a password and resets it", async () => {
    await page.getByLabel("Name", { exact: true }).fill("fjord");
    await page.getByLabel("Display name").fill("Fjord Shipping");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("link", { name: "Fjord Shipping", exact: true }).click();
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/);

    const form = page.getByRole("form", { name: "New user" });
    await form.getByLabel("Email", { exact: true }).fill(ola.email);
    await form.getByLabel("First name").fill(ola.firstName);
    await form.getByLabel("Last name").fill(ola.lastName);
    await form.getByLabel("Role").selectOption("ADMIN");
    await form.getByLabel("Password (optional)").fill(ola.password);
    await form.getByRole("button", { name: "Add user" }).click();
    await form.getByRole("status").filter({ hasText: "Added Ola Berg (ola.berg)." }).waitFor();
    // A customer's user: the browser sealed the password to the customer's key.
    const sealed = operations("FinishPasswordRegistration").at(-1)!.body;
    expect(JSON.parse(sealed).variables.input.sealedPassword).toMatchObject({ suite: expect.any(String), enc: expect.any(String) });

    const row = page.getByRole("listitem", { name: /Ola Berg/ });
    await row.getByRole("button", { name: "Reset password of Ola Berg" }).click();
    const reset = page.getByRole("dialog", { name: "New password for Ola Berg" });
    await reset.getByLabel("New password", { exact: true }).fill(namesPassword);
    await reset.getByLabel("Repeat the new password").fill(namesPassword);
    await reset.getByRole("button", { name: "Set password" }).click();
    await reset.locator(".field-error").filter({ hasText: /personal/ }).waitFor();
    await reset.getByLabel("New password", { exact: true }).fill(olaReset);
    await reset.getByLabel("Repeat the new password").fill(olaReset);
    await reset.getByRole("button", { name: "Set password" }).click();
    await reset.waitFor({ state: "hidden" });
    await page.getByRole("status").filter({ hasText: "Set a new password for Ola Berg." }).waitFor();
  });

  test("refuses to seal a password to a key the server's answer substituted, one signed by another signing key than it pinned, a holder added, or an older epoch", async () => {
    // Sealing to the customer's key pinned its signing key in this browser.
    const pins = await page.evaluate(() => JSON.parse(window.localStorage.getItem("latchkey.tenantKeys") ?? "{}"));
    const customerId = page.url().split("/customers/")[1]!.split("/")[0]!;
    expect(pins[customerId]).toMatchObject({ tenantId: customerId, epoch: 1, signingKey: expect.any(String) });

    const substitute = (await generateTenantKeyPair()).publicKey;
    const server = generateKeyPairSync("ed25519");
    type Forgery = { forge: (key: { statement: string; signature: string; publicKey: string }) => { statement: string; signature: string }; refused: RegExp; pinnedEpoch?: number };
    const forgeries: Forgery[] = [
      // The key swapped in the statement as it is: its signature no longer holds.
      { forge: (key) => ({ statement: key.statement.replace(key.publicKey, substitute), signature: key.signature }), refused: /not signed by the tenant's signing key/ },
      // A whole statement signed afresh by a key the server made: it verifies, but is not the pinned signing key.
      {
        forge: () => {
          const statement = tenantKeyStatement({ tenantId: customerId, epoch: 1, publicKey: substitute, signingKey: server.publicKey.export({ format: "jwk" }).x!, custody: "ESCROW" });
          return { statement, signature: sign(null, Buffer.from(statement), server.privateKey).toString("base64url") };
        },
        refused: /another signing key than the one seen before/,
      },
      // A holder of the server's own added to the signed statement.
      { forge: (key) => ({ statement: `${key.statement}\nholder PHONE ${randomUUID()} ${substitute}`, signature: key.signature }), refused: /malformed|not signed/ },
      // The customer's own statement, unchanged, to a browser that has seen a later epoch (a restored database answers so).
      { forge: (key) => key, refused: /epoch 1 is older than epoch 2/, pinnedEpoch: 2 },
    ];
    const row = page.getByRole("listitem", { name: /Ola Berg/ });
    for (const { forge, refused, pinnedEpoch } of forgeries) {
      if (pinnedEpoch) {
        await page.evaluate(([id, epoch]) => {
          const stored = JSON.parse(window.localStorage.getItem("latchkey.tenantKeys") ?? "{}");
          stored[id as string] = { ...stored[id as string], epoch };
          window.localStorage.setItem("latchkey.tenantKeys", JSON.stringify(stored));
        }, [customerId, pinnedEpoch] as const);
      }
      await page.route((url) => url.pathname === "/graphql", async (route) => {
        if (!route.request().postData()?.includes('"operationName":"StartPasswordRegistration"')) return route.fallback();
        const response = await route.fetch();
        const body = await response.json();
        const started = body.data.startPasswordRegistration;
        // The statement's fifth line is the public key it names.
        started.tenantKey = forge({ ...started.tenantKey, publicKey: started.tenantKey.statement.split("\n")[4] });
        await route.fulfill({ response, json: body });
      });
      const finishes = operations("FinishPasswordRegistration").length;
      await row.getByRole("button", { name: "Reset password of Ola Berg" }).click();
      const reset = page.getByRole("dialog", { name: "New password for Ola Berg" });
      await reset.getByLabel("New password", { exact: true }).fill(refusedPassword);
      await reset.getByLabel("Repeat the new password").fill(refusedPassword);
      await reset.getByRole("button", { name: "Set password" }).click();
      await reset.getByText(refused).waitFor();
      expect(operations("FinishPasswordRegistration").length).toBe(finishes);
      await reset.getByRole("button", { name: "Close" }).click();
      await page.unrouteAll({ behavior: "wait" });
      if (pinnedEpoch) await page.evaluate((saved) => window.localStorage.setItem("latchkey.tenantKeys", JSON.stringify(saved)), pins);
    }
    // The pin is the customer's own key still.
    expect(await page.evaluate(() => JSON.parse(window.localStorage.getItem("latchkey.tenantKeys") ?? "{}"))).toEqual(pins);
  });

  test("the customer's admin signs in with the password set by the reset, not the first one, and must choose her own first", async () => {
    const other = await browser.newContext();
    record(other);
    try {
      const olaPage = await other.newPage();
      olaPage.setDefaultTimeout(60_000);
      await signIn(olaPage, stack.webUrl, `fjord-${msp.slug}`, ola.username, ola.password);
      await olaPage.locator(".form-problem").filter({ hasText: "Incorrect tenant, login or password" }).waitFor();
      await signIn(olaPage, stack.webUrl, `fjord-${msp.slug}`, ola.username, olaReset);
      // The reset asked for her own password at the next sign-in: nothing else opens until she chooses it.
      await olaPage.waitForURL(`${stack.webUrl}/sessions`);
      const notice = olaPage.getByRole("alert").filter({ hasText: "Your admin set your password" });
      await notice.waitFor();
      await olaPage.goto(`${stack.webUrl}/customers`);
      await olaPage.waitForURL(`${stack.webUrl}/sessions`);
      const form = olaPage.getByRole("form", { name: "Change your password" });
      await form.getByLabel("Current password").fill(olaReset);
      await form.getByLabel("New password", { exact: true }).fill(olaOwn);
      await form.getByLabel("Repeat the new password").fill(olaOwn);
      await form.getByRole("button", { name: "Change password" }).click();
      await notice.waitFor({ state: "detached" });
      await olaPage.goto(`${stack.webUrl}/`);
      await olaPage.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    } finally {
      await other.close();
    }
  });

  test("changes your own password: the current one is proved, the other sessions end", async () => {
    const other = await browser.newContext();
    record(other);
    try {
      const otherPage = await other.newPage();
      otherPage.setDefaultTimeout(60_000);
      await signIn(otherPage, stack.webUrl, msp.slug, msp.email, msp.password);
      await otherPage.waitForURL(`${stack.webUrl}/customers`);

      await page.goto(`${stack.webUrl}/sessions`);
      const form = page.getByRole("form", { name: "Change your password" });
      await expect.poll(() => page.getByRole("list", { name: "Your sessions" }).getByRole("listitem").count()).toBe(2);
      await form.getByLabel("Current password").fill(wrongPassword);
      await form.getByLabel("New password", { exact: true }).fill(newOwnPassword);
      await form.getByLabel("Repeat the new password").fill(newOwnPassword);
      await form.getByRole("button", { name: "Change password" }).click();
      await fieldError(page, "Current password").filter({ hasText: "Your current password is not correct" }).waitFor();
      await expectAccessible(page, "the sessions page with a wrong current password");

      await form.getByLabel("Current password").fill(msp.password);
      await form.getByRole("button", { name: "Change password" }).click();
      await form.getByRole("status").filter({ hasText: "Password changed." }).waitFor();
      await page.getByText("This is your only session.").waitFor();
      expect(await form.getByLabel("New password", { exact: true }).inputValue()).toBe("");
      await page.mouse.move(0, 0);
      await page.screenshot({ path: await screenshotPath("change-password.png"), fullPage: true });
      await expectAccessible(page, "the sessions page after a password change");
      expect(operations("SetUserPassword").map((request) => Object.keys(JSON.parse(request.body).variables.input).sort())).toContainEqual([
        "currentPasswordLogin",
        "passwordRegistrationId",
        "userId",
      ]);

      await otherPage.goto(`${stack.webUrl}/customers`);
      await otherPage.waitForURL(`${stack.webUrl}/login`);
      await signIn(otherPage, stack.webUrl, msp.slug, msp.email, msp.password);
      await otherPage.locator(".form-problem").filter({ hasText: "Incorrect tenant, login or password" }).waitFor();
      await signIn(otherPage, stack.webUrl, msp.slug, msp.email, newOwnPassword);
      await otherPage.waitForURL(`${stack.webUrl}/customers`);
    } finally {
      await other.close();
    }
  });

  test("recorded every password flow, so the search below has something to search", () => {
    for (const name of ["StartPasswordLogIn", "FinishPasswordLogIn", "StartPasswordRegistration", "FinishPasswordRegistration", "SignUpMsp", "CreateUser", "SetUserPassword"]) {
      expect(operations(name).length, name).toBeGreaterThan(0);
    }
  });

  test("sent no typed password in any request, in any encoding, and no operation that takes one in clear", () => {
    const found = sent.flatMap((request) =>
      typed.flatMap((password) => {
        const forms = secretFormsIn(`${request.url}\n${request.headers}\n${request.body}`, password);
        return forms.length > 0 ? [`${request.method} ${request.url}: ${forms.join(", ")} of ${JSON.stringify(password)}`] : [];
      }),
    );
    expect(found).toEqual([]);
    expect(operations("LogIn")).toEqual([]);
    expect(sent.filter((request) => /"(currentPassword|password)":/.test(request.body)).map((request) => request.body)).toEqual([]);
  });

  test("talks to no host but the portal and the API, without uncaught errors", () => {
    const allowed = new Set([new URL(stack.webUrl).origin, new URL(stack.apiUrl).origin, new URL(stack.apiUrl.replace(/^http/, "ws")).origin]);
    const elsewhere = sent.map((request) => request.url).filter((url) => !url.startsWith("data:") && !allowed.has(new URL(url).origin));
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
