// Login-screen branding images arrive from a browser and end up on every
// workstation's login screen, so they are treated as hostile: the bytes (never
// the file name or the client's MIME type) must be exactly one PNG or JPEG,
// its header's dimensions are checked before any pixel is decoded, and only a
// re-encoding, with every chunk of metadata dropped, is ever stored or served.
import { createHash } from "node:crypto";
import pLimit from "p-limit";
import sharp from "sharp";
import { ValidationError } from "../../errors.ts";

/** Largest upload accepted, in bytes. */
export const MAX_BRANDING_IMAGE_BYTES = 5 * 1024 * 1024;
/** Largest width or height, in pixels. */
export const MAX_BRANDING_IMAGE_SIDE = 4096;
export const MAX_BRANDING_IMAGE_PIXELS = MAX_BRANDING_IMAGE_SIDE * MAX_BRANDING_IMAGE_SIDE;
/** A re-encoding may come out somewhat larger than a well-compressed original, but not without bound. */
const MAX_STORED_BYTES = 2 * MAX_BRANDING_IMAGE_BYTES;

export type BrandingImageFormat = "png" | "jpeg";

export const CONTENT_TYPES: Record<BrandingImageFormat, string> = { png: "image/png", jpeg: "image/jpeg" };

/** The URL's extension for each stored content type. */
export const EXTENSIONS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg" };

export type ImageHeader = { format: BrandingImageFormat; width: number; height: number };

export type EncodedBrandingImage = ImageHeader & { contentType: string; bytes: Uint8Array<ArrayBuffer>; hash: string };

// Defence in depth: whatever slips past the checks below, libvips in this
// process will not parse SVG, PDF, GIF, WebP, HEIF, TIFF and the rest at all.
sharp.block({ operation: ["VipsForeignLoad"] });
sharp.unblock({ operation: ["VipsForeignLoadPngBuffer", "VipsForeignLoadJpegBuffer"] });

// Decoding a 16-megapixel image takes tens of megabytes; a burst of uploads
// must not take the instance's memory with it.
const encoderSlots = pLimit(2);

function refuse(message: string): never {
  throw ValidationError.field("image", message);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Names the formats people most often try, so the message can say what was sent. */
function otherFormat(bytes: Buffer): string | null {
  const ascii = bytes.subarray(0, 512).toString("latin1");
  if (ascii.startsWith("GIF87a") || ascii.startsWith("GIF89a")) return "a GIF";
  if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP") return "a WebP image";
  if (/^(\uFEFF|\xEF\xBB\xBF)?\s*(<\?xml|<!--|<!doctype svg|<svg)/i.test(ascii) && /<svg/i.test(ascii)) return "an SVG image";
  if (/^(\uFEFF|\xEF\xBB\xBF)?\s*</.test(ascii)) return "markup, not an image";
  if (ascii.slice(4, 8) === "ftyp") return "a HEIC/AVIF image";
  if (ascii.startsWith("BM")) return "a BMP image";
  if (ascii.startsWith("II*\0") || ascii.startsWith("MM\0*")) return "a TIFF image";
  return null;
}

/**
 * Reads a PNG's chunk structure without decompressing anything: IHDR first,
 * and IEND as the last bytes of the file. Anything after IEND is how PNG/ZIP
 * and PNG/HTML polyglots are built, so it is refused rather than cut off.
 */
function pngHeader(bytes: Buffer): ImageHeader {
  let offset = PNG_SIGNATURE.length;
  let header: ImageHeader | null = null;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type) || end > bytes.length) refuse("The PNG file is damaged or cut short");
    if (!header) {
      if (type !== "IHDR" || length !== 13) refuse("The PNG file is damaged: it does not start with its header");
      header = { format: "png", width: bytes.readUInt32BE(offset + 8), height: bytes.readUInt32BE(offset + 12) };
    }
    if (type === "IEND") {
      if (end !== bytes.length) refuse("The PNG file has extra data after its end; export it again as a plain PNG");
      return header;
    }
    offset = end;
  }
  refuse("The PNG file is damaged or cut short");
}

/** JPEG markers that carry the frame size: SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number) {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Walks a JPEG's segments, and the entropy-coded data after each scan, up to
 * its end-of-image marker, which must be the file's last two bytes (the same
 * rule as PNG's IEND: no trailing payload).
 */
