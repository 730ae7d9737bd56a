// The login screen's branding (text, background, logo), cached next to the
// state file. Images are content-addressed (`/branding/<sha256>.png`), so an
// image is downloaded only when its hash changes, and the bytes are checked
// against the hash before they are kept.
import { createHash } from "node:crypto";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentError } from "./agent-error.ts";

/** The GraphQL `BrandingImage`. */
export interface BrandingImage {
  url: string;
  hash: string;
  contentType: string;
  width: number;
  height: number;
}

/** The GraphQL `Branding`. */
export interface Branding {
  text: string | null;
  background: BrandingImage | null;
  logo: BrandingImage | null;
}

export interface CachedBrandingImage {
  hash: string;
  contentType: string;
  width: number;
  height: number;
  /** Absolute path of the cached file. */
  file: string;
}

export interface CachedBranding {
  text: string | null;
  background: CachedBrandingImage | null;
  logo: CachedBrandingImage | null;
}

export type BrandingKind = "background" | "logo";

/** Larger than the API ever serves (it stores at most 10 MiB); a guard against a misbehaving server. */
const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
const EXTENSIONS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg" };
const CACHED_FILE = /^[0-9a-f]{64}\.(png|jpg)$/;

/**
 * Brings the cache in line with `branding`: downloads each image whose hash is
 * not cached yet, and deletes cached images no longer used. Returns the new
 * cache record and which images were downloaded.
 */
export async function syncBranding(
  apiUrl: string,
  branding: Branding,
  cacheDir: string,
): Promise<{ branding: CachedBranding; downloaded: BrandingKind[] }> {
  const downloaded: BrandingKind[] = [];
  const cached: CachedBranding = { text: branding.text, background: null, logo: null };
  for (const kind of ["background", "logo"] as const) {
    const image = branding[kind];
    if (!image) continue;
    if (!/^[0-9a-f]{64}$/.test(image.hash) || !EXTENSIONS[image.contentType]) {
      throw new AgentError("BAD_RESPONSE", `the ${kind} image has an unexpected hash or type (${image.contentType})`);
    }
    const file = join(cacheDir, `${image.hash}.${EXTENSIONS[image.contentType]}`);
    if (!(await exists(file))) {
      await mkdir(cacheDir, { recursive: true });
      await writeFile(file, await download(apiUrl, image));
      downloaded.push(kind);
    }
    cached[kind] = { hash: image.hash, contentType: image.contentType, width: image.width, height: image.height, file };
  }
  const keep = new Set([cached.background?.file, cached.logo?.file].filter(Boolean));
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (CACHED_FILE.test(name) && !keep.has(join(cacheDir, name))) await rm(join(cacheDir, name), { force: true });
  }
  return { branding: cached, downloaded };
}

// Images are public and content-addressed: no credential is sent for them.
async function download(apiUrl: string, image: BrandingImage): Promise<Buffer> {
  // The URL is a path on the API's origin; anything pointing elsewhere is not fetched.
  const url = new URL(image.url, apiUrl);
  if (url.origin !== new URL(apiUrl).origin) throw new AgentError("BAD_RESPONSE", `the branding image URL ${image.url} is not on the API's origin`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (cause) {
    throw new AgentError("NETWORK_ERROR", `cannot download the branding image ${url.pathname}`, { cause });
  }
  if (!response.ok) throw new AgentError("BAD_RESPONSE", `the branding image ${url.pathname} answered HTTP ${response.status}`);
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > MAX_IMAGE_BYTES) throw new AgentError("BAD_RESPONSE", `the branding image ${url.pathname} is larger than ${MAX_IMAGE_BYTES} bytes`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_IMAGE_BYTES) throw new AgentError("BAD_RESPONSE", `the branding image ${url.pathname} is larger than ${MAX_IMAGE_BYTES} bytes`);
  const hash = createHash("sha256").update(bytes).digest("hex");
  if (hash !== image.hash) throw new AgentError("BAD_RESPONSE", `the branding image ${url.pathname} does not match its hash`);
  return bytes;
}

async function exists(path: string) {
  return stat(path).then(
    () => true,
    () => false,
  );
}
