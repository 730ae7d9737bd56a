// QR sign-in and phone onboarding end to end: the real API, the built portal in Debian's
// Chromium, and the reference mobile authenticator (@latchkey/mobile) as the phone.
// Nothing is mocked; the phone reads the QR payload from the page, as a person who
// cannot scan would.
import { randomBytes } from "node:crypto";
import { Authenticator } from "@latchkey/mobile";
import { registerPassword } from "@latchkey/passwords";
import jsQR from "jsqr";
import type { Browser, BrowserContext, Locator, Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PORTAL_OPERATIONS_VERSION } from "../src/gql/operations-version";
import { expectAccessible } from "./accessibility";
import { browserMissing, chromiumPath, launchBrowser } from "./browser";
import { startStack, type Stack } from "./servers";
import { screenshotPath } from "./screenshots";

// A shared PostgreSQL (CI may set DATABASE_URL) keeps earlier runs' tenants: random suffix there.
const suffix = process.env.DATABASE_URL ? `-${randomBytes(3).toString("hex")}` : "";
const msp = {
  slug: `harbor${suffix}`,
  displayName: "Harbor Systems",
  firstName: "Ada",
  lastName: "Brooks",
  email: "ada@harbor.example",
  password: "correct horse battery staple 42",
};

if (browserMissing) console.warn(`phone browser tests skipped: no Chromium at ${chromiumPath}`);

/** Reads the QR code drawn on the page, pixel by pixel, as a phone's camera would. */
async function scanQrImage(qr: Locator): Promise<string | null> {
  const size = 320;
  const rgba = await qr.evaluate(async (svg, size) => {
    const copy = svg.cloneNode(true) as SVGSVGElement;
    copy.setAttribute("width", String(size));
    copy.setAttribute("height", String(size));
    const image = new Image();
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(copy))}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext("2d")!;
    context.drawImage(image, 0, 0, size, size);
    // Base64 crosses to the test far faster than an array of 400,000 numbers.
    const bytes = context.getImageData(0, 0, size, size).data;
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }, size);
  return jsQR(new Uint8ClampedArray(Buffer.from(rgba, "base64")), size, size)?.data ?? null;
}

/** Whether `locator` has the keyboard focus (after React has moved it there). */
function hasFocus(locator: Locator) {
  return expect.poll(() => locator.evaluate((element) => element === document.activeElement)).toBe(true);
}

/** The payload as the page shows it under "Can't scan?", checked against the QR image itself. */
async function readQrPayload(scope: Page | Locator, qrName: RegExp): Promise<string> {
  const qr = scope.getByRole("img", { name: qrName });
  await qr.waitFor();
  const payload = (await scope.getByTestId("qr-payload").textContent())?.trim() ?? "";
  expect(payload).toMatch(/^lk1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{22,}$/);
  expect(await scanQrImage(qr)).toBe(payload);
  return payload;
}

function statusOf(scope: Page | Locator, text: string) {
  return scope.getByRole("status").filter({ hasText: text });
}

