import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { passes, reviewSchemaChange, type BreakingChangeDeclaration } from "../src/changes/breaking-changes.ts";
import { renderChangelog } from "../src/changes/changelog.ts";
import { openSdlRepository } from "../src/changes/sdl-history.ts";

const TODAY = "2027-03-01";

const published = `
type Query {
  tenant(id: ID!): Tenant
}
type Tenant {
  id: ID!
  displayName: String!
}
`;

const withoutDisplayName = `
type Query {
  tenant(id: ID!): Tenant
}
type Tenant {
  id: ID!
  name: String!
}
`;

const declared: BreakingChangeDeclaration = {
  type: "FIELD_REMOVED",
  path: "Tenant.displayName",
  reason: "Renamed to name, as the portal calls it",
  date: "2027-02-27",
};

describe("the breaking-change check", () => {
  it("fails on a removed field nobody declared, naming it", async () => {
    const review = await reviewSchemaChange({ before: published, after: withoutDisplayName, declarations: [], today: TODAY });
    expect(passes(review)).toBe(false);
    expect(review.undeclared.map(({ change }) => [change.type, change.path])).toEqual([["FIELD_REMOVED", "Tenant.displayName"]]);
  });

  it("passes once that removal is declared, and only that one", async () => {
    const review = await reviewSchemaChange({ before: published, after: withoutDisplayName, declarations: [declared], today: TODAY });
    expect(passes(review)).toBe(true);
    expect(review.declared.map(({ declaration }) => declaration)).toEqual([declared]);

    const other = { ...declared, path: "Tenant.id" };
    const stillUndeclared = await reviewSchemaChange({ before: published, after: withoutDisplayName, declarations: [other], today: TODAY });
    expect(passes(stillUndeclared)).toBe(false);
  });

  it("lets a deprecated mutation, and the types only it used, go once its removal date has passed", async () => {
    const deprecated = `
      type Query { tenant(id: ID!): Tenant }
      type Tenant { id: ID! name: String! }
      type Mutation {
        renameTenant(input: RenameTenantInput!): RenameTenantPayload! @deprecated(reason: "Use updateTenant. Removed after 2027-02-28.")
        updateTenant(id: ID!, name: String!): Tenant!
      }
      input RenameTenantInput { id: ID! name: String! }
      type RenameTenantPayload { tenant: Tenant! }
    `;
    const removed = `
      type Query { tenant(id: ID!): Tenant }
      type Tenant { id: ID! name: String! }
      type Mutation { updateTenant(id: ID!, name: String!): Tenant! }
    `;
    const afterTheDate = await reviewSchemaChange({ before: deprecated, after: removed, declarations: [], today: TODAY });
    expect(passes(afterTheDate)).toBe(true);
    expect(afterTheDate.removedAsAnnounced.map(({ change }) => change.path).sort()).toEqual([
      "Mutation.renameTenant",
      "RenameTenantInput",
      "RenameTenantPayload",
    ]);

    const onTheDate = await reviewSchemaChange({ before: deprecated, after: removed, declarations: [], today: "2027-02-28" });
    expect(passes(onTheDate)).toBe(false);
    expect(onTheDate.undeclared.find(({ change }) => change.path === "Mutation.renameTenant")?.note).toMatch(/2027-02-28 is not before today/);
  });

  it("does not fail on additions, even dangerous ones", async () => {
    const before = "type Query { status: Status } enum Status { ACTIVE }";
    const after = 'type Query { status: Status, tenants: [ID!]! } enum Status { ACTIVE SUSPENDED } "A tenant" scalar Slug';
    const review = await reviewSchemaChange({ before, after, declarations: [], today: TODAY });
    expect(passes(review)).toBe(true);
    expect(review.changes.map((c) => c.criticality).sort()).toEqual(["DANGEROUS", "NON_BREAKING", "NON_BREAKING"]);
  });
});

describe("the schema changelog", () => {
  let repo: string | undefined;
  afterEach(() => {
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  function repository() {
    repo = mkdtempSync(join(tmpdir(), "latchkey-sdl-history-"));
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], {
        cwd: repo,
        stdio: "pipe",
      });
    git("init", "-q", "-b", "main");
    const sdlFile = join(repo, "schema.graphql");
    return {
      sdlFile,
      write: (sdl: string) => writeFileSync(sdlFile, sdl),
      commit: (subject: string) => git("commit", "-q", "--allow-empty", "-am", subject),
      add: () => git("add", "schema.graphql"),
      changelog: async () => {
        const history = openSdlRepository(sdlFile);
        if (!history.available) throw new Error(history.why);
        return renderChangelog(history.changes(), [declared]);
      },
    };
  }

  it("written before a commit is what the check computes after it, until the SDL changes again", async () => {
    const sdl = repository();
    sdl.write(published);
    sdl.add();
    sdl.commit("Tenants");
    sdl.write(withoutDisplayName);

    const beforeCommit = await sdl.changelog();
    expect(beforeCommit).toMatch(/## Latest, on top of `[0-9a-f]{10}`/);
    expect(beforeCommit).toContain("### Breaking\n\n- Field `displayName` was removed from object type `Tenant`. Declared (2027-02-27)");

    sdl.commit("Tenants are named as the portal names them");
    expect(await sdl.changelog()).toBe(beforeCommit);
    sdl.commit("An unrelated change");
    expect(await sdl.changelog()).toBe(beforeCommit);

    sdl.write(`${withoutDisplayName}\ntype Workstation { id: ID! }\n`);
    const next = await sdl.changelog();
    expect(next).not.toBe(beforeCommit);
    expect(next).toMatch(/## \d{4}-\d{2}-\d{2} · `[0-9a-f]{10}` · Tenants are named as the portal names them/);
  });

  it("is not guessed from a shallow clone, whose oldest commit only seems to add the SDL", () => {
    const sdl = repository();
    sdl.write(published);
    sdl.add();
    sdl.commit("Tenants");
    sdl.write(withoutDisplayName);
    sdl.commit("Tenants are named as the portal names them");

    const clone = join(repo!, "shallow");
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${repo}`, clone], { stdio: "pipe" });
    const history = openSdlRepository(join(clone, "schema.graphql"));
    expect(history.available && history.shallow).toBe(true);
    expect(history.available && history.changes()).toEqual([]);
  });
});
