// The agent's decisions about the local account database: create, take over,
// or refuse, and the local password policy, as the Windows credential provider
// would apply them.
import { describe, expect, it } from "vitest";
import {
  addLocalAccount,
  decideAccount,
  defaultLocalAccountStore,
  ensureLocalAccount,
  findLocalAccount,
  verifyLocalPassword,
  type LocalAccountStore,
} from "../src/index.ts";

const PASSWORD = "orbit-lantern-cascade-42";

function workstationWith(...accounts: { name: string; groups?: string[] }[]): LocalAccountStore {
  return accounts.reduce((store, account) => addLocalAccount(store, account), defaultLocalAccountStore());
}

describe("ensureLocalAccount", () => {
  it("creates a missing account in Users, with the password hashed, never in clear", () => {
    const before = workstationWith();
    const { store, decision } = ensureLocalAccount(before, { username: "ada", fullName: "Ada Lovelace", password: PASSWORD });
    expect(decision.outcome).toBe("CREATED");
    const account = findLocalAccount(store, "ada")!;
    expect(account).toMatchObject({ name: "ada", fullName: "Ada Lovelace", groups: ["Users"], managedBy: "latchkey" });
    expect(account.passwordSetAt).not.toBeNull();
    expect(JSON.stringify(store)).not.toContain(PASSWORD);
    expect(verifyLocalPassword(account, PASSWORD)).toBe(true);
    expect(verifyLocalPassword(account, `${PASSWORD}x`)).toBe(false);
    // The store it was given is left as it was.
    expect(findLocalAccount(before, "ada")).toBeUndefined();
  });

  it("takes over an existing non-admin account of the same name, whatever its case, keeping its groups", () => {
    const before = workstationWith({ name: "Ada", groups: ["Users", "Remote Desktop Users"] });
    const { store, decision } = ensureLocalAccount(before, { username: "ada", fullName: "Ada Lovelace", password: PASSWORD });
    expect(decision).toEqual({ outcome: "TAKEN_OVER", detail: 'took over local account "Ada" and set its password' });
    const account = findLocalAccount(store, "ADA")!;
    expect(account).toMatchObject({ name: "Ada", groups: ["Users", "Remote Desktop Users"], managedBy: "latchkey" });
    expect(verifyLocalPassword(account, PASSWORD)).toBe(true);
    expect(store.accounts.filter((candidate) => candidate.name.toLowerCase() === "ada")).toHaveLength(1);
  });

  it("updates the password of an account it manages already", () => {
    const first = ensureLocalAccount(workstationWith(), { username: "ada", fullName: "Ada", password: PASSWORD }).store;
    const { store, decision } = ensureLocalAccount(first, { username: "ada", fullName: "Ada", password: "a-new-password-99" });
    expect(decision.outcome).toBe("TAKEN_OVER");
    expect(decision.detail).toMatch(/updated the password/);
    expect(verifyLocalPassword(findLocalAccount(store, "ada")!, "a-new-password-99")).toBe(true);
  });

  it("refuses a member of the local Administrators group, and leaves it untouched", () => {
    const before = workstationWith({ name: "itadmin", groups: ["Users", "administrators"] });
    const { store, decision } = ensureLocalAccount(before, { username: "ITAdmin", fullName: "IT", password: PASSWORD });
    expect(decision).toEqual({ outcome: "REFUSED", detail: 'local account "itadmin" is a member of Administrators' });
    expect(store).toBe(before);
    expect(findLocalAccount(store, "itadmin")!.passwordHash).toBeNull();
  });

  it.each(["Administrator", "ADMINISTRATOR", "guest", "DefaultAccount", "wdagutilityaccount", "DefaultUser0", "KRBTGT", "SYSTEM", "Users"])(
    "refuses the reserved account %s, present or not",
    (username) => {
      const store = workstationWith();
      expect(decideAccount(store, username, PASSWORD)).toMatchObject({ outcome: "REFUSED", detail: expect.stringMatching(/reserved Windows account/) });
    },
  );

  it.each(["", "a-name-longer-than-twenty", "ada/lovelace", "ada@example.test", "...", "ada.", "a\u0007b"])("refuses %j, which Windows would not take as an account name", (username) => {
    expect(decideAccount(workstationWith(), username, PASSWORD).outcome).toBe("REFUSED");
  });

  it.each([
    ["Admіnistrator", /looks like the reserved Windows account name "Administrator"/, "Cyrillic і"],
    ["Admınistrator", /looks like the reserved Windows account name "Administrator"/, "dotless ı"],
    ["ſystem", /NFKC/, "long s"],
    ["ｇｈｏｐｐｅｒ", /NFKC/, "fullwidth letters"],
    ["ada\u200B", /Invisible/, "zero-width space"],
    ["\u202Eada", /direction/, "right-to-left override"],
    ["NUL", /device names/, "device"],
    ["com1.txt", /device names/, "device with an extension"],
    ["COM¹", /device names/, "device with a superscript digit"],
  ])("refuses %j (%s), present or not, as the directory does", (username, detail) => {
    const store = workstationWith();
    const decision = decideAccount(store, username, PASSWORD);
    expect(decision).toMatchObject({ outcome: "REFUSED", detail: expect.stringMatching(detail) });
    // Invisible and direction characters are written out in the detail, never passed on to the feed.
    expect(decision.detail).not.toMatch(/[\u200B\u202E]/);
  });

  it("refuses to create an account that looks like one already on the workstation, and leaves both alone", () => {
    const before = workstationWith({ name: "jsmith" }, { name: "HR" });
    for (const username of ["jsmіth", "JSMlTH", "НR"]) {
      const { store, decision } = ensureLocalAccount(before, { username, fullName: "", password: PASSWORD });
      expect(decision).toEqual({ outcome: "REFUSED", detail: expect.stringMatching(/looks like local account "(jsmith|HR)"/) });
      expect(store).toBe(before);
    }
  });

  it("finds the existing account as Windows compares names: ß is not SS, ı is not I", () => {
    const before = workstationWith({ name: "straße" }, { name: "ali" });
    expect(findLocalAccount(before, "STRAßE")?.name).toBe("straße");
    expect(findLocalAccount(before, "STRASSE")).toBeUndefined();
    expect(findLocalAccount(before, "ALI")?.name).toBe("ali");
    expect(findLocalAccount(before, "alı")).toBeUndefined();
    expect(decideAccount(before, "STRAßE", PASSWORD).outcome).toBe("TAKEN_OVER");
    // A different account to Windows, but one that would pass for the existing one.
    expect(decideAccount(before, "alı", PASSWORD)).toMatchObject({ outcome: "REFUSED", detail: expect.stringMatching(/looks like local account "ali"/) });
    expect(decideAccount(before, "strasse", PASSWORD).outcome).toBe("CREATED");
  });

  it("rejects a password the local policy does not allow, before touching the account", () => {
    const before = workstationWith({ name: "ada" });
    const { store, decision } = ensureLocalAccount(before, { username: "ada", fullName: "Ada", password: "short" });
    expect(decision).toEqual({ outcome: "PASSWORD_REJECTED", detail: "the local password policy requires at least 8 characters" });
    expect(store).toBe(before);
  });

  it("follows a policy configured in the state: longer minimum, Windows complexity", () => {
    const strict: LocalAccountStore = { ...workstationWith(), policy: { minLength: 14, maxLength: 127, requireComplexity: true } };
    expect(decideAccount(strict, "ada", "orbit-lantern-7").outcome).toBe("CREATED");
    expect(decideAccount(strict, "ada", "orbit-lantern").detail).toMatch(/at least 14/);
    expect(decideAccount(strict, "ada", "orbitlanterncascade").detail).toMatch(/three of/);
    expect(decideAccount(strict, "ada", "Ada-Lantern-2024!").detail).toMatch(/account name/);
    expect(decideAccount(strict, "ada", "x".repeat(128)).outcome).toBe("PASSWORD_REJECTED");
  });

  it("refuses before it judges the password: an administrator with a weak password is REFUSED", () => {
    expect(decideAccount(workstationWith({ name: "boss", groups: ["Administrators"] }), "boss", "x").outcome).toBe("REFUSED");
  });
});
