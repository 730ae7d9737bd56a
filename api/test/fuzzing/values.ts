// Values for the fuzzer: a seeded generator, and for each GraphQL input type a
// mix of plausible values (real ids of both tenants, well-formed emails and keys)
// and hostile ones (huge, empty, RTL, zero-width, NUL, wrong types, other forms
// of the same UUID). Everything is drawn from one PRNG, so a seed reproduces the
// values a run sent.
import { randomBytes } from "node:crypto";
import { pngClaiming } from "../png.ts";

/** sfc32: small, fast, and good enough to pick test values; seeded from a 32-bit number. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i += 1) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  chance(p: number) {
    return this.next() < p;
  }

  int(below: number) {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  /** A UUID made from this generator (random-looking, reproducible), version 4 bits set. */
  uuid() {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16));
    hex[12] = "4";
    hex[16] = ((this.int(4) + 8) as number).toString(16);
    const s = hex.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  /** Base64url of `bytes` bytes from this generator. */
  base64url(bytes: number) {
    return Buffer.from(Array.from({ length: bytes }, () => this.int(256))).toString("base64url");
  }
}

/** FUZZ_SEED as given (a number, or any text hashed to one), or a fresh one. */
export function seedFrom(value: string | undefined): number {
  if (!value) return randomBytes(4).readUInt32BE(0);
  if (/^\d+$/.test(value)) return Number(value) >>> 0;
  let hash = 2166136261;
  for (const char of value) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619) >>> 0;
  return hash;
}

/**
 * Strings nobody types on purpose. None of them may look like an internal error
 * (checked at start-up against the leak patterns), since validation messages may
 * quote them back.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "   \t\n  ",
  "a".repeat(256),
  "a".repeat(10_000),
  "x".repeat(100_000),
  "é".repeat(5_000),
  // Right-to-left override, zero-width and byte-order marks hide what is shown.
  "\u202Egnp.exe\u202C",
  "ad\u200Bmin",
  "\u200B",
  "\u200D\u200C\u2060",
  "\uFEFFname",
  "\u2066isolate\u2069",
  "🦄",
  "👩‍👩‍👧‍👦".repeat(200),
  "🏳️‍🌈🇦🇶",
  "Z\u0334\u0321\u0322\u0353\u0344a\u0335l\u0337g\u0338o\u0336",
  "\u0000",
  "a\u0000b",
  "\u0000".repeat(1_000),
  // Lone surrogates: not valid UTF-16, JSON escapes them.
  "\uD800",
  "x\uDFFFy",
  "\u0001\u0002\u001B[31m\u007F",
  "line\r\nX-Injected: 1",
  "ＡＤＭＩＮ",
  "İıŉǅß",
  "' OR '1'='1",
  "'; DROP TABLE \"User\"; --",
  "\\",
  "\\\\'\"`",
  "%",
  "_",
  "%_%",
  "$1",
  "${process.env}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  "%s%n%x%p",
  "null",
  "undefined",
  "true",
  "NaN",
  "-1",
  "0",
  "9".repeat(400),
  "__proto__",
  "constructor",
];

export const HOSTILE_EMAILS: readonly string[] = [
  "a@b",
  "@",
  "user@",
  "@example.test",
  "user@@example.test",
  "USER@EXAMPLE.TEST",
  "user+tag@example.test",
  "\"quoted local\"@example.test",
  "user@[127.0.0.1]",
  "user@xn--80ak6aa92e.test",
  "üser@exämple.test",
  "user\u202E@example.test",
  "user@example.test\u0000",
  `${"a".repeat(300)}@example.test`,
  "user@example.test, other@example.test",
  "user@example.test\r\nBcc: x@example.test",
];

export const HOSTILE_URLS: readonly string[] = [
  "https://example.test/hook",
  "http://127.0.0.1:9/hook",
  "http://localhost:5432/",
  "http://169.254.169.254/latest/meta-data/",
  "http://[::1]:6379/",
  "http://0x7f000001/",
  "https://user:pass@example.test/",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "gopher://127.0.0.1:6379/_FLUSHALL",
  "https://",
  "https://example.test:99999/",
  `https://example.test/${"a".repeat(5_000)}`,
];

export const HOSTILE_RANGES: readonly string[] = ["10.0.0.0/8", "0.0.0.0/0", "::/0", "127.0.0.1/32", "999.1.1.1/33", "1.2.3.4/-1", "fe80::1%eth0/64", "::ffff:127.0.0.1/128"];

export const HOSTILE_INTS: readonly number[] = [0, 1, -1, 2, 5, 10, 20, 50, 99, 100, 101, 1000, 65_536, 2_147_483_647, -2_147_483_648];
/** Outside GraphQL's Int: the server's coercion must refuse them, not pass them on. */
export const OUT_OF_RANGE_INTS: readonly number[] = [2_147_483_648, -2_147_483_649, Number.MAX_SAFE_INTEGER, 1e21, 0.5, -0.000001];
export const HOSTILE_FLOATS: readonly number[] = [0, -0, 1.5, -1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER];

