// The wire encoding the sealing uses in browsers and Node.js alike, checked against Node's own.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fromBase64url, toBase64url } from "../src/base64url.ts";

describe("base64url without padding", () => {
  it("encodes and decodes every length the way Node.js does", () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      const encoded = toBase64url(bytes);
      expect(encoded).toBe(Buffer.from(bytes).toString("base64url"));
      expect(fromBase64url(encoded)).toEqual(bytes);
    }
  });

  it("refuses text outside the alphabet, padding and standard base64 included", () => {
    for (const text of ["ab+c", "ab/c", "abc=", "a b"]) expect(() => fromBase64url(text)).toThrow(/base64url/);
  });
});