describe.skipIf(browserMissing)("QR sign-in and phone onboarding", () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let phone: Authenticator;
  const requestedUrls: string[] = [];
  const webSocketUrls: string[] = [];
  const framesSent: string[] = [];
  const graphqlPosts: string[] = [];
  const pageErrors: string[] = [];
  /** How often the page asked for a challenge's state over HTTP (`query ChallengeState`). */
  let challengeRequeries = 0;
  /** Every watch token, redeem secret and QR payload the API handed to the page. */
  const secrets: string[] = [];
  const pendingResponses: Promise<unknown>[] = [];

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("request", (request) => {
      requestedUrls.push(request.url());
      if (request.method() === "POST" && new URL(request.url()).pathname === "/graphql") graphqlPosts.push(request.postData() ?? "");
      // The portal sends registered operations by name and hash, not their text.
      if (request.postData()?.includes('"operationName":"ChallengeState"')) challengeRequeries += 1;
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("websocket", (socket) => {
      webSocketUrls.push(socket.url());
      socket.on("framesent", (frame) => framesSent.push(String(frame.payload)));
    });
    page.on("response", (response) => {
      const body = response.request().postData() ?? "";
      if (!/"operationName":"(StartLoginChallenge|StartDeviceOnboarding)"/.test(body)) return;
      pendingResponses.push(
        response.json().then((json: { data?: Record<string, Record<string, string>> }) => {
          for (const result of Object.values(json.data ?? {})) {
            for (const key of ["watchToken", "redeemSecret", "qrPayload"]) if (result[key]) secrets.push(result[key]);
          }
        }),
      );
    });
    phone = await Authenticator.create({ apiUrl: `${stack.apiUrl}/graphql` });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("signs up an MSP and lists its admin on the team page", async () => {
    await page.goto(`${stack.webUrl}/signup`);
    await page.getByLabel("Company name").fill(msp.displayName);
    await page.getByLabel("Tenant slug").fill(msp.slug);
    await page.getByLabel("First name").fill(msp.firstName);
    await page.getByLabel("Last name").fill(msp.lastName);
    await page.getByLabel("Email").fill(msp.email);
    await page.getByLabel("Password").fill(msp.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${stack.webUrl}/customers`);

    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Team" }).click();
    await page.waitForURL(`${stack.webUrl}/team`);
    await page.getByRole("heading", { name: "Team", exact: true }).waitFor();
    expect(await page.getByRole("link", { name: "Team" }).getAttribute("aria-current")).toBe("page");
    const admin = page.getByRole("listitem", { name: /Ada Brooks/ });
    await admin.getByText("No phone linked yet.").waitFor();
    await admin.getByText(msp.email).waitFor();
  });

  test("onboards the admin's phone from the QR code in the dialog", async () => {
    const admin = page.getByRole("listitem", { name: /Ada Brooks/ });
    await admin.getByRole("button", { name: "Onboard phone" }).click();
    const dialog = page.getByRole("dialog", { name: "Onboard a phone for Ada Brooks" });
    await dialog.waitFor();
    await statusOf(dialog, "Waiting for the phone to scan the code").waitFor();
    await dialog.getByRole("timer").filter({ hasText: /Code expires in \d:\d\d/ }).waitFor();
    const payload = await readQrPayload(dialog, /QR code to link a phone to Ada Brooks/);
    await expectAccessible(page, "the team page with the onboarding dialog open");

    // The phone proves the admin's email, then scans the code shown for the admin.
    await phone.requestEmailVerification(msp.email);
    await phone.verifyEmail(msp.email, await stack.emailedCode(msp.email), "Test phone");
    await phone.onboard(payload);

    await statusOf(dialog, "Phone linked").waitFor();
    // The list behind the dialog has refreshed: the new authenticator is there.
    await admin.getByRole("list", { name: "Phones of Ada Brooks" }).getByText("Test phone").waitFor();
    expect(await admin.getByText("No phone linked yet.").count()).toBe(0);

    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "hidden" });
    // Focus goes back to where the dialog was opened from.
    await hasFocus(admin.getByRole("button", { name: "Onboard phone" }));
    await statusOf(page, "Linked a phone to Ada Brooks.").waitFor();
  });

  test("fits a phone's screen on the team page", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      await page.getByRole("listitem", { name: /Ada Brooks/ }).getByText("Test phone").waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  test("the owner approves her own first phone, which waits as every MSP user's does", async () => {
    const admin = page.getByRole("listitem", { name: /Ada Brooks/ });
    await admin.getByText("Waiting for approval", { exact: true }).waitFor();
    expect((await phone.list()).map((record) => record.status)).toEqual(["PENDING_APPROVAL"]);
    // She has no other approved phone: her own approval is the only one there can be.
    await admin.getByRole("button", { name: "Approve phone of Ada Brooks" }).click();
    const confirm = admin.getByRole("button", { name: "Approve phone", exact: true });
    await hasFocus(confirm);
    await confirm.click();
    await statusOf(page, "Approved Test phone of Ada Brooks.").waitFor();
    await expect.poll(() => admin.getByText("Waiting for approval").count()).toBe(0);
    expect((await phone.list()).map((record) => record.status)).toEqual(["ACTIVE"]);
  });

  test("signs in with the phone: QR on /login/phone, approve, straight to /customers", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${stack.webUrl}/login`);

    // The password form passes the tenant it was given on to the phone sign-in.
    await page.getByLabel("Tenant").fill(msp.slug);
    await page.getByRole("link", { name: "Log in with your phone" }).click();
    await page.waitForURL(`${stack.webUrl}/login/phone?tenant=${msp.slug}`);
    await page.getByRole("heading", { name: "Log in with your phone" }).waitFor();
    expect(await page.getByLabel("Tenant").inputValue()).toBe(msp.slug);
    await page.getByRole("button", { name: "Show QR code" }).click();

    await statusOf(page, "Scan with the Latchkey authenticator").waitFor();
    await page.getByRole("timer").filter({ hasText: /Code expires in \d:\d\d/ }).waitFor();
    const payload = await readQrPayload(page, new RegExp(`QR code to sign in to ${msp.slug}`));

    await page.mouse.move(0, 0);
    await page.screenshot({ path: await screenshotPath("qr-login.png"), fullPage: true });
    await expectAccessible(page, "the phone log-in page with its QR code");

    // Anything that reloads the page would drop this marker.
    await page.evaluate(() => Object.assign(window, { __stillTheSamePage: true }));

    const scan = await phone.scan(payload);
    expect(scan.tenant.slug).toBe(msp.slug);
    expect(scan.requesterKind).toBe("BROWSER");
    await statusOf(page, "Approve on your phone").waitFor();

    await phone.approve(payload);
    await page.waitForURL(`${stack.webUrl}/customers`);
    await page.getByRole("heading", { name: "Customers", exact: true }).waitFor();
    await page.getByText("No customers yet").waitFor();
    expect(await page.evaluate(() => (window as { __stillTheSamePage?: boolean }).__stillTheSamePage)).toBe(true);

    const cookies = await context.cookies(`${stack.apiUrl}/graphql`);
    expect(cookies.length).toBeGreaterThan(0);
    expect(cookies.every((cookie) => cookie.httpOnly)).toBe(true);
  });

  test("shows a denial, and a fresh code on Try again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${stack.webUrl}/login`);
    await page.goto(`${stack.webUrl}/login/phone?tenant=${msp.slug}`);
    await page.getByRole("button", { name: "Show QR code" }).click();
    const qrName = new RegExp(`QR code to sign in to ${msp.slug}`);
    const first = await readQrPayload(page, qrName);

    await phone.deny(first);
    await statusOf(page, "Sign-in was denied").waitFor();
    expect(await page.getByRole("img", { name: qrName }).count()).toBe(0);
    const tryAgain = page.getByRole("button", { name: "Try again" });
    await tryAgain.waitFor();
    await hasFocus(tryAgain);

    await tryAgain.click();
    await statusOf(page, "Scan with the Latchkey authenticator").waitFor();
    const second = await readQrPayload(page, qrName);
    expect(second).not.toBe(first);
    expect(page.url()).toBe(`${stack.webUrl}/login/phone?tenant=${msp.slug}`);
  });

  test("withdraws its code when the user changes tenant or leaves, so a relayed copy is worthless", async () => {
    await page.goto(`${stack.webUrl}/login/phone?tenant=${msp.slug}`);
    const qrName = new RegExp(`QR code to sign in to ${msp.slug}`);
    await page.getByRole("button", { name: "Show QR code" }).click();
    const changed = await readQrPayload(page, qrName);
    await page.getByRole("button", { name: "Change tenant" }).click();
    await page.getByRole("button", { name: "Show QR code" }).click();
    const left = await readQrPayload(page, qrName);
    await page.getByRole("link", { name: /password/i }).first().click();
    await page.waitForURL(`${stack.webUrl}/login`);
    for (const payload of [changed, left]) {
      await expect.poll(() => phone.scan(payload).then(() => "scanned", (error: { code?: string }) => error.code)).toBe("CONFLICT");
    }
  });

  test("catches an approval made while the WebSocket was down", async () => {
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/graphql$/, (socket) => {
      sockets.push(socket);
      socket.connectToServer();
    });
    try {
      await page.goto(`${stack.webUrl}/login/phone?tenant=${msp.slug}`);
      await page.getByRole("button", { name: "Show QR code" }).click();
      const payload = await readQrPayload(page, new RegExp(`QR code to sign in to ${msp.slug}`));
      await expect.poll(() => sockets.length).toBe(1);
      const requeriesBefore = challengeRequeries;

      // The connection drops (a restart, a load balancer), and the phone approves before the
      // portal is back: the push is lost, so the portal must ask when it reconnects.
      await sockets[0]!.close({ code: 1012, reason: "Service restart" });
      await phone.approve(payload);

      await page.waitForURL(`${stack.webUrl}/customers`, { timeout: 30_000 });
      // It reconnected, and asked for the state it may have missed.
      expect(sockets.length).toBeGreaterThan(1);
      expect(challengeRequeries).toBeGreaterThan(requeriesBefore);
      await page.getByRole("heading", { name: "Customers", exact: true }).waitFor();
    } finally {
      await page.unrouteAll();
    }
  });

  test("a second phone waits for the first one's approval, given on Your account after signing in with her password and the first", async () => {
    // Ada links a second phone with her own code: she has an approved one, so it waits.
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Team" }).click();
    await page.getByRole("listitem", { name: /Ada Brooks/ }).getByRole("button", { name: "Onboard phone" }).click();
    const dialog = page.getByRole("dialog", { name: "Onboard a phone for Ada Brooks" });
    const onboarding = await readQrPayload(dialog, /QR code to link a phone to Ada Brooks/);
    const second = await Authenticator.create({ apiUrl: `${stack.apiUrl}/graphql` });
    await second.requestEmailVerification(msp.email);
    await second.verifyEmail(msp.email, await stack.emailedCode(msp.email), "Second phone");
    expect((await second.onboard(onboarding)).authenticator.status).toBe("PENDING_APPROVAL");
    await statusOf(dialog, "Phone linked").waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();

    // Her password (in another browser) is not enough: the MSP asks for her approved phone.
    const passwordContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const passwordPage = await passwordContext.newPage();
      passwordPage.setDefaultTimeout(15_000);
      passwordPage.on("pageerror", (error) => pageErrors.push(error.message));
      await passwordPage.goto(`${stack.webUrl}/login`);
      await passwordPage.getByLabel("Tenant").fill(msp.slug);
      await passwordPage.getByLabel("Email or username").fill(msp.email);
      await passwordPage.getByLabel("Password").fill(msp.password);
      await passwordPage.getByRole("button", { name: "Sign in" }).click();
      await passwordPage.getByRole("heading", { name: "Approve on your phone" }).waitFor();
      await expectAccessible(passwordPage, "the phone step after a password");
      expect(await passwordContext.cookies()).toEqual([]);
      // The waiting phone may not approve it, nor may any phone but her approved one.
      const stepUp = await readQrPayload(passwordPage, new RegExp(`QR code to sign in to ${msp.slug}`));
      await expect(second.approve(stepUp)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await phone.approve(stepUp);
      await passwordPage.waitForURL(`${stack.webUrl}/customers`);

      // Signed in with her password and her first phone, she approves the second.
      await passwordPage.goto(`${stack.webUrl}/sessions`);
      await passwordPage.getByText(/with a password and the phone/).waitFor();
      await passwordPage.goto(`${stack.webUrl}/account`);
      const phones = passwordPage.getByRole("list", { name: "Your phones" });
      const waiting = phones.getByRole("listitem", { name: "Second phone" });
      await waiting.getByText("Waiting for approval", { exact: true }).waitFor();
      await waiting.getByRole("button", { name: "Approve Second phone" }).click();
      const confirm = waiting.getByRole("button", { name: "Approve phone", exact: true });
      await hasFocus(confirm);
      await expectAccessible(passwordPage, "Your account, approving a phone that waits for approval");
      await confirm.click();
      await expect.poll(() => waiting.getByText("Waiting for approval").count()).toBe(0);
      expect((await second.list()).find((record) => record.id === second.deviceId)?.status).toBe("ACTIVE");

      // Revoked again, so that the first phone is her only one.
      await waiting.getByRole("button", { name: "Revoke Second phone" }).click();
      await waiting.getByRole("button", { name: "Revoke phone" }).click();
      await expect.poll(() => phones.getByRole("listitem", { name: "Second phone" }).count()).toBe(0);
    } finally {
      await passwordContext.close();
    }
  });

  test("revokes the phone on the team page, after which it can approve nothing", async () => {
    await page.getByRole("link", { name: "Team" }).click();
    await page.waitForURL(`${stack.webUrl}/team`);
    const admin = page.getByRole("listitem", { name: /Ada Brooks/ });
    await admin.getByRole("button", { name: "Revoke Test phone" }).click();
    const confirm = admin.getByRole("button", { name: "Revoke phone" });
    await hasFocus(confirm);
    await confirm.click();
    await admin.getByText("No phone linked yet.").waitFor();
    await statusOf(page, "Revoked Test phone of Ada Brooks.").waitFor();
    await expect(phone.list()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  test("a technician who signs in only with their phone sets a first password, then signs in with it and the phone", async () => {
    const tom = { email: "tom@harbor.example", password: "quarry Lilac steamer 612" };
    await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Team" }).click();
    const form = page.getByRole("form", { name: "Add a technician" });
    await form.getByLabel("Email", { exact: true }).fill(tom.email);
    await form.getByLabel("First name").fill("Tom");
    await form.getByLabel("Last name").fill("Reyes");
    await form.getByRole("button", { name: "Add technician" }).click();
    const row = page.getByRole("listitem", { name: /Tom Reyes/ });
    await row.getByRole("button", { name: "Onboard phone" }).click();
    const dialog = page.getByRole("dialog", { name: "Onboard a phone for Tom Reyes" });
    const onboarding = await readQrPayload(dialog, /QR code to link a phone to Tom Reyes/);
    const tomsPhone = await Authenticator.create({ apiUrl: `${stack.apiUrl}/graphql` });
    await tomsPhone.requestEmailVerification(tom.email);
    await tomsPhone.verifyEmail(tom.email, await stack.emailedCode(tom.email), "Tom's phone");
    await tomsPhone.onboard(onboarding);
    await statusOf(dialog, "Phone linked").waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();

    const tomContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const tomPage = await tomContext.newPage();
      tomPage.setDefaultTimeout(15_000);
      tomPage.on("pageerror", (error) => pageErrors.push(error.message));
      await tomPage.goto(`${stack.webUrl}/login/phone?tenant=${msp.slug}`);
      await tomPage.getByRole("button", { name: "Show QR code" }).click();
      const login = await readQrPayload(tomPage, new RegExp(`QR code to sign in to ${msp.slug}`));
      await tomsPhone.scan(login);
      await tomsPhone.approve(login);
      await tomPage.waitForURL(`${stack.webUrl}/customers`);

      await tomPage.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "Sessions" }).click();
      const setPassword = tomPage.getByRole("form", { name: "Set a password" });
      expect(await setPassword.getByLabel("Current password").count()).toBe(0);
      await setPassword.getByLabel("New password", { exact: true }).fill(tom.password);
      await setPassword.getByLabel("Repeat the new password").fill(tom.password);
      await setPassword.getByRole("button", { name: "Set password" }).click();
      await statusOf(tomPage, "Password set.").waitFor();
      // From now on the form asks for the current password.
      await tomPage.getByRole("form", { name: "Change your password" }).getByLabel("Current password").waitFor();
      await expectAccessible(tomPage, "the sessions page after setting a first password");

      await tomPage.getByRole("button", { name: "Sign out" }).click();
      await tomPage.waitForURL(`${stack.webUrl}/login`);
      await tomPage.getByLabel("Tenant").fill(msp.slug);
      await tomPage.getByLabel("Email or username").fill(tom.email);
      await tomPage.getByLabel("Password").fill(tom.password);
      await tomPage.getByRole("button", { name: "Sign in" }).click();
      // His phone is approved, so the MSP asks for it after the password.
      await tomsPhone.approve(await readQrPayload(tomPage, new RegExp(`QR code to sign in to ${msp.slug}`)));
      await tomPage.waitForURL(`${stack.webUrl}/customers`);
    } finally {
      await tomContext.close();
    }
  });

  test("sends each operation as its registered hash and the version of its build's manifest, over HTTP and the WebSocket", async () => {
    const subscribes = framesSent.filter((frame) => frame.includes('"type":"subscribe"')).map((frame) => (JSON.parse(frame) as { payload: unknown }).payload);
    const posts = graphqlPosts.map((body) => JSON.parse(body) as unknown);
    expect(posts.length).toBeGreaterThan(0);
    expect(subscribes.length).toBeGreaterThan(0);
    for (const operation of [...posts, ...subscribes]) {
      expect(operation).toMatchObject({ extensions: { persistedQuery: { sha256Hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }, portalOperations: PORTAL_OPERATIONS_VERSION } });
      expect((operation as { query?: string }).query ?? "").toBe("");
    }
  });

  test("talks to no host but the portal and the API, and puts no secret in a URL or storage", async () => {
    await Promise.all(pendingResponses);
    const allowed = new Set([new URL(stack.webUrl).origin, new URL(stack.apiUrl).origin]);
    const elsewhere = requestedUrls.filter((url) => !url.startsWith("data:") && !allowed.has(new URL(url).origin));
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);

    // graphql-ws on the API's own path: nothing in its URL...
    expect(webSocketUrls.length).toBeGreaterThan(0);
    for (const url of webSocketUrls) expect(url).toBe(`${stack.apiUrl.replace(/^http/, "ws")}/graphql`);
    // ...the watch tokens travel inside the subscribe messages instead.
    expect(secrets.length).toBeGreaterThan(0);
    expect(framesSent.some((frame) => frame.includes('"type":"subscribe"') && secrets.some((s) => frame.includes(s)))).toBe(true);

    const secretParts = secrets.flatMap((secret) => secret.split("."));
    const leaked = [...requestedUrls, ...webSocketUrls].filter((url) =>
      secretParts.some((part) => part.length >= 22 && decodeURIComponent(url).includes(part)),
    );
    expect(leaked).toEqual([]);
    const stored = await page.evaluate(() => ({
      local: Object.keys(window.localStorage),
      session: Object.keys(window.sessionStorage),
    }));
    expect(stored).toEqual({ local: [], session: [] });
  });
});

