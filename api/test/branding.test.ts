// Customer desktop settings and login-screen branding, through the real API:
// settings round trip, who may change them, image uploads (what is accepted,
// re-encoded and how it is served) and everything that must be refused.
import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./harness.ts";
import { pngChunk, pngClaiming, withChunk } from "./png.ts";
import { seed, type CustomerSeed, type MspSeed } from "./seed.ts";

let api: Api;
let msp: MspSeed;
let customer: CustomerSeed;
beforeAll(async () => {
  api = await Api.start();
  msp = await seed(api).msp();
  customer = await msp.customer();
});
afterAll(() => api?.stop());

const ERRORS = `... on Error { code message } ... on ValidationError { fields { path message } }`;
const IMAGE = `url hash contentType width height`;
const SETTINGS = `desktopSettings { desktopLoginEnabled method passwordFallback branding { text background { ${IMAGE} } logo { ${IMAGE} } } }`;

const UPDATE = `mutation($input: UpdateDesktopSettingsInput!) { updateDesktopSettings(input: $input) { __typename
  ... on UpdateDesktopSettingsPayload { tenant { id ${SETTINGS} } } ${ERRORS} } }`;
const UPLOAD = `mutation($input: UploadBrandingImageInput!) { uploadBrandingImage(input: $input) { __typename
  ... on UploadBrandingImagePayload { tenant { id ${SETTINGS} } } ${ERRORS} } }`;
const REMOVE = `mutation($input: RemoveBrandingImageInput!) { removeBrandingImage(input: $input) { __typename
  ... on RemoveBrandingImagePayload { tenant { id ${SETTINGS} } } ${ERRORS} } }`;

type Upload = { status: number; result: Record<string, any> | null; raw: string };

/** A GraphQL multipart request, as the portal sends it (with yoga's CSRF header). */
async function upload(
  token: string | null,
  input: { tenantId: string; kind: "BACKGROUND" | "LOGO" },
  bytes: Uint8Array,
  file: { name?: string; type?: string } = {},
): Promise<Upload> {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query: UPLOAD, variables: { input: { ...input, image: null } } }));
  form.append("map", JSON.stringify({ 0: ["variables.input.image"] }));
  form.append("0", new File([bytes as Uint8Array<ArrayBuffer>], file.name ?? "image.png", { type: file.type ?? "image/png" }));
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "x-graphql-yoga-csrf": "1", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: form,
  });
  const raw = await response.text();
  let result: Record<string, any> | null = null;
  try {
    const body = JSON.parse(raw);
    // A request refused as a whole (413) is returned for its status; errors in an answered one are a failure.
    if (body.errors?.length && response.ok) throw new Error(`GraphQL errors: ${raw}`);
    result = body.data?.uploadBrandingImage ?? null;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  return { status: response.status, result, raw };
}

async function uploaded(token: string, tenantId: string, kind: "BACKGROUND" | "LOGO", bytes: Uint8Array, file?: { name?: string; type?: string }) {
  const { result, raw } = await upload(token, { tenantId, kind }, bytes, file);
  if (result?.__typename !== "UploadBrandingImagePayload") throw new Error(`upload failed: ${raw}`);
  return result.tenant.desktopSettings.branding as { text: string | null; background: any; logo: any };
}

/** A tiny PNG with a colour of its own, so tests do not share hashes by accident. */
function solid(width: number, height: number, seedValue: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: seedValue % 256, g: (seedValue * 7) % 256, b: 90 } } });
}

let colour = 1;
const nextColour = () => (colour += 13);

