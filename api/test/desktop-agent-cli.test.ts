// The `desktop-agent` command line, as an installer and a login screen would
// use it, against the real API: enrollment with install tokens, configuration
// and branding, password login that creates, takes over or refuses a local
// account, passwordless login approved with the `authenticator` command line,
// and every refusal as a typed error and a login event.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addLocalAccount, findLocalAccount, readStateFile, verifyLocalPassword, writeStateFile } from "@latchkey/desktop";
import { registerPassword } from "@latchkey/passwords";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { desktopSeed, type DesktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { sweepUnfinishedLogins } from "./password-login.ts";
import { PASSWORD, seed, type CustomerSeed, type MspSeed } from "./seed.ts";

const AGENT_BIN = fileURLToPath(new URL("../../clients/desktop/bin/desktop-agent.mjs", import.meta.url));

let api: Api;
let dir: string;
let msp: MspSeed;
beforeAll(async () => {
  api = await Api.start();
  dir = await mkdtemp(join(tmpdir(), "latchkey-desktop-cli-"));
  msp = await seed(api).msp();
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

type Run = { code: number | null; stdout: string; stderr: string };

let stateFiles = 0;
/** A state file path of its own: one per workstation. */
const newStatePath = (name = "agent") => join(dir, `${name}-${(stateFiles += 1)}.json`);

/**
 * Runs `desktop-agent` with --api and --state; `stdin` is what is typed (a
 * pipe, so the password prompt reads one line); `onStderr` sees standard error
 * as it arrives (the QR login screen).
 */
function desktopAgent(
  statePath: string,
  args: string[],
  /** `interruptWhen`: sends Ctrl-C (SIGINT) once what the agent printed satisfies it. */
  /** `api`: another address for the API (one nothing answers at, for a workstation offline). */
  options: { stdin?: string; onStderr?: (text: string) => void; interruptWhen?: (stderr: string) => boolean; api?: string } = {},
) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_BIN, ...args, "--api", options.api ?? `${api.url}/graphql`, "--state", statePath]);
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill(), 60_000);
    child.stdout.on("data", (chunk) => (stdout += chunk));
    let interrupted = false;
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      options.onStderr?.(stderr);
      if (!interrupted && options.interruptWhen?.(stderr)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** The one error line's code, as `error: CODE: message`. */
const errorCode = (run: Run) => /^error: ([A-Z_]+): /.exec(run.stderr.trim().split("\n").at(-1) ?? "")?.[1] ?? null;

/** `enroll` with a token; returns the workstation id it printed. */
async function enroll(statePath: string, token: string, extra: string[] = []) {
  const run = await desktopAgent(statePath, ["enroll", "--token", token, "--hostname", "FRONTDESK-01", "--os", "Windows 11 Pro 24H2", ...extra]);
  expect(run.code, run.stderr).toBe(0);
  const id = /workstation ([0-9a-f-]{36})/.exec(run.stdout)?.[1];
  expect(id).toBeDefined();
  return { run, id: id! };
}

/** A customer with desktop login on, and one approved workstation (auto-approving token). */
async function customerWithWorkstation(settings: Parameters<DesktopSeed["settings"]>[0] = {}) {
  const customer = await msp.customer();
  const desk = desktopSeed(api, msp, customer);
  await desk.settings({ desktopLoginEnabled: true, ...settings });
  const statePath = newStatePath();
  const { id } = await enroll(statePath, (await desk.installToken({ autoApprove: true })).secret);
  return { customer, desk, statePath, workstationId: id };
}

/** Reads `--json` output. */
const json = (run: Run) => JSON.parse(run.stdout) as Record<string, any>;

describe("enrollment", () => {
  let customer: CustomerSeed;
  let desk: DesktopSeed;
  beforeAll(async () => {
    customer = await msp.customer();
    desk = desktopSeed(api, msp, customer);
    await desk.settings({ desktopLoginEnabled: true });
  });

  it("enrolls PENDING with a one-use token; nobody logs in until an admin approves", async () => {
    const token = await desk.installToken();
    const statePath = newStatePath();
    const { run, id } = await enroll(statePath, token.secret);
    expect(run.stdout).toMatch(/is PENDING/);
    expect(run.stdout).toMatch(/An admin must approve/);
    expect((await stat(statePath)).mode & 0o777).toBe(0o600);

    const config = await desktopAgent(statePath, ["config"]);
    expect(config.code, config.stderr).toBe(0);
    expect(config.stdout).toContain(`workstation: ${id} "FRONTDESK-01" (PENDING)`);
    expect(config.stdout).toContain(`tenant: Customer ${customer.name} (${customer.slug})`);

    const user = await customer.user();
    const pending = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
    expect(pending.code).toBe(1);
    expect(errorCode(pending)).toBe("WORKSTATION_PENDING");
    expect((await desktopAgent(statePath, ["qr-login"])).stderr).toMatch(/^error: WORKSTATION_PENDING: /m);
    expect(await desk.loginEvents()).toContainEqual(expect.objectContaining({ username: user.username, outcome: "FAILED", reason: "WORKSTATION_PENDING", workstationId: id }));

    // The token was for one workstation only.
    const second = await desktopAgent(newStatePath(), ["enroll", "--token", token.secret]);
    expect(errorCode(second)).toBe("INSTALL_TOKEN_USED_UP");

    await desk.approve(id);
    expect((await desktopAgent(statePath, ["config"])).stdout).toContain("(APPROVED)");
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("outcome: CREATED");
  });

  it("enrolls APPROVED at once with an auto-approving token, with P-256 keys if asked", async () => {
    const statePath = newStatePath();
    const { run } = await enroll(statePath, (await desk.installToken({ autoApprove: true })).secret, ["--keys", "p256"]);
    expect(run.stdout).toMatch(/is APPROVED/);
    const state = await readStateFile(statePath);
    expect([state.signingKey.algorithm, state.keyAgreementKey.algorithm]).toEqual(["P256", "P256"]);
    const user = await customer.user();
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD, "--json", "--show-password"]);
    expect(login.code, login.stderr).toBe(0);
    expect(json(login)).toMatchObject({ outcome: "CREATED", password: PASSWORD });

    // Enrolling again over an enrolled state file would orphan this workstation.
    const again = await desktopAgent(statePath, ["enroll", "--token", (await desk.installToken()).secret]);
    expect(errorCode(again)).toBe("ALREADY_ENROLLED");
  });

  it("refuses an expired or unknown install token with its own code", async () => {
    const expired = await desk.installToken();
    await desk.expireInstallToken(expired.id);
    const statePath = newStatePath();
    const refused = await desktopAgent(statePath, ["enroll", "--token", expired.secret]);
    expect(refused.code).toBe(1);
    expect(errorCode(refused)).toBe("INSTALL_TOKEN_EXPIRED");
    // Nothing was enrolled, so nothing was saved.
    await expect(stat(statePath)).rejects.toMatchObject({ code: "ENOENT" });
    expect(errorCode(await desktopAgent(newStatePath(), ["enroll", "--token", "lkit_not-a-real-token"]))).toBe("INSTALL_TOKEN_INVALID");
  });

  it("refuses another organisation's token when set up for one, and tells that token's admins", async () => {
    const other = await msp.customer();
    const otherDesk = desktopSeed(api, msp, other);
    const token = await otherDesk.installToken();
    const refused = await desktopAgent(newStatePath(), ["enroll", "--token", token.secret, "--tenant", customer.slug]);
    expect(errorCode(refused)).toBe("INSTALL_TOKEN_WRONG_TENANT");
    const { auditEvents } = await api.gql(
      `query($t: ID!) { auditEvents(tenantId: $t, first: 20) { edges { node { action data } } } }`,
      { t: other.id },
      { token: msp.token },
    );
    expect(auditEvents.edges.map((e: { node: unknown }) => e.node)).toContainEqual({
      action: "workstation.enrollmentRefused",
      data: { reason: "INSTALL_TOKEN_WRONG_TENANT", hostname: expect.any(String) },
    });
    // Set up for the right organisation, the same token enrolls.
    const { run } = await enroll(newStatePath(), token.secret, ["--tenant", other.slug]);
    expect(run.stdout).toMatch(/is PENDING/);
  });
});

