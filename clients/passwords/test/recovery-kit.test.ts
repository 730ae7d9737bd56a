// Recovery codes: 160 random bits as 32 Crockford base32 characters and a check
// symbol; a mistyped code is caught by the check symbol, and the kit's key is
// the same wherever the code is typed.
import { describe, expect, it } from "vitest";
import { newRecoveryCode, parseRecoveryCode, RecoveryCodeError, recoveryKitKey } from "../src/index.ts";

const tenantId = "6f1c3a52-98d4-4b1e-9e0c-2f6d7b8a9c01";

describe("a recovery code", () => {
  it("is 32 characters in groups of four and a check symbol, and reads back however it is typed", () => {
    const { bytes, text } = newRecoveryCode();
    expect(bytes).toHaveLength(20);
    expect(text).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){8}[0-9A-HJKMNP-TV-Z*~$=U]$/);
    expect(parseRecoveryCode(text)).toEqual(bytes);
    expect(parseRecoveryCode(` ${text.toLowerCase().replace(/-/g, " ")} `)).toEqual(bytes);
  });

  it("refuses a code with one character changed, one missing, or letters it never uses", () => {
    const { text } = newRecoveryCode();
    const swapped = text.replace(/^(.)/, (first) => (first === "A" ? "B" : "A"));
    expect(() => parseRecoveryCode(swapped)).toThrow(RecoveryCodeError);
    expect(() => parseRecoveryCode(text.slice(1))).toThrow(/32 characters/);
    expect(() => parseRecoveryCode(`UUUU${text.slice(4)}`)).toThrow(RecoveryCodeError);
  });

  it("derives one key pair per code and tenant", async () => {
    const { bytes } = newRecoveryCode();
    const first = await recoveryKitKey(bytes, tenantId);
    expect(await recoveryKitKey(bytes, tenantId)).toEqual(first);
    expect((await recoveryKitKey(bytes, "0d9e8f7a-1b2c-4d3e-8f4a-5b6c7d8e9f00")).publicKey).not.toBe(first.publicKey);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