/** A real JPEG whose SOF0 header is rewritten to claim `width` × `height`. */
async function jpegClaiming(width: number, height: number) {
  const jpeg = await solid(8, 8, nextColour()).jpeg().toBuffer();
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(height, sof + 5);
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

async function brandingState(tenantId: string) {
  const tenant = await api.db.tenant.findUniqueOrThrow({ where: { id: tenantId } });
  const images = await api.db.brandingImage.findMany({ where: { tenantId }, select: { hash: true }, orderBy: { hash: "asc" } });
  return { background: tenant.brandingBackgroundHash, logo: tenant.brandingLogoHash, images: images.map((image) => image.hash) };
}

describe("desktop settings", () => {
  it("are off with password login for a new customer, and null for an MSP", async () => {
    const fresh = await msp.customer();
    const data = await api.gql(`query($c: ID!, $m: ID!) { c: tenant(id: $c) { ${SETTINGS} } m: tenant(id: $m) { desktopSettings { method } } }`, { c: fresh.id, m: msp.id }, { token: msp.token });
    expect(data.c.desktopSettings).toEqual({
      desktopLoginEnabled: false,
      method: "PASSWORD",
      passwordFallback: true,
      branding: { text: null, background: null, logo: null },
    });
    expect(data.m.desktopSettings).toBeNull();
  });

  it("round-trip, change only the fields given, and are audited", async () => {
    const text = "Welcome to Contoso <script>alert(1)</script> &amp; <b>friends</b>\nHelpdesk: x123 — ☎";
    const first = await api.gql(UPDATE, {
      input: { tenantId: customer.id, desktopLoginEnabled: true, method: "PASSWORDLESS", passwordFallback: false, brandingText: text },
    }, { token: msp.token });
    expect(first.updateDesktopSettings.__typename).toBe("UpdateDesktopSettingsPayload");
    expect(first.updateDesktopSettings.tenant.desktopSettings).toMatchObject({
      desktopLoginEnabled: true,
      method: "PASSWORDLESS",
      passwordFallback: false,
      branding: { text },
    });

    const second = await api.gql(UPDATE, { input: { tenantId: customer.id, passwordFallback: true } }, { token: msp.token });
    expect(second.updateDesktopSettings.tenant.desktopSettings).toMatchObject({
      desktopLoginEnabled: true,
      method: "PASSWORDLESS",
      passwordFallback: true,
      branding: { text },
    });

    // Read back by anyone who sees the tenant, exactly as typed: markup stays literal text.
    const admin = await customer.admin();
    const read = await api.gql(`query($id: ID!) { tenant(id: $id) { ${SETTINGS} } }`, { id: customer.id }, { token: await admin.token() });
    expect(read.tenant.desktopSettings.branding.text).toBe(text);
    expect((await api.db.tenant.findUniqueOrThrow({ where: { id: customer.id } })).brandingText).toBe(text);

    const events = await api.db.auditEvent.findMany({ where: { tenantId: customer.id, action: "tenant.desktopSettingsUpdated" }, orderBy: { createdAt: "asc" } });
    expect(events).toHaveLength(2);
    expect(events[0]!.data).toMatchObject({ desktopLoginEnabled: true, method: "PASSWORDLESS", passwordFallback: false, brandingText: text });
    expect(events[0]!.actorId).toBe(msp.adminId);
  });

  it("clears the text with null or blank, and leaves it alone when omitted", async () => {
    const target = await msp.customer();
    await api.gql(UPDATE, { input: { tenantId: target.id, brandingText: "Hello" } }, { token: msp.token });
    const omitted = await api.gql(UPDATE, { input: { tenantId: target.id, desktopLoginEnabled: true } }, { token: msp.token });
    expect(omitted.updateDesktopSettings.tenant.desktopSettings.branding.text).toBe("Hello");
    const blank = await api.gql(UPDATE, { input: { tenantId: target.id, brandingText: "   " } }, { token: msp.token });
    expect(blank.updateDesktopSettings.tenant.desktopSettings.branding.text).toBeNull();
    await api.gql(UPDATE, { input: { tenantId: target.id, brandingText: "Hello" } }, { token: msp.token });
    const cleared = await api.gql(UPDATE, { input: { tenantId: target.id, brandingText: null } }, { token: msp.token });
    expect(cleared.updateDesktopSettings.tenant.desktopSettings.branding.text).toBeNull();
  });

  it.each([
    ["a bell character", "Hi\u0007"],
    ["a NUL character", "Hi\u0000there"],
    ["a C1 control character", "Hi\u009bthere"],
    ["a right-to-left override", "Invoice \u202Egnp.exe"],
    ["501 characters", "x".repeat(501)],
    ["a lone surrogate", "Hi \ud800 there"],
  ])("refuses branding text with %s, naming brandingText, and changes nothing", async (_why, brandingText) => {
    const target = await msp.customer();
    await api.gql(UPDATE, { input: { tenantId: target.id, brandingText: "Before" } }, { token: msp.token });
    const { updateDesktopSettings } = await api.gql(UPDATE, { input: { tenantId: target.id, brandingText, desktopLoginEnabled: true } }, { token: msp.token });
    expect(updateDesktopSettings).toMatchObject({ __typename: "ValidationError", code: "VALIDATION" });
    expect(updateDesktopSettings.fields.map((f: { path: string }) => f.path)).toEqual(["brandingText"]);
    const row = await api.db.tenant.findUniqueOrThrow({ where: { id: target.id } });
    expect(row).toMatchObject({ brandingText: "Before", desktopLoginEnabled: false });
  });

  it("accepts 500 characters with line breaks", async () => {
    const brandingText = `${"a".repeat(249)}\n${"b".repeat(250)}`;
    const { updateDesktopSettings } = await api.gql(UPDATE, { input: { tenantId: customer.id, brandingText } }, { token: msp.token });
    expect(updateDesktopSettings.tenant.desktopSettings.branding.text).toBe(brandingText);
  });

  it("are refused for an MSP tenant, with VALIDATION on tenantId", async () => {
    const png = await solid(4, 4, nextColour()).png().toBuffer();
    const { updateDesktopSettings } = await api.gql(UPDATE, { input: { tenantId: msp.id, desktopLoginEnabled: true } }, { token: msp.token });
    expect(updateDesktopSettings).toMatchObject({ __typename: "ValidationError", fields: [{ path: "tenantId" }] });
    const uploadResult = await upload(msp.token, { tenantId: msp.id, kind: "LOGO" }, png);
    expect(uploadResult.result).toMatchObject({ __typename: "ValidationError", fields: [{ path: "tenantId" }] });
    const { removeBrandingImage } = await api.gql(REMOVE, { input: { tenantId: msp.id, kind: "LOGO" } }, { token: msp.token });
    expect(removeBrandingImage).toMatchObject({ __typename: "ValidationError", fields: [{ path: "tenantId" }] });
    expect(await api.db.brandingImage.count({ where: { tenantId: msp.id } })).toBe(0);
  });

  it("may be changed by the customer's own admin and a delegated technician, not by its users", async () => {
    const target = await msp.customer();
    const admin = await target.admin();
    const own = await api.gql(UPDATE, { input: { tenantId: target.id, method: "PASSWORDLESS" } }, { token: await admin.token() });
    expect(own.updateDesktopSettings.__typename).toBe("UpdateDesktopSettingsPayload");

    const technician = await msp.technician();
    await msp.delegate(technician.id, target.id);
    const delegated = await api.gql(UPDATE, { input: { tenantId: target.id, method: "PASSWORD" } }, { token: await technician.token() });
    expect(delegated.updateDesktopSettings.__typename).toBe("UpdateDesktopSettingsPayload");

    const user = await target.user();
    const plain = await api.gql(UPDATE, { input: { tenantId: target.id, method: "PASSWORDLESS" } }, { token: await user.token() });
    expect(plain.updateDesktopSettings).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect((await api.db.tenant.findUniqueOrThrow({ where: { id: target.id } })).desktopLoginMethod).toBe("PASSWORD");

    // The portal learns who may edit from the API rather than re-deriving it.
    const view = `query($id: ID!) { tenant(id: $id) { desktopSettings { viewerCanEdit method } } }`;
    const asAdmin = await api.gql(view, { id: target.id }, { token: await admin.token() });
    const asUser = await api.gql(view, { id: target.id }, { token: await user.token() });
    expect(asAdmin.tenant.desktopSettings).toEqual({ viewerCanEdit: true, method: "PASSWORD" });
    expect(asUser.tenant.desktopSettings).toEqual({ viewerCanEdit: false, method: "PASSWORD" });
  });

  it("answers UNAUTHENTICATED without a session", async () => {
    const { updateDesktopSettings } = await api.gql(UPDATE, { input: { tenantId: customer.id, desktopLoginEnabled: false } });
    expect(updateDesktopSettings.__typename).toBe("UnauthenticatedError");
    const png = await solid(4, 4, nextColour()).png().toBuffer();
    expect((await upload(null, { tenantId: customer.id, kind: "LOGO" }, png)).result?.__typename).toBe("UnauthenticatedError");
  });
});

describe("desktop settings across tenants", () => {
  let outsider: MspSeed;
  let victim: CustomerSeed;
  let before: Awaited<ReturnType<typeof brandingState>>;
  beforeAll(async () => {
    outsider = await seed(api).msp();
    victim = await msp.customer();
    await api.gql(UPDATE, { input: { tenantId: victim.id, brandingText: "Victim" } }, { token: msp.token });
    await uploaded(msp.token, victim.id, "LOGO", await solid(6, 6, nextColour()).png().toBuffer());
    before = await brandingState(victim.id);
  });

  it("another MSP's admin cannot see them", async () => {
    const data = await api.gql(`query($id: ID!) { tenant(id: $id) { ${SETTINGS} } }`, { id: victim.id }, { token: outsider.token });
    expect(data.tenant).toBeNull();
  });

  it("another MSP's admin gets NOT_FOUND from updateDesktopSettings", async () => {
    const { updateDesktopSettings } = await api.gql(UPDATE, { input: { tenantId: victim.id, brandingText: "Owned", desktopLoginEnabled: true } }, { token: outsider.token });
    expect(updateDesktopSettings).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    const row = await api.db.tenant.findUniqueOrThrow({ where: { id: victim.id } });
    expect(row).toMatchObject({ brandingText: "Victim", desktopLoginEnabled: false });
  });

  it("another MSP's admin gets NOT_FOUND from uploadBrandingImage", async () => {
    const png = await solid(5, 5, nextColour()).png().toBuffer();
    const { result } = await upload(outsider.token, { tenantId: victim.id, kind: "BACKGROUND" }, png);
    expect(result).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await brandingState(victim.id)).toEqual(before);
  });

  it("another MSP's admin gets NOT_FOUND from removeBrandingImage", async () => {
    const { removeBrandingImage } = await api.gql(REMOVE, { input: { tenantId: victim.id, kind: "LOGO" } }, { token: outsider.token });
    expect(removeBrandingImage).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await brandingState(victim.id)).toEqual(before);
  });

  it("a customer's admin cannot reach a sibling customer, and a malformed id is NOT_FOUND too", async () => {
    const sibling = await msp.customer();
    const admin = await sibling.admin();
    const { updateDesktopSettings } = await api.gql(UPDATE, { input: { tenantId: victim.id, brandingText: "Owned" } }, { token: await admin.token() });
    expect(updateDesktopSettings.__typename).toBe("NotFoundError");
    const malformed = await api.gql(REMOVE, { input: { tenantId: "not-a-uuid", kind: "LOGO" } }, { token: msp.token });
    expect(malformed.removeBrandingImage.__typename).toBe("NotFoundError");
    expect(await brandingState(victim.id)).toEqual(before);
  });
});

