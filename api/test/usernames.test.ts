// Usernames become Windows local accounts: the directory refuses names Windows
// would misread or a person would mistake for another, and compares names as
// Windows does. Through the real server, embedded or PostgreSQL.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPassword } from "@latchkey/passwords";
import { Api, unique } from "./harness.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed } from "./seed.ts";
import { passwordLogIn } from "./password-login.ts";

let api: Api;
beforeAll(async () => {
  api = await Api.start();
});
afterAll(() => api?.stop());

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
  ... on CreateUserPayload { user { id username } }
  ... on Error { code message } ... on ValidationError { fields { path message } } ... on ConflictError { field } } }`;
const UPDATE_USER = `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename
  ... on UpdateUserPayload { user { id username } }
  ... on Error { code message } ... on ValidationError { fields { path message } } ... on ConflictError { field } } }`;

let counter = 0;
function newUser(tenantId: string, username: string) {
  counter += 1;
  return { tenantId, firstName: "Grace", lastName: "Hopper", username, email: `user${counter}@contoso.test`, role: "USER" };
}

/** The user with a password the admin's client registered, so the tests can sign in by the name. */
async function withPassword(server: Api, token: string, input: ReturnType<typeof newUser>) {
  const { registrationId } = await registerPassword(server.run(token), { tenant: input.tenantId, password: PASSWORD });
  return { ...input, passwordRegistrationId: registrationId };
}

async function customer(): Promise<{ msp: MspSeed; contoso: CustomerSeed }> {
  const msp = await seed(api).msp();
  return { msp, contoso: await msp.customer() };
}

async function create(msp: MspSeed, tenantId: string, username: string) {
  return (await api.gql(CREATE_USER, { input: await withPassword(api, msp.token, newUser(tenantId, username)) }, { token: msp.token })).createUser;
}

/** Everything stored about a tenant's users' names, to show a refusal wrote nothing. */
async function names(tenantId: string) {
  const users = await api.db.user.findMany({ where: { tenantId }, select: { id: true, username: true, usernameKey: true }, orderBy: { id: "asc" } });
  const skeletons = await api.db.usernameSkeleton.findMany({ where: { tenantId }, orderBy: { skeleton: "asc" } });
  return { users, skeletons };
}

const REFUSED = [
  ["Admіnistrator", "a homoglyph of Administrator (Cyrillic і)", /looks like the reserved Windows account name "Administrator"/],
  ["Admınistrator", "Administrator with a dotless ı", /looks like the reserved Windows account name "Administrator"/],
  ["ADMİNİSTRATOR", "Administrator with dotted İ", /looks like the reserved Windows account name "Administrator"/],
  ["ſystem", "a long s", /NFKC/],
  ["ｇｈｏｐｐｅｒ", "fullwidth letters", /NFKC/],
  ["grace\u200B", "a zero-width space", /Invisible/],
  ["gr\u200Dace", "a zero-width joiner", /Invisible/],
  ["\u202Eecarg", "a right-to-left override", /direction/],
  ["grace\u2066x", "a bidi isolate", /direction/],
  ["NUL", "the device name NUL", /device names/],
  ["con.txt", "a device name with an extension", /device names/],
  ["COM¹", "COM with a superscript one", /device names/],
  ["lpt³.log", "LPT with a superscript three and an extension", /device names/],
] as const;

describe("names that become Windows accounts", () => {
  it.each(REFUSED)("createUser refuses %j (%s) with VALIDATION on the username and writes nothing", async (username, _why, message) => {
    const { msp, contoso } = await customer();
    const before = await names(contoso.id);
    const result = await create(msp, contoso.id, username);
    expect(result).toMatchObject({ __typename: "ValidationError", code: "VALIDATION", fields: [{ path: "username", message: expect.stringMatching(message) }] });
    expect(await names(contoso.id)).toEqual(before);
  });

  it.each(REFUSED)("updateUser refuses %j (%s) with VALIDATION on the username and changes nothing", async (username, _why, message) => {
    const { msp, contoso } = await customer();
    const { user } = await create(msp, contoso.id, "ghopper");
    const before = await names(contoso.id);
    const { updateUser } = await api.gql(UPDATE_USER, { input: { userId: user.id, username } }, { token: msp.token });
    expect(updateUser).toMatchObject({ __typename: "ValidationError", fields: [{ path: "username", message: expect.stringMatching(message) }] });
    expect(await names(contoso.id)).toEqual(before);
  });

  it.each([
    ["ghоpper", "ghopper", "Cyrillic о"],
    ["admın", "admin", "dotless ı"],
    ["ADMİN", "admin", "dotted İ"],
    ["ТОМ", "tom", "Cyrillic capitals"],
    ["JSMlTH", "jsmith", "small L among capitals"],
    ["rnary", "mary", "r n for m"],
  ])("createUser refuses %j beside %j (%s) with CONFLICT on the username, naming it, and writes nothing", async (lookalike, existing) => {
    const { msp, contoso } = await customer();
    expect((await create(msp, contoso.id, existing)).__typename).toBe("CreateUserPayload");
    const before = await names(contoso.id);
    const result = await create(msp, contoso.id, lookalike);
    expect(result).toEqual({
      __typename: "ConflictError",
      code: "CONFLICT",
      field: "username",
      message: `This username looks like "${existing}", which another user of this tenant has`,
    });
    expect(await names(contoso.id)).toEqual(before);
    // Another tenant may have it.
    const fabrikam = await msp.customer();
    expect((await create(msp, fabrikam.id, lookalike)).__typename).toBe("CreateUserPayload");
  });

  it("updateUser refuses a rename to a look-alike of another user with CONFLICT, and changes nothing", async () => {
    const { msp, contoso } = await customer();
    await create(msp, contoso.id, "ghopper");
    const { user } = await create(msp, contoso.id, "alovelace");
    const before = await names(contoso.id);
    const { updateUser } = await api.gql(UPDATE_USER, { input: { userId: user.id, username: "ghоpper" } }, { token: msp.token });
    expect(updateUser).toMatchObject({ __typename: "ConflictError", code: "CONFLICT", field: "username", message: expect.stringContaining('"ghopper"') });
    expect(await names(contoso.id)).toEqual(before);
  });

  it("lets a user be renamed to another spelling of their own name, and frees the old look when renamed away or deleted", async () => {
    const { msp, contoso } = await customer();
    const { user } = await create(msp, contoso.id, "ghopper");
    const respelled = await api.gql(UPDATE_USER, { input: { userId: user.id, username: "GHopper" } }, { token: msp.token });
    expect(respelled.updateUser).toMatchObject({ __typename: "UpdateUserPayload", user: { username: "GHopper" } });
    const renamed = await api.gql(UPDATE_USER, { input: { userId: user.id, username: "gracie" } }, { token: msp.token });
    expect(renamed.updateUser.__typename).toBe("UpdateUserPayload");
    const { user: other } = await create(msp, contoso.id, "ghоpper");
    expect(other.username).toBe("ghоpper");
    await api.gql(`mutation($id: ID!) { deleteUser(input: { userId: $id }) { __typename } }`, { id: other.id }, { token: msp.token });
    expect((await create(msp, contoso.id, "ghopper")).__typename).toBe("CreateUserPayload");
  });

  it("lets exactly one of many look-alikes created at once in, the others CONFLICT on the username", async () => {
    const { msp, contoso } = await customer();
    // One name, spelled with Latin, Cyrillic and Greek o, digit 0, and in other cases: every two of
    // them share a skeleton, so whichever is made first, every other one is refused. ("ghоррег", with a
    // Cyrillic г, would not do: it looks like "ghopper" but shares no skeleton with "gh0pper".)
    const spellings = ["ghopper", "ghоpper", "ghοpper", "gh0pper", "GHOPPER", "Ghopper", "ghoppеr", "ghорреr"];
    const results = await Promise.all(spellings.map((username) => create(msp, contoso.id, username)));
    const created = results.filter((result) => result.__typename === "CreateUserPayload");
    expect(created).toHaveLength(1);
    for (const result of results.filter((result) => result.__typename !== "CreateUserPayload")) {
      expect(result).toMatchObject({ __typename: "ConflictError", code: "CONFLICT", field: "username" });
    }
    const { users, skeletons } = await names(contoso.id);
    expect(users.map((user) => user.username)).toEqual([created[0].user.username]);
    expect(new Set(skeletons.map((row) => row.userId))).toEqual(new Set([created[0].user.id]));
  });

  it("compares names as Windows does: straße and strasse are two users, found by their own spelling in any case", async () => {
    const { msp, contoso } = await customer();
    expect((await create(msp, contoso.id, "straße")).__typename).toBe("CreateUserPayload");
    const logIn = async (login: string) => (await passwordLogIn(api, { tenant: contoso.slug, login, password: PASSWORD })).outcome;
    expect(await logIn("STRAßE")).toBe("AuthPayload");
    expect(await logIn("STRASSE")).not.toBe("AuthPayload");
    expect((await create(msp, contoso.id, "strasse")).__typename).toBe("CreateUserPayload");
    expect(await logIn("STRASSE")).toBe("AuthPayload");
    const { users } = await names(contoso.id);
    expect(users.map((user) => user.usernameKey).sort()).toEqual(["STRASSE", "STRAßE"]);
  });

  it("keeps dotless ı and dotted İ apart from i when signing in, as Windows does", async () => {
    const { msp, contoso } = await customer();
    await create(msp, contoso.id, "admin");
    const logIn = async (login: string) => (await passwordLogIn(api, { tenant: contoso.slug, login, password: PASSWORD })).outcome;
    expect(await logIn("ADMIN")).toBe("AuthPayload");
    expect(await logIn("admın")).not.toBe("AuthPayload");
    expect(await logIn("ADMİN")).not.toBe("AuthPayload");
  });
});

describe("the first admin of a new MSP", () => {
  it.each([
    ["grace.hopper", "grace.hopper"],
    ["administrator", "admin1"],
    ["nul", "admin1"],
    ["com1", "admin1"],
  ])("signing up as %s@... gets the username %s, a name the rules accept", async (local, expected) => {
    const slug = unique("names").toLowerCase();
    const { signUpMsp } = await api.gql(`mutation($input: SignUpMspInput!) { signUpMsp(input: $input) { __typename ... on AuthPayload { token } } }`, {
      input: {
        slug, displayName: "Names IT", firstName: "Ada", lastName: "Lovelace", email: `${local}@${slug}.test`,
        passwordRegistrationId: (await registerPassword(api.run(), { password: PASSWORD })).registrationId,
      },
    });
    const { viewer } = await api.gql(`{ viewer { user { username } } }`, {}, { token: signUpMsp.token });
    expect(viewer.user.username).toBe(expected);
  });
});

describe("users made before these rules", () => {
  it("get Windows keys and skeleton rows when the API starts, and a clash between two is logged", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "latchkey-usernames-"));
    const env = { DATA_DIR: dataDir, KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"), KEY_ENCRYPTION_KEY_ID: "usernames" };
    let first: Api | undefined = await Api.start(env);
    let second: Api | undefined;
    try {
      const msp = await seed(first).msp();
      const contoso = await msp.customer();
      const created = async (username: string) => (await first!.gql(CREATE_USER, { input: await withPassword(first!, msp.token, newUser(contoso.id, username)) }, { token: msp.token })).createUser.user.id as string;
      const grace = await created("straße");
      const smith = await created("jsmith");
      const imitator = await created("bsmith");
      // As an earlier version left them: lower-cased keys, no skeletons, and a look-alike it let in.
      await first.db.user.update({ where: { id: imitator }, data: { username: "jsmіth", usernameKey: "jsmіth" } });
      await first.db.user.update({ where: { id: grace }, data: { usernameKey: "straße" } });
      await first.db.user.update({ where: { id: smith }, data: { usernameKey: "jsmith" } });
      await first.db.usernameSkeleton.deleteMany({ where: { userId: { in: [grace, smith, imitator] } } });
      await first.stop();
      first = undefined;

      second = await Api.start(env);
      const keys = await second.db.user.findMany({ where: { id: { in: [grace, smith, imitator] } }, select: { id: true, usernameKey: true } });
      expect(Object.fromEntries(keys.map((user) => [user.id, user.usernameKey]))).toEqual({ [grace]: "STRAßE", [smith]: "JSMITH", [imitator]: "JSMІTH" });
      expect(await second.db.usernameSkeleton.count({ where: { userId: grace } })).toBeGreaterThan(0);
      expect(await second.db.usernameSkeleton.count({ where: { userId: smith } })).toBeGreaterThan(0);
      expect(second.logs.join("\n")).toMatch(/a username looks like another's of its tenant; rename one/);
      // The older user keeps the look: no new look-alike of it gets in.
      const lookalike = await second.gql(CREATE_USER, { input: newUser(contoso.id, "JSMlTH") }, { token: msp.token });
      expect(lookalike.createUser).toMatchObject({ __typename: "ConflictError", field: "username" });
      expect((await passwordLogIn(second, { tenant: contoso.slug, login: "STRAßE", password: PASSWORD })).outcome).toBe("AuthPayload");
    } finally {
      await first?.stop();
      await second?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
