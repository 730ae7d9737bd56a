// Serves login-screen branding images, `GET /branding/<sha256>.<png|jpg>`,
// from the database, so any instance can answer. The bytes were re-encoded on
// upload; here they are further fenced in: the content type comes from the
// stored row, browsers may not sniff it into anything else, and a document
// opened from this path runs nothing (sandboxing CSP). The session cookie is
// scoped to /graphql, so it never reaches this path; nothing here reads or
// sets a cookie. A URL names its content, so a response never changes.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PrismaClient } from "@latchkey/db";
import type { Logger } from "@latchkey/schema";

const BRANDING_PATH = /^\/branding\/([0-9a-f]{64})\.(png|jpg)$/;
const EXTENSION_OF: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg" };

/** Headers on every answer of this route, found or not. */
const FENCE = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; sandbox",
  // The portal, on its own origin, shows a preview.
  "cross-origin-resource-policy": "cross-origin",
  "referrer-policy": "no-referrer",
};

export function isBrandingRequest(req: IncomingMessage) {
  return req.url?.startsWith("/branding/") ?? false;
}

function notFound(res: ServerResponse, head: boolean) {
  res.writeHead(404, { ...FENCE, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(head ? undefined : "Not found");
}

/** Does an If-None-Match header name this ETag (weak comparison, as RFC 9110 asks for it)? */
function matches(ifNoneMatch: string | undefined, etag: string) {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const candidate = tag.trim();
    return candidate === "*" || candidate.replace(/^W\//, "") === etag;
  });
}

export async function serveBrandingImage(req: IncomingMessage, res: ServerResponse, deps: { db: PrismaClient; log: Logger }) {
  const head = req.method === "HEAD";
  if (req.method !== "GET" && !head) {
    res.writeHead(405, { ...FENCE, allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("Method not allowed");
    return;
  }
  // The query string is ignored: only the path names an image.
  const path = (req.url ?? "").split("?")[0]!;
  const match = BRANDING_PATH.exec(path);
  if (!match) return notFound(res, head);
  const [, hash, extension] = match as unknown as [string, string, string];

  let image: { contentType: string; bytes: Uint8Array } | null;
  try {
    // Any tenant's row with this hash holds the same bytes: the hash is of the bytes.
    image = await deps.db.brandingImage.findFirst({ where: { hash }, select: { contentType: true, bytes: true } });
  } catch (error) {
    deps.log.error("branding image lookup failed", { error: String(error) });
    res.writeHead(503, { ...FENCE, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end("Unavailable");
    return;
  }
  // A URL whose extension disagrees with the stored type names nothing.
  if (!image || EXTENSION_OF[image.contentType] !== extension) return notFound(res, head);

  const etag = `"${hash}"`;
  const headers = {
    ...FENCE,
    "content-type": image.contentType,
    "cache-control": "public, max-age=31536000, immutable",
    etag,
  };
  if (matches(req.headers["if-none-match"], etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": image.bytes.byteLength });
  res.end(head ? undefined : image.bytes);
}