describe("branding images", () => {
  it("accepts a PNG, stores a re-encoding without its metadata, and serves it fenced in", async () => {
    const target = await msp.customer();
    const payload = "<html><script>alert(document.domain)</script></html>";
    const original = withChunk(
      await solid(40, 30, nextColour()).png().withExif({ IFD0: { ImageDescription: payload } }).toBuffer(),
      pngChunk("tEXt", Buffer.from(`Comment\0${payload}`, "latin1")),
    );
    const branding = await uploaded(msp.token, target.id, "BACKGROUND", original);
    const background = branding.background;
    expect(background).toMatchObject({ contentType: "image/png", width: 40, height: 30 });
    expect(background.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(background.url).toBe(`/branding/${background.hash}.png`);

    const response = await fetch(`${api.url}${background.url}`);
    expect(response.status).toBe(200);
    const served = Buffer.from(await response.arrayBuffer());
    expect(createHash("sha256").update(served).digest("hex")).toBe(background.hash);
    expect(served.equals(original)).toBe(false);
    expect(served.includes(payload)).toBe(false);
    expect(served.includes("tEXt")).toBe(false);
    expect(served.includes("eXIf")).toBe(false);
    const metadata = await sharp(served).metadata();
    expect(metadata).toMatchObject({ format: "png", width: 40, height: 30 });
    expect(metadata.exif).toBeUndefined();

    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(response.headers.get("etag")).toBe(`"${background.hash}"`);
    expect(response.headers.get("set-cookie")).toBeNull();

    const audit = await api.db.auditEvent.findFirst({ where: { tenantId: target.id, action: "tenant.brandingImageUploaded" } });
    expect(audit?.data).toMatchObject({ kind: "BACKGROUND", hash: background.hash, contentType: "image/png" });
  });

  it("accepts a JPEG, re-encoded upright and without EXIF, even named .png and sent as image/png", async () => {
    const target = await msp.customer();
    // Stored 8 × 4 with EXIF orientation 6 (rotate 90°): shown, and re-encoded, 4 × 8.
    const original = await solid(8, 4, nextColour()).jpeg().withMetadata({ orientation: 6 }).withExif({ IFD0: { ImageDescription: "<script>x</script>" } }).toBuffer();
    const branding = await uploaded(msp.token, target.id, "LOGO", original, { name: "logo.png", type: "image/png" });
    expect(branding.logo).toMatchObject({ contentType: "image/jpeg", width: 4, height: 8 });
    expect(branding.logo.url).toBe(`/branding/${branding.logo.hash}.jpg`);

    const response = await fetch(`${api.url}${branding.logo.url}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/jpeg");
    const served = Buffer.from(await response.arrayBuffer());
    expect(served.equals(original)).toBe(false);
    expect(served.includes("<script>")).toBe(false);
    const metadata = await sharp(served).metadata();
    expect(metadata).toMatchObject({ format: "jpeg", width: 4, height: 8 });
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
    // The .png name of the same hash names nothing.
    expect((await fetch(`${api.url}/branding/${branding.logo.hash}.png`)).status).toBe(404);
  });

  it("gives the same content the same URL and one stored row, and answers 304 to a matching ETag", async () => {
    const target = await msp.customer();
    const png = await solid(12, 12, nextColour()).png().toBuffer();
    const first = await uploaded(msp.token, target.id, "BACKGROUND", png);
    const again = await uploaded(msp.token, target.id, "BACKGROUND", png);
    const asLogo = await uploaded(msp.token, target.id, "LOGO", png);
    expect(again.background.url).toBe(first.background.url);
    expect(asLogo.logo.url).toBe(first.background.url);
    expect(await api.db.brandingImage.count({ where: { tenantId: target.id } })).toBe(1);

    // Another tenant uploading the same image gets the same URL (the hash is of the bytes).
    const other = await msp.customer();
    expect((await uploaded(msp.token, other.id, "LOGO", png)).logo.url).toBe(first.background.url);

    const url = `${api.url}${first.background.url}`;
    const etag = `"${first.background.hash}"`;
    const notModified = await fetch(url, { headers: { "if-none-match": etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(notModified.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await fetch(url, { headers: { "if-none-match": `W/"other", W/${etag}` } })).status).toBe(304);
    expect((await fetch(url, { headers: { "if-none-match": '"something-else"' } })).status).toBe(200);

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("image/png");
    expect(head.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("replaces an image, removes it, and stops serving images no slot uses", async () => {
    const target = await msp.customer();
    const firstPng = await solid(10, 10, nextColour()).png().toBuffer();
    const secondPng = await solid(10, 10, nextColour()).png().toBuffer();
    const first = (await uploaded(msp.token, target.id, "BACKGROUND", firstPng)).background;
    const second = (await uploaded(msp.token, target.id, "BACKGROUND", secondPng)).background;
    expect(second.hash).not.toBe(first.hash);
    expect((await fetch(`${api.url}${first.url}`)).status).toBe(404);
    expect((await fetch(`${api.url}${second.url}`)).status).toBe(200);

    const { removeBrandingImage } = await api.gql(REMOVE, { input: { tenantId: target.id, kind: "BACKGROUND" } }, { token: msp.token });
    expect(removeBrandingImage.__typename).toBe("RemoveBrandingImagePayload");
    expect(removeBrandingImage.tenant.desktopSettings.branding.background).toBeNull();
    expect((await fetch(`${api.url}${second.url}`)).status).toBe(404);
    expect(await brandingState(target.id)).toEqual({ background: null, logo: null, images: [] });
    const audit = await api.db.auditEvent.findFirst({ where: { tenantId: target.id, action: "tenant.brandingImageRemoved" } });
    expect(audit?.data).toMatchObject({ kind: "BACKGROUND", hash: second.hash });
  });

  it("answers 404 (with nosniff) for anything but a stored image's canonical path, and 405 for other methods", async () => {
    const target = await msp.customer();
    const { background } = await uploaded(msp.token, target.id, "BACKGROUND", await solid(3, 3, nextColour()).png().toBuffer());
    for (const path of [
      `/branding/${"0".repeat(64)}.png`,
      `/branding/${background.hash.toUpperCase()}.png`,
      `/branding/${background.hash}.jpg`,
      `/branding/${background.hash}.svg`,
      `/branding/${background.hash}`,
      `/branding/${background.hash}.png/x`,
      `/branding/`,
    ]) {
      const response = await fetch(`${api.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    }
    // A query string does not change what the path names.
    expect((await fetch(`${api.url}${background.url}?v=1`)).status).toBe(200);
    const post = await fetch(`${api.url}${background.url}`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  describe("refuses, with VALIDATION on image and nothing changed,", () => {
    let target: CustomerSeed;
    let before: Awaited<ReturnType<typeof brandingState>>;
    beforeAll(async () => {
      target = await msp.customer();
      await uploaded(msp.token, target.id, "BACKGROUND", await solid(16, 9, nextColour()).png().toBuffer());
      before = await brandingState(target.id);
    });

    async function expectRefused(bytes: Uint8Array, message: RegExp, file?: { name?: string; type?: string }) {
      const { result, raw } = await upload(msp.token, { tenantId: target.id, kind: "BACKGROUND" }, bytes, file);
      expect(result, raw).toMatchObject({ __typename: "ValidationError", code: "VALIDATION" });
      expect(result!.fields).toEqual([{ path: "image", message: expect.stringMatching(message) }]);
      expect(await brandingState(target.id)).toEqual(before);
    }

    it("an SVG (even named .png), with or without an XML prolog", async () => {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`;
      await expectRefused(Buffer.from(svg), /SVG/, { name: "logo.png", type: "image/png" });
      await expectRefused(Buffer.from(`<?xml version="1.0"?>\n${svg}`), /SVG/, { name: "logo.svg", type: "image/svg+xml" });
    });

    it("a GIF and a WebP", async () => {
      await expectRefused(await solid(4, 4, nextColour()).gif().toBuffer(), /GIF/, { name: "x.gif", type: "image/gif" });
      await expectRefused(await solid(4, 4, nextColour()).webp().toBuffer(), /WebP/, { name: "x.png" });
    });

    it("HTML, and bytes that are no image at all", async () => {
      await expectRefused(Buffer.from("<!doctype html><script>alert(1)</script>"), /PNG or JPEG/);
      await expectRefused(Buffer.from("just some text"), /PNG or JPEG/);
    });

    it("a PNG/HTML polyglot (a PNG followed by a page)", async () => {
      const png = await solid(8, 8, nextColour()).png().toBuffer();
      await expectRefused(Buffer.concat([png, Buffer.from("<html><body><script>alert(document.cookie)</script></body></html>")]), /after its end/);
    });

    it("a PNG with a ZIP archive after IEND", async () => {
      const png = await solid(8, 8, nextColour()).png().toBuffer();
      const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(26), Buffer.from("payload.js"), Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);
      await expectRefused(Buffer.concat([png, zip]), /after its end/);
    });

    it("a JPEG with a script after its end-of-image marker", async () => {
      const jpeg = await solid(8, 8, nextColour()).jpeg().toBuffer();
      await expectRefused(Buffer.concat([jpeg, Buffer.from("<script>alert(1)</script>")]), /after its end/);
    });

    it("a PNG whose header claims huge dimensions, in a few bytes", async () => {
      const bomb = pngClaiming(100_000, 100_000);
      expect(bomb.length).toBeLessThan(200);
      await expectRefused(bomb, /at most 4096 × 4096/);
      await expectRefused(pngClaiming(4097, 1), /at most 4096 × 4096/);
    });

    it("a JPEG whose header claims huge dimensions", async () => {
      await expectRefused(await jpegClaiming(60_000, 60_000), /at most 4096 × 4096/);
    });

    it("a truncated PNG and a damaged one", async () => {
      const png = await solid(8, 8, nextColour()).png().toBuffer();
      await expectRefused(png.subarray(0, png.length - 20), /damaged or cut short/);
      const damaged = Buffer.from(png);
      damaged.fill(0x41, 45, 60); // inside IDAT: the chunk structure holds, the pixels do not
      await expectRefused(damaged, /damaged/);
    });

    it("an empty file", async () => {
      await expectRefused(new Uint8Array(0), /empty/);
    });

    it("an oversized file", async () => {
      // A PNG of just over 5 MiB (its IDAT padded with noise).
      const noise = Buffer.alloc(5 * 1024 * 1024 + 1024);
      for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 2654435761) >>> 24;
      const big = withChunk(pngClaiming(16, 16), pngChunk("zzZz", noise));
      const { result } = await upload(msp.token, { tenantId: target.id, kind: "BACKGROUND" }, big);
      expect(result).toMatchObject({ __typename: "ValidationError", fields: [{ path: "image", message: expect.stringMatching(/at most 5 MiB/) }] });
      // Far beyond any image, the request itself is refused before it is parsed.
      const huge = withChunk(pngClaiming(16, 16), pngChunk("zzZz", Buffer.alloc(7 * 1024 * 1024)));
      const { status, raw } = await upload(msp.token, { tenantId: target.id, kind: "BACKGROUND" }, huge);
      expect(status).toBe(413);
      expect(raw).toMatch(/too large/i);
      expect(await brandingState(target.id)).toEqual(before);
    });

    it("and records no audit event for a refusal", async () => {
      const events = await api.db.auditEvent.count({ where: { tenantId: target.id, action: "tenant.brandingImageUploaded" } });
      expect(events).toBe(1);
    });
  });
});