function jpegHeader(bytes: Buffer): ImageHeader {
  let offset = 2;
  let header: ImageHeader | null = null;
  const damaged: () => never = () => refuse("The JPEG file is damaged or cut short");
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) damaged();
    while (bytes[offset] === 0xff) offset += 1; // fill bytes before a marker
    if (offset >= bytes.length) damaged();
    const marker = bytes[offset]!;
    offset += 1;
    if (marker === 0xd9) {
      if (!header) damaged();
      if (offset !== bytes.length) refuse("The JPEG file has extra data after its end; export it again as a plain JPEG");
      return header;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // markers without a length
    if (offset + 2 > bytes.length) damaged();
    const length = bytes.readUInt16BE(offset);
    const end = offset + length;
    if (length < 2 || end > bytes.length) damaged();
    if (isStartOfFrame(marker)) {
      if (header || length < 8) damaged();
      header = { format: "jpeg", height: bytes.readUInt16BE(offset + 3), width: bytes.readUInt16BE(offset + 5) };
    }
    offset = end;
    if (marker === 0xda) {
      if (!header) damaged();
      // Entropy-coded data runs to the next marker that is neither a stuffed
      // 0xFF00 nor a restart marker.
      for (;;) {
        offset = bytes.indexOf(0xff, offset);
        if (offset < 0 || offset + 1 >= bytes.length) damaged();
        const next = bytes[offset + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) offset += 2;
        else if (next === 0xff) offset += 1;
        else break;
      }
    }
  }
  damaged();
}

/**
 * Recognises a PNG or JPEG by its bytes and reads its size from the header,
 * refusing every other format, damaged structure, trailing data and images
 * too large to decode, all before a single pixel is decoded.
 */
export function readBrandingImageHeader(bytes: Buffer): ImageHeader {
  if (bytes.length === 0) refuse("The file is empty");
  if (bytes.length > MAX_BRANDING_IMAGE_BYTES) refuse(`Use an image of at most ${MAX_BRANDING_IMAGE_BYTES / 1024 / 1024} MiB`);
  let header: ImageHeader;
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) header = pngHeader(bytes);
  else if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) header = jpegHeader(bytes);
  else {
    const other = otherFormat(bytes);
    refuse(other ? `Use a PNG or JPEG image; this file is ${other}` : "Use a PNG or JPEG image; this file is neither");
  }
  const { width, height } = header;
  if (width < 1 || height < 1) refuse("The image has no pixels");
  if (width > MAX_BRANDING_IMAGE_SIDE || height > MAX_BRANDING_IMAGE_SIDE || width * height > MAX_BRANDING_IMAGE_PIXELS) {
    refuse(`Use an image of at most ${MAX_BRANDING_IMAGE_SIDE} × ${MAX_BRANDING_IMAGE_SIDE} pixels; this one is ${width} × ${height}`);
  }
  return header;
}

/**
 * Checks an upload and re-encodes it in its own format with no metadata: what
 * is stored (and hashed, and served) is pixels written by libvips, not bytes a
 * browser sent. EXIF orientation is applied first, since it is dropped with
 * the rest of the metadata.
 */
export async function encodeBrandingImage(upload: Buffer): Promise<EncodedBrandingImage> {
  const header = readBrandingImageHeader(upload);
  const encoded = await encoderSlots(async () => {
    try {
      const image = sharp(upload, { limitInputPixels: MAX_BRANDING_IMAGE_PIXELS, failOn: "warning", animated: false });
      const decoded = await image.metadata();
      if (decoded.format !== header.format || decoded.width !== header.width || decoded.height !== header.height) return null;
      const pipeline = image.autoOrient();
      const output = header.format === "png" ? pipeline.png({ compressionLevel: 9 }) : pipeline.jpeg({ quality: 90 });
      return await output.toBuffer({ resolveWithObject: true });
    } catch {
      // libvips' own words would say nothing useful to an admin (and name internals).
      return null;
    }
  });
  if (!encoded) refuse(`The ${header.format === "png" ? "PNG" : "JPEG"} file is damaged and cannot be read`);
  if (encoded.data.length > MAX_STORED_BYTES) refuse("The image is too large once converted; use a smaller one");
  const bytes = new Uint8Array(encoded.data);
  return {
    format: header.format,
    width: encoded.info.width,
    height: encoded.info.height,
    contentType: CONTENT_TYPES[header.format],
    bytes,
    hash: createHash("sha256").update(bytes).digest("hex"),
  };
}

/** Where the API serves an image: a path on its own origin, named by content. */
export function brandingImagePath(image: { hash: string; contentType: string }) {
  return `/branding/${image.hash}.${EXTENSIONS[image.contentType] ?? "bin"}`;
}
