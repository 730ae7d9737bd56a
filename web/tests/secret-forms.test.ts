// The search the request-body test relies on finds a secret in each form it claims to.
import { describe, expect, test } from "vitest";
import { secretFormsIn } from "./secret-forms";

const secret = 'maple "orbit" candle/quartz 19 ü';

describe("searching requests for a typed secret", () => {
  test.each([
    ["plain", `password=${secret}`],
    ["json", JSON.stringify({ input: { password: secret } })],
    ["percent", `https://api.example/graphql?password=${encodeURIComponent(secret)}`],
    ["percent", `password=${new URLSearchParams({ p: secret }).toString().slice(2)}&x=1`],
    ["hex", `{"p":"${Buffer.from(secret).toString("hex")}"}`],
    ["hex", `{"p":"${Buffer.from(secret).toString("hex").toUpperCase()}"}`],
  ])("finds it as %s", (form, text) => {
    expect(secretFormsIn(text, secret)).toContain(form);
  });

  test.each([0, 1, 2, 3, 7])("finds it base64 and base64url encoded after %i other bytes", (offset) => {
    const inside = Buffer.concat([Buffer.alloc(offset, 0xfb), Buffer.from(secret), Buffer.from([0xff, 0xfe])]);
    expect(secretFormsIn(inside.toString("base64"), secret)).toContain("base64");
    expect(secretFormsIn(inside.toString("base64url"), secret)).toContain("base64url");
  });

  test("finds nothing in a body without it", () => {
    expect(secretFormsIn(JSON.stringify({ input: { request: Buffer.from("maple orbit").toString("base64url") } }), secret)).toEqual([]);
  });
});