describe("configuration and branding", () => {
  it("downloads branding images once per hash and keeps them next to the state file", async () => {
    const { desk, statePath } = await customerWithWorkstation({ method: "PASSWORDLESS", passwordFallback: true, brandingText: "Welcome to Contoso\nIT: ext. 42" });
    const background = await desk.brandingImage("BACKGROUND", 40);

    const first = await desktopAgent(statePath, ["config"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("method: PASSWORDLESS (password fallback: yes)");
    expect(first.stdout).toContain('branding text: "Welcome to Contoso\\nIT: ext. 42"');
    expect(first.stdout).toMatch(new RegExp(`background: \\S+${background}\\.png \\(image/png, 64x32, downloaded\\)`));
    expect(first.stdout).toContain("logo: none");
    const file = join(dir, `${statePath.split("/").at(-1)!.replace(/\.json$/, "")}-branding`, `${background}.png`);
    expect(createHash("sha256").update(await readFile(file)).digest("hex")).toBe(background);

    const second = await desktopAgent(statePath, ["config", "--json"]);
    expect(json(second)).toMatchObject({ downloaded: [], branding: { background: { hash: background, file } } });

    // A new background replaces the old one in the cache.
    const replaced = await desk.brandingImage("BACKGROUND", 99);
    const third = await desktopAgent(statePath, ["config"]);
    expect(third.stdout).toMatch(new RegExp(`${replaced}\\.png .*downloaded`));
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("password login", () => {
  let customer: CustomerSeed;
  let desk: DesktopSeed;
  let statePath: string;
  let workstationId: string;
  beforeAll(async () => {
    ({ customer, desk, statePath, workstationId } = await customerWithWorkstation());
  });

  /** Adds a local account to the workstation, as Windows or a local admin would have made it. */
  async function existingLocalAccount(name: string, groups: string[]) {
    const state = await readStateFile(statePath);
    await writeStateFile(statePath, { ...state, localAccounts: addLocalAccount(state.localAccounts, { name, groups, password: "local-only-password" }) });
  }

  it("creates the local account with the unsealed directory password, and reports CREATED", async () => {
    const user = await customer.user();
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD, "--show-password"]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`username: ${user.username}`);
    expect(login.stdout).toContain("action: ENSURE_LOCAL_ACCOUNT");
    expect(login.stdout).toContain("outcome: CREATED");
    expect(login.stdout).toContain("reported: yes");
    expect(login.stdout).toContain(`password: ${PASSWORD}`);

    const state = await readStateFile(statePath);
    const account = findLocalAccount(state.localAccounts, user.username)!;
    expect(account).toMatchObject({ groups: ["Users"], managedBy: "latchkey" });
    expect(verifyLocalPassword(account, PASSWORD)).toBe(true);
    expect(await readFile(statePath, "utf8")).not.toContain(PASSWORD);

    const attemptId = /attempt: (\S+)/.exec(login.stdout)![1];
    expect((await desk.loginEvents()).find((event) => event.id === attemptId)).toMatchObject({
      username: user.username,
      method: "PASSWORD",
      outcome: "SUCCEEDED",
      accountOutcome: "CREATED",
      workstationId,
      user: { id: user.id },
    });
    const events = await desktopAgent(statePath, ["events"]);
    expect(events.stdout).toMatch(new RegExp(`PASSWORD {2}SUCCEEDED {2}${user.username} {2}account: CREATED`));
  });

  it("reads the password from standard input and never prints it without --show-password", async () => {
    const user = await customer.user();
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--json"], { stdin: `${PASSWORD}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(json(login)).toMatchObject({ method: "PASSWORD", outcome: "CREATED", reported: true, instruction: { username: user.username, workstationId } });
    expect(login.stdout + login.stderr).not.toContain(PASSWORD);
  });

  it("takes over an existing local account of that name and sets its password", async () => {
    const user = await customer.user();
    await existingLocalAccount(user.username.toUpperCase(), ["Users", "Remote Desktop Users"]);
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD, "--json"]);
    expect(login.code, login.stderr).toBe(0);
    expect(json(login)).toMatchObject({ outcome: "TAKEN_OVER", loginEvent: { accountOutcome: "TAKEN_OVER" } });
    const account = findLocalAccount((await readStateFile(statePath)).localAccounts, user.username)!;
    expect(account.groups).toEqual(["Users", "Remote Desktop Users"]);
    expect(verifyLocalPassword(account, PASSWORD)).toBe(true);
    expect(verifyLocalPassword(account, "local-only-password")).toBe(false);
  });

  it("refuses to take over a member of the local Administrators group, and reports REFUSED", async () => {
    const user = await customer.user();
    await existingLocalAccount(user.username, ["Administrators"]);
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
    expect(login.code).toBe(1);
    expect(login.stdout).toContain("outcome: REFUSED");
    expect(errorCode(login)).toBe("ACCOUNT_REFUSED");
    expect(login.stderr).toMatch(/member of Administrators/);
    const account = findLocalAccount((await readStateFile(statePath)).localAccounts, user.username)!;
    expect(verifyLocalPassword(account, "local-only-password")).toBe(true);
    const attemptId = /attempt: (\S+)/.exec(login.stdout)![1];
    expect((await desk.loginEvents()).find((event) => event.id === attemptId)).toMatchObject({
      outcome: "SUCCEEDED",
      accountOutcome: "REFUSED",
      accountDetail: expect.stringMatching(/member of Administrators/),
    });
  });

  it("reports PASSWORD_REJECTED when the local password policy refuses the directory password", async () => {
    const user = await customer.user();
    const state = await readStateFile(statePath);
    await writeStateFile(statePath, { ...state, localAccounts: { ...state.localAccounts, policy: { ...state.localAccounts.policy, minLength: 40 } } });
    try {
      const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD, "--json"]);
      expect(login.code).toBe(1);
      expect(errorCode(login)).toBe("PASSWORD_REJECTED");
      expect(json(login)).toMatchObject({ outcome: "PASSWORD_REJECTED", loginEvent: { accountOutcome: "PASSWORD_REJECTED" } });
      expect(findLocalAccount((await readStateFile(statePath)).localAccounts, user.username)).toBeUndefined();
    } finally {
      const after = await readStateFile(statePath);
      await writeStateFile(statePath, { ...after, localAccounts: { ...after.localAccounts, policy: state.localAccounts.policy } });
    }
  });

  it("refuses a wrong password, an unknown, disabled or locked user with typed errors, each a login event", async () => {
    const user = await customer.user();
    const disabled = await customer.user();
    const locked = await customer.user();
    await desk.disableUser(disabled.id);
    // This workstation guesses wrong once for `locked`, then others lock the
    // account: the lock refuses only workstations that failed for it.
    await desktopAgent(statePath, ["login", "--username", locked.username, "--password", "a-wrong-guess-1"]);
    const lockedUntil = await desk.lockUser(locked.username);

    const cases = [
      { username: user.username, password: "not-the-password-1", code: "INVALID_CREDENTIALS", reason: "WRONG_PASSWORD", known: true },
      { username: "nobody-here", password: PASSWORD, code: "INVALID_CREDENTIALS", reason: "UNKNOWN_USER", known: false },
      { username: disabled.username, password: PASSWORD, code: "ACCOUNT_DISABLED", reason: "ACCOUNT_DISABLED", known: true },
      { username: locked.username, password: PASSWORD, code: "ACCOUNT_LOCKED", reason: "ACCOUNT_LOCKED", known: true },
    ];
    for (const attempt of cases) {
      const login = await desktopAgent(statePath, ["login", "--username", attempt.username, "--password", attempt.password]);
      expect(login.code, attempt.username).toBe(1);
      expect(login.stdout).toBe("");
      expect(errorCode(login), login.stderr).toBe(attempt.code);
      expect(login.stderr).not.toContain(attempt.password);
    }
    const lockedLine = (await desktopAgent(statePath, ["login", "--username", locked.username, "--password", PASSWORD])).stderr;
    const shown = /unlocks at (\S+?)[).]?(\s|$)/.exec(lockedLine)?.[1];
    expect(Math.abs(new Date(shown ?? 0).getTime() - lockedUntil.getTime()), lockedLine).toBeLessThan(2_000);

    // A wrong password and an unknown user never got past the agent's own finish: failed attempts once they expire.
    await sweepUnfinishedLogins(api, customer.id);
    // The workstation's own history says no more than its screen did: a wrong password and an unknown user read alike.
    const events = json(await desktopAgent(statePath, ["events", "--first", "50", "--json"])) as unknown as Record<string, unknown>[];
    const seenBy = (reason: string) => (reason === "WRONG_PASSWORD" || reason === "UNKNOWN_USER" ? "INVALID_CREDENTIALS" : reason);
    for (const attempt of cases) {
      expect(events, attempt.reason).toContainEqual(
        expect.objectContaining({ username: attempt.known ? attempt.username : null, method: "PASSWORD", outcome: "FAILED", reason: seenBy(attempt.reason) }),
      );
    }
    // The tenant's admins see why; an unknown login only as a keyed hash.
    const feed = await desk.loginEvents();
    for (const attempt of cases) expect(feed).toContainEqual(expect.objectContaining({ username: attempt.known ? attempt.username : null, reason: attempt.reason }));
    // Seven runs of the agent's command line, each a process of its own: slow on a busy machine.
  }, 180_000);

  it("refuses every login while desktop login is switched off", async () => {
    const user = await customer.user();
    await desk.settings({ desktopLoginEnabled: false });
    try {
      const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
      expect(errorCode(login)).toBe("DESKTOP_LOGIN_DISABLED");
      expect((await desktopAgent(statePath, ["config"])).stdout).toContain("desktop login: disabled");
    } finally {
      await desk.settings({ desktopLoginEnabled: true });
    }
    expect(await desk.loginEvents()).toContainEqual(expect.objectContaining({ username: user.username, outcome: "FAILED", reason: "DESKTOP_LOGIN_DISABLED" }));
  });
});