describe.skipIf(browserMissing)("an expiring QR sign-in code, on a phone-sized screen", () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // Codes that live three seconds, so that expiry can be watched happening.
    stack = await startStack({ apiEnv: { CHALLENGE_TTL_SECONDS: "3" } });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("refuses an unknown tenant next to the field", async () => {
    await page.goto(`${stack.webUrl}/login/phone`);
    expect(await page.getByLabel("Tenant").inputValue()).toBe("");
    await page.getByRole("button", { name: "Show QR code" }).click();
    await page.getByText("Enter your tenant's slug").waitFor();
    await page.getByLabel("Tenant").fill("no-such-tenant");
    await page.getByRole("button", { name: "Show QR code" }).click();
    await page.getByText("No tenant has this slug").waitFor();
    expect(await page.getByLabel("Tenant").getAttribute("aria-invalid")).toBe("true");
  });

  test("says when the code expired and shows a new one on request", async () => {
    // Any tenant will do: sign one up through the API, its password registered by OPAQUE.
    const run = async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${stack.apiUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return ((await response.json()) as { data: Record<string, any> }).data;
    };
    const { password, ...owner } = msp;
    const { registrationId } = await registerPassword(run, { password });
    const signedUp = await run(`mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename } }`, {
      input: { ...owner, slug: `expiry${suffix}`, email: "ada@expiry.example", passwordRegistrationId: registrationId },
    });
    expect(signedUp.signUpMsp.__typename).toBe("AuthPayload");

    await page.goto(`${stack.webUrl}/login/phone?tenant=expiry${suffix}`);
    await page.getByRole("button", { name: "Show QR code" }).click();
    const first = (await page.getByTestId("qr-payload").textContent())?.trim();
    await expectAccessible(page, "the phone log-in page with its QR code, on a phone");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);

    await statusOf(page, "The code expired").waitFor();
    expect(await page.getByRole("img", { name: /QR code/ }).count()).toBe(0);
    await page.getByRole("button", { name: "Show a new code" }).click();
    await statusOf(page, "Scan with the Latchkey authenticator").waitFor();
    const second = (await page.getByTestId("qr-payload").textContent())?.trim();
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
    expect(pageErrors).toEqual([]);
  });
});
