import { describe, expect, it } from "vitest";
import { AuthenticatorError, parseQrPayload } from "../src/index.ts";

const ID = "0b8e4c1a-9d2f-4e3b-8a7c-6d5e4f3a2b1c";
const SECRET = "q8Zt3w0mYkH2pV9xR4sLbA_-"; // 24 base64url characters, with both URL-safe symbols

describe("parseQrPayload", () => {
  it("reads lk1.<challengeId>.<qrSecret>", () => {
    expect(parseQrPayload(`lk1.${ID}.${SECRET}`)).toEqual({ challengeId: ID, qrSecret: SECRET });
  });

  it("ignores surrounding whitespace, as in a pasted payload", () => {
    expect(parseQrPayload(`  lk1.${ID}.${SECRET}\n`)).toEqual({ challengeId: ID, qrSecret: SECRET });
  });

  it("reads the requester's key hash as a fourth part", () => {
    const hash = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg";
    expect(parseQrPayload(`lk1.${ID}.${SECRET}.${hash}`)).toEqual({ challengeId: ID, qrSecret: SECRET, keyHash: hash });
  });

  it("accepts a 128-bit secret (22 characters) and upper-case UUIDs", () => {
    expect(parseQrPayload(`lk1.${ID.toUpperCase()}.${SECRET.slice(0, 22)}`).qrSecret).toHaveLength(22);
  });

  it.each([
    ["an empty payload", "", /empty/],
    ["a URL", "https://example.com/login", /does not start with "lk1\."/],
    ["a later format version", `lk2.${ID}.${SECRET}`, /format version "lk2" is not supported/],
    ["an upper-case prefix", `LK1.${ID}.${SECRET}`, /does not start with/],
    ["a missing secret", `lk1.${ID}`, /2 dot-separated parts instead of 3 or 4/],
    ["a fourth part that is no SHA-256", `lk1.${ID}.${SECRET}.extra`, /key hash is not a base64url SHA-256/],
    ["an extra part", `lk1.${ID}.${SECRET}.${"A".repeat(43)}.extra`, /5 dot-separated parts/],
    ["a challenge id that is not a UUID", `lk1.12345.${SECRET}`, /challenge id is not a UUID/],
    ["a padded secret", `lk1.${ID}.${SECRET}==`, /secret is not base64url/],
    ["a standard-base64 secret", `lk1.${ID}.abc+def/ghijklmnopqrstuvw`, /secret is not base64url/],
    ["a secret under 128 bits", `lk1.${ID}.${SECRET.slice(0, 21)}`, /shorter than 128 bits/],
    ["an empty secret", `lk1.${ID}.`, /not base64url/],
    ["whitespace inside", `lk1.${ID}. ${SECRET}`, /not base64url/],
    ["something huge", `lk1.${ID}.${"A".repeat(600)}`, /longer than 512/],
  ])("throws a clear INVALID_QR_PAYLOAD error on %s", (_, payload, why) => {
    let thrown: unknown;
    try {
      parseQrPayload(payload);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AuthenticatorError);
    expect((thrown as AuthenticatorError).code).toBe("INVALID_QR_PAYLOAD");
    expect((thrown as AuthenticatorError).message).toMatch(/^not a Latchkey challenge QR code \(expected lk1\.<challenge id>\.<secret>\[\.<key hash>\]\): /);
    expect((thrown as AuthenticatorError).message).toMatch(why);
  });

  it("refuses a payload that is not text", () => {
    expect(() => parseQrPayload(42 as never)).toThrow(/not text/);
  });
});