describe("passwordless login by QR", () => {
  let customer: CustomerSeed;
  let desk: DesktopSeed;
  let statePath: string;
  beforeAll(async () => {
    ({ customer, desk, statePath } = await customerWithWorkstation({ method: "PASSWORDLESS", passwordFallback: false }));
  });

  /** Runs `qr-login`, handing the code it shows to `decide` (the phone). */
  function qrLogin(decide: (qrPayload: string) => Promise<unknown>, args: string[] = []) {
    let decided: Promise<unknown> | null = null;
    const finished = desktopAgent(statePath, ["qr-login", ...args], {
      onStderr(text) {
        const payload = /^Code: (lk1\.\S+)$/m.exec(text)?.[1];
        if (payload && !decided) decided = decide(payload);
      },
    });
    return finished.then(async (run) => {
      await decided;
      return run;
    });
  }

  it("shows a QR code, and on the user's approval on their phone creates the account with their password", async () => {
    const user = await customer.user();
    const phone = await desk.phone(user, join(dir, `${user.username}-phone.json`));
    let shown = "";
    const login = await qrLogin(async (payload) => {
      shown = payload;
      return phone.approve(payload);
    }, ["--json", "--show-password"]);
    expect(login.code, login.stderr).toBe(0);
    // The login screen drew the code in the terminal before it waited.
    expect(login.stderr).toMatch(/[█▀▄]{7}/);
    expect(login.stderr).toContain("Scan this code with the Latchkey authenticator");
    expect(login.stderr).toMatch(/Approved on the phone\./);
    expect(shown).toMatch(/^lk1\./);
    expect(json(login)).toMatchObject({
      method: "QR",
      outcome: "CREATED",
      password: PASSWORD,
      instruction: { username: user.username, action: "ENSURE_LOCAL_ACCOUNT" },
      loginEvent: { accountOutcome: "CREATED" },
    });
    expect(verifyLocalPassword(findLocalAccount((await readStateFile(statePath)).localAccounts, user.username)!, PASSWORD)).toBe(true);
    expect((await desk.loginEvents()).find((event) => event.id === json(login).instruction.attemptId)).toMatchObject({ method: "QR", outcome: "SUCCEEDED", user: { id: user.id } });
  });

  it("gives a passwordless user a local password the agent makes and keeps sealed to its own key; the server knows none", async () => {
    const user = await customer.user({ password: null });
    const phone = await desk.phone(user, join(dir, `${user.username}-phone.json`));
    const first = await qrLogin((payload) => phone.approve(payload), ["--json", "--show-password"]);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ method: "QR", outcome: "CREATED", instruction: { username: user.username, passwordSource: "AGENT" } });
    const made = json(first).password as string;
    expect(made).toMatch(/^\S{24}$/);
    const state = await readStateFile(statePath);
    expect(verifyLocalPassword(findLocalAccount(state.localAccounts, user.username)!, made)).toBe(true);
    // Kept sealed to the workstation's own key, never in clear, and the same at the next login.
    expect(state.agentPasswords.map((entry) => entry.username)).toContain(user.username);
    expect(await readFile(statePath, "utf8")).not.toContain(made);
    const second = await qrLogin((payload) => phone.approve(payload), ["--json", "--show-password"]);
    expect(json(second)).toMatchObject({ outcome: "TAKEN_OVER", password: made });
    const row = await api.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row).toMatchObject({ opaqueRecord: null, sealedPassword: null });
    expect(JSON.stringify(await api.db.loginEvent.findMany({ where: { userId: user.id } }))).not.toContain(made);
  });

  it("ends with LOGIN_DENIED when the user denies on the phone, and creates nothing", async () => {
    const user = await customer.user();
    const phone = await desk.phone(user, join(dir, `${user.username}-phone.json`));
    const login = await qrLogin((payload) => phone.deny(payload));
    expect(login.code).toBe(1);
    expect(errorCode(login)).toBe("LOGIN_DENIED");
    expect(login.stdout).toBe("");
    expect(findLocalAccount((await readStateFile(statePath)).localAccounts, user.username)).toBeUndefined();
    expect((await desk.loginEvents()).find((event) => event.username === user.username)).toMatchObject({ method: "QR", outcome: "FAILED", reason: "DENIED" });
  });

  it("withdraws its code on Ctrl-C, so a phone approving it later is refused", async () => {
    const user = await customer.user();
    const phone = await desk.phone(user, join(dir, `${user.username}-phone.json`));
    const login = await desktopAgent(statePath, ["qr-login"], { interruptWhen: (text) => text.includes("Waiting for approval") });
    expect(errorCode(login)).toBe("LOGIN_CANCELLED");
    const payload = /^Code: (lk1\.\S+)$/m.exec(login.stderr)![1]!;
    await expect(phone.approve(payload)).rejects.toMatchObject({ stderr: expect.stringMatching(/CONFLICT/) });
  });

  it("refuses password login when the tenant allows only passwordless", async () => {
    const user = await customer.user();
    const login = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
    expect(errorCode(login)).toBe("PASSWORD_LOGIN_NOT_ALLOWED");
  });
});