export function hostileDates(now: number): readonly string[] {
  return [
    new Date(now).toISOString(),
    new Date(now + 3600_000).toISOString(),
    new Date(now - 86_400_000).toISOString(),
    new Date(now + 400 * 86_400_000).toISOString(),
    "1970-01-01T00:00:00.000Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "+275760-09-13T00:00:00.000Z",
    "-271821-04-20T00:00:00.000Z",
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-01-01",
    "2026-01-01T00:00:00+14:00",
    "yesterday",
    "",
  ];
}

/** A value of some other JSON type than the one asked for. */
export function wrongType(rng: Random): unknown {
  return rng.pick<unknown>([
    {},
    [],
    [[[]]],
    { nested: { deeper: [1, "two", null] } },
    "text",
    "",
    42,
    -1,
    3.14,
    true,
    false,
    null,
    JSON.parse('{"__proto__": {"polluted": true}}'),
    Array.from({ length: 500 }, (_, i) => i),
  ]);
}

/** The same UUID as PostgreSQL also reads it: upper-cased, in braces, without dashes, padded. */
export function uuidVariants(id: string): string[] {
  return [id.toUpperCase(), `{${id}}`, id.replaceAll("-", ""), ` ${id}`, `${id} `, `${id}\u0000`, `${id}\u200B`, `${id}'`];
}

export const MALFORMED_IDS: readonly string[] = [
  "",
  " ",
  "not-a-uuid",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "00000000-0000-0000-0000-00000000000g",
  "1",
  "-1",
  "1e9999",
  "VXNlcjox",
  "' OR 1=1 --",
  "a".repeat(1_000),
  "\u0000",
];

/** A JSON value of any shape, nested up to `depth`. */
export function anyJson(rng: Random, depth = 3): unknown {
  if (depth <= 0 || rng.chance(0.4)) return rng.pick<unknown>([null, true, 0, -1, 1e308, "", rng.pick(HOSTILE_STRINGS).slice(0, 200)]);
  if (rng.chance(0.5)) return Array.from({ length: rng.int(4) }, () => anyJson(rng, depth - 1));
  const object: Record<string, unknown> = {};
  for (let i = rng.int(4); i > 0; i -= 1) object[rng.pick(["a", "__proto__", "constructor", "", "\u0000", "x".repeat(100)])] = anyJson(rng, depth - 1);
  return object;
}

/** JSON nested far deeper than anything real. */
export function deepJson(levels: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i += 1) value = i % 2 ? [value] : { v: value };
  return value;
}

/** A file for a multipart request, in place of a `File` variable; reported by its name, type and size. */
export class FilePart {
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
    readonly type: string,
  ) {}

  toJSON() {
    return { file: this.name, type: this.type, size: this.bytes.length };
  }
}

/** Uploads nobody should send: empty, not images, lying about their size or type, too big, badly named. */
export function hostileFiles(): FilePart[] {
  const real = pngClaiming(1, 1);
  return [
    new FilePart(new Uint8Array(0), "empty.png", "image/png"),
    new FilePart(real, "logo.png", "image/png"),
    new FilePart(real, "../../../etc/passwd", "text/html"),
    new FilePart(real, "logo\u202Egnp.exe\u0000.png", "image/png"),
    new FilePart(Buffer.from("not an image at all"), "notes.png", "image/png"),
    new FilePart(pngClaiming(65_535, 65_535), "huge.png", "image/png"),
    new FilePart(real.subarray(0, 40), "truncated.png", "image/png"),
    new FilePart(Buffer.concat([real, Buffer.from("trailing bytes")]), "trailing.png", "image/png"),
    new FilePart(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "logo.svg", "image/svg+xml"),
    new FilePart(new Uint8Array(5 * 1024 * 1024 + 1), "zeros.png", "image/png"),
  ];
}
