// The new-password rules the portal enforces before any OPAQUE registration: the API never
// sees the password, so these are the only check it gets.
import { describe, expect, test } from "vitest";
import { passwordLengthProblem, passwordProblem, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../src/passwords/password-rules";

describe("new-password rules", () => {
  test("refuses passwords shorter than the minimum or longer than the maximum", async () => {
    expect(await passwordProblem("a1b2c3d4e")).toBe(`Use at least ${PASSWORD_MIN_LENGTH} characters`);
    expect(passwordLengthProblem("x".repeat(PASSWORD_MAX_LENGTH + 1))).toBe(`Use at most ${PASSWORD_MAX_LENGTH} characters`);
    expect(passwordLengthProblem("x".repeat(PASSWORD_MIN_LENGTH))).toBeNull();
  });

  test.each(["password123", "qwertyuiop", "aaaaaaaaaaaa", "1234567890", "iloveyou2020", "football123"])(
    "refuses the common or patterned password %s as too easy to guess",
    async (password) => {
      expect(await passwordProblem(password)).toMatch(/^Password is too easy to guess/);
    },
  );

  test("refuses a password made of the account's own names", async () => {
    const context = ["Grace", "Okafor", "grace.okafor", "grace@bluefin.example", "bluefin"];
    expect(await passwordProblem("grace.okafor2024", context)).toMatch(/too easy to guess/);
    expect(await passwordProblem("okaforbluefin", context)).toMatch(/too easy to guess/);
    // Nothing in them is common on its own: for another account they pass.
    expect(await passwordProblem("grace.okafor2024")).toBeNull();
    expect(await passwordProblem("okaforbluefin")).toBeNull();
  });

  test("accepts long passphrases", async () => {
    for (const password of ["correct horse battery staple 42", "maple orbit candle quartz 19", "violet harbor engine 4410"]) {
      expect(await passwordProblem(password), password).toBeNull();
    }
  });
});