describe("the server's OPAQUE key", () => {
  it("is pinned at enrollment: a login answered with another key is refused before anything is sent back", async () => {
    const { customer, statePath } = await customerWithWorkstation();
    const user = await customer.user();
    const enrolled = await readStateFile(statePath);
    expect(enrolled.passwordServerPublicKey).toBe(api.app.services.passwordAuth.serverPublicKey);
    // As if another server (a different OPAQUE setup) answered: the pinned key no longer matches.
    await writeStateFile(statePath, { ...enrolled, passwordServerPublicKey: Buffer.alloc(32, 7).toString("base64url") });
    const before = await api.db.loginEvent.count({ where: { userId: user.id } });
    const refused = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
    expect(errorCode(refused), refused.stderr).toBe("SERVER_KEY_MISMATCH");
    expect(findLocalAccount((await readStateFile(statePath)).localAccounts, user.username)).toBeUndefined();
    // The finish was never sent: no login succeeded.
    expect(await api.db.loginEvent.count({ where: { userId: user.id, outcome: "SUCCEEDED" } })).toBe(before);
    await writeStateFile(statePath, { ...(await readStateFile(statePath)), passwordServerPublicKey: enrolled.passwordServerPublicKey });
    expect((await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD])).code).toBe(0);
  });
});

