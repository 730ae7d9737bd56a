// The `desktop-agent` command line without an API: usage, errors, and what it
// prints from the state file. Logins against the real API are in
// api/test/desktop-agent-cli.test.ts.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphqlEndpoint } from "../src/cli.ts";
import { addLocalAccount, DesktopAgent, writeStateFile } from "../src/index.ts";

const bin = fileURLToPath(new URL("../bin/desktop-agent.mjs", import.meta.url));
// An API that cannot be reached: fetch refuses port 1 outright ("bad port").
const UNREACHABLE_API = "http://127.0.0.1:1/graphql";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "latchkey-desktop-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the CLI; resolves with its exit code and output whatever the code. */
function agent(args: string[], stdin = "") {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(process.execPath, [bin, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}

async function enrolledStateFile(name: string) {
  const path = join(dir, name);
  const state = (await DesktopAgent.create({ apiUrl: UNREACHABLE_API })).toState();
  state.workstation = { id: randomUUID(), name: "FRONT-DESK-01", hostname: "front-desk-01", os: "Windows 11", status: "APPROVED", enrolledAt: new Date().toISOString() };
  state.localAccounts = addLocalAccount(state.localAccounts, { name: "reception", fullName: "Front desk", groups: ["Users"], password: "local-secret-123" });
  await writeStateFile(path, state);
  return path;
}

describe("desktop-agent CLI", () => {
  it("prints its usage", async () => {
    const { code, stdout } = await agent(["--help"]);
    expect(code).toBe(0);
    for (const command of ["enroll --token", "enroll --config", "config", "login --username", "qr-login", "events", "--show-password"]) expect(stdout).toContain(command);
  });

  it.each([
    [[], "USAGE"],
    [["reboot"], "USAGE"],
    [["login"], "USAGE"],
    [["enroll"], "USAGE"],
    [["events", "--username", "ada"], "USAGE"],
    [["events", "--first", "0"], "USAGE"],
    [["enroll", "--token", "t", "--keys", "rsa"], "USAGE"],
    [["login", "--username", "ada", "--password", "x", "--state", "/nonexistent/agent.json"], "NO_STATE"],
  ])("%j exits 1 with one error line: %s", async (args, errorCode) => {
    const { code, stdout, stderr } = await agent(args);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^error: ${errorCode}: `));
  });

  it("does not leave a state file behind when enrollment cannot reach the API", async () => {
    const path = join(dir, "never-enrolled.json");
    const { code, stderr } = await agent(["enroll", "--token", "lk_install_x", "--api", UNREACHABLE_API, "--state", path]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: NETWORK_ERROR: /);
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("enrolls from the portal's configuration file alone, and refuses one it cannot use", async () => {
    const missing = await agent(["enroll", "--config", join(dir, "no-such-config.json"), "--state", join(dir, "c1.json")]);
    expect(missing.stderr).toMatch(/^error: BAD_CONFIG: cannot read .*no such file/);
    const notOurs = join(dir, "not-ours.json");
    await writeFile(notOurs, JSON.stringify({ api: UNREACHABLE_API, token: "lk_install_x" }));
    expect((await agent(["enroll", "--config", notOurs, "--state", join(dir, "c2.json")])).stderr).toMatch(/^error: BAD_CONFIG: .* is not a Latchkey agent configuration/);

    // A usable file: the address it names is the one asked (unreachable here), and the file
    // stands alone — an --api, --tenant or --token beside it is refused, not merged.
    const config = join(dir, "latchkey-agent.json");
    await writeFile(config, JSON.stringify({ latchkeyAgentConfiguration: 1, api: UNREACHABLE_API, tenant: "contoso-acme", installToken: "lk_install_x" }));
    const path = join(dir, "c3.json");
    const attempt = await agent(["enroll", "--config", config, "--state", path]);
    expect(attempt.stderr).toMatch(/^error: NETWORK_ERROR: /);
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    for (const extra of [["--api", UNREACHABLE_API], ["--tenant", "other"], ["--token", "t"]]) {
      expect((await agent(["enroll", "--config", config, ...extra, "--state", path])).stderr).toMatch(/^error: USAGE: --config holds/);
    }
  });

  it("reads the password from standard input and never echoes it, even when the login fails", async () => {
    const path = await enrolledStateFile("login.json");
    const { code, stdout, stderr } = await agent(["login", "--username", "ada", "--state", path], "pass word with spaces  \n");
    expect(code).toBe(1);
    // No API here: Windows' own check against the local accounts, where ada has none.
    expect(stderr).toMatch(/^The directory cannot be asked \(cannot reach the API .*\); checking the local account instead\.$/m);
    expect(stderr).toMatch(/^error: INVALID_CREDENTIALS: /m);
    expect(stdout + stderr).not.toContain("pass word");
  });

  it("lists the local accounts without their password hashes", async () => {
    const path = await enrolledStateFile("accounts.json");
    const { code, stdout } = await agent(["accounts", "--state", path]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Administrator {2}groups: Administrators/m);
    expect(stdout).toMatch(/^reception {2}"Front desk" {2}groups: Users {2}password set \d{4}-/m);
    const json = JSON.parse((await agent(["accounts", "--json", "--state", path])).stdout);
    expect(json.policy).toEqual({ minLength: 8, maxLength: 127, requireComplexity: false });
    expect(json.accounts.find((account: { name: string }) => account.name === "reception")).not.toHaveProperty("passwordHash");
  });
});

describe("--api", () => {
  it("takes the API's origin or its GraphQL endpoint", () => {
    expect(graphqlEndpoint("http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000/graphql");
    expect(graphqlEndpoint("https://api.example/")).toBe("https://api.example/graphql");
    expect(graphqlEndpoint("https://api.example/graphql")).toBe("https://api.example/graphql");
    expect(graphqlEndpoint("https://example/latchkey/graphql")).toBe("https://example/latchkey/graphql");
  });
});