describe("a removed workstation", () => {
  it("is refused at once, with UNAUTHENTICATED, for every command; a password login falls back to Windows' own sign-in", async () => {
    const { customer, desk, statePath, workstationId } = await customerWithWorkstation();
    const user = await customer.user();
    expect((await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD])).code).toBe(0);
    await desk.remove(workstationId);
    for (const args of [["config"], ["events"], ["qr-login"]]) {
      const run = await desktopAgent(statePath, args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(errorCode(run), `${args.join(" ")}: ${run.stderr}`).toBe("UNAUTHENTICATED");
    }
    // Nobody who signed in here before is locked out: the local account still takes their password.
    const local = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD, "--json"]);
    expect(local.code, local.stderr).toBe(0);
    expect(json(local)).toEqual({ method: "LOCAL", username: user.username, administrator: false, outcome: "SIGNED_IN_LOCALLY" });
    expect(local.stderr).toMatch(/checking the local account instead/);
  });
});

describe("with the API out of reach", () => {
  const OFFLINE = { api: "http://127.0.0.1:9/graphql" };

  it("checks a typed password against the local account, as Windows does without us, and changes nothing", async () => {
    const { customer, statePath } = await customerWithWorkstation();
    const user = await customer.user();
    expect((await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD])).code).toBe(0);
    // A technician's admin account, its password revealed by break-glass.
    const state = await readStateFile(statePath);
    await writeStateFile(statePath, { ...state, localAccounts: addLocalAccount(state.localAccounts, { name: "LatchkeyAdmin", groups: ["Administrators"], password: "Revealed-break-glass-9" }) });
    const before = await readFile(statePath, "utf8");

    const signedIn = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD], OFFLINE);
    expect(signedIn.code, signedIn.stderr).toBe(0);
    expect(signedIn.stdout).toContain("outcome: SIGNED_IN_LOCALLY");
    expect(signedIn.stderr).toMatch(/cannot reach the API .*checking the local account instead/);
    const admin = await desktopAgent(statePath, ["login", "--username", "latchkeyadmin", "--password", "Revealed-break-glass-9", "--json"], OFFLINE);
    expect(json(admin)).toMatchObject({ username: "LatchkeyAdmin", administrator: true, outcome: "SIGNED_IN_LOCALLY" });

    // Wrong passwords, unknown names and accounts without a password are refused alike.
    for (const [username, password] of [[user.username, "not-the-password-1"], ["nobody-here", PASSWORD], ["Administrator", PASSWORD]] as const) {
      const refused = await desktopAgent(statePath, ["login", "--username", username, "--password", password], OFFLINE);
      expect(refused.code, `${username}: ${refused.stderr}`).toBe(1);
      expect(errorCode(refused)).toBe("INVALID_CREDENTIALS");
    }
    // The phone cannot be asked: QR login waits for the API.
    const qr = await desktopAgent(statePath, ["qr-login"], OFFLINE);
    expect(errorCode(qr)).toBe("NETWORK_ERROR");
    expect(await readFile(statePath, "utf8")).toBe(before);
  });

  it("never falls back when the directory answered: a wrong password or a disabled user there is refused, whatever the local account holds", async () => {
    const { customer, statePath } = await customerWithWorkstation();
    const user = await customer.user();
    expect((await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD])).code).toBe(0);
    // An admin resets the directory password: the old one still opens the local account, not the directory.
    const { registrationId } = await registerPassword(api.run(msp.token), { userId: user.id, password: "A-new-directory-passphrase-4" });
    await api.gql(`mutation($input: SetUserPasswordInput!) { setUserPassword(input: $input) { __typename } }`, { input: { userId: user.id, passwordRegistrationId: registrationId } }, { token: msp.token });
    const old = await desktopAgent(statePath, ["login", "--username", user.username, "--password", PASSWORD]);
    expect(errorCode(old)).toBe("INVALID_CREDENTIALS");
    expect(old.stderr).not.toMatch(/local account instead/);
    // Disabled in the directory: the local account still holds the new password, and is not asked.
    expect((await desktopAgent(statePath, ["login", "--username", user.username, "--password", "A-new-directory-passphrase-4"])).code).toBe(0);
    await api.gql(`mutation($id: ID!) { disableUser(input: { userId: $id }) { __typename } }`, { id: user.id }, { token: msp.token });
    const disabled = await desktopAgent(statePath, ["login", "--username", user.username, "--password", "A-new-directory-passphrase-4"]);
    expect(errorCode(disabled)).toBe("ACCOUNT_DISABLED");
    expect(disabled.stderr).not.toMatch(/local account instead/);
  });
});
