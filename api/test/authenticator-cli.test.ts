// The `authenticator` command line, as a person would use it, against the real API.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readStateFile } from "@latchkey/mobile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, subscribe } from "./harness.ts";
import { approvePhone, seed, type MspSeed } from "./seed.ts";

const bin = fileURLToPath(new URL("../../clients/mobile/bin/authenticator.mjs", import.meta.url));
const run = promisify(execFile);

let api: Api;
let dir: string;
let msp: MspSeed;
beforeAll(async () => {
  api = await Api.start();
  dir = await mkdtemp(join(tmpdir(), "latchkey-phone-"));
  msp = await seed(api).msp();
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

function authenticator(args: string[]) {
  return run(process.execPath, [bin, ...args, "--api", `${api.url}/graphql`, "--state", join(dir, "phone.json")], { timeout: 30_000 });
}

/** Runs `enroll` without --code: it asks for the code, which we type once the email has arrived. */
function enrollTypingCode(email: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "enroll", "--email", email, "--name", "CLI phone", "--api", `${api.url}/graphql`, "--state", join(dir, "phone.json")]);
    let stdout = "";
    let stderr = "";
    let typed = false;
    const typeCode = async () => {
      if (typed) return;
      typed = true;
      child.stdin.end(`${await api.emailedCode(email)}\n`);
    };
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (/code/i.test(stderr)) void typeCode().catch(reject);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("authenticator CLI", () => {
  it("enrolls with a code read from standard input, onboards, and approves a portal login", async () => {
    const enrolled = await enrollTypingCode(msp.adminEmail);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect((await stat(join(dir, "phone.json"))).mode & 0o777).toBe(0o600);

    const { startDeviceOnboarding } = await api.gql(
      `mutation($id: ID!) { startDeviceOnboarding(input: { userId: $id }) { ... on StartDeviceOnboardingPayload { qrPayload } } }`,
      { id: msp.adminId },
      { token: msp.token },
    );
    const onboarded = await authenticator(["onboard", startDeviceOnboarding.qrPayload]);
    // The MSP's owner showed their own code: the phone waits until they approve it in the portal.
    expect(onboarded.stdout).toContain("waits for approval before it approves any sign-in");
    const listed = await authenticator(["list"]);
    expect(listed.stdout).toContain("CLI phone");
    expect(listed.stdout).toContain("waiting for approval");
    const state = await readStateFile(join(dir, "phone.json"));
    await approvePhone(api, msp.token, state.deviceId!);
    expect((await authenticator(["list"])).stdout).not.toContain("waiting for approval");

    const { startLoginChallenge } = await api.gql(
      `mutation($t: String!) { startLoginChallenge(input: { tenant: $t, kind: PORTAL_LOGIN }) { ... on StartLoginChallengePayload { challenge { id } qrPayload watchToken } } }`,
      { t: msp.slug },
    );
    const watcher = subscribe(api.ws(), `subscription($id: ID!, $w: String!) { challengeUpdated(id: $id, watchToken: $w) { status } }`, {
      id: startLoginChallenge.challenge.id,
      w: startLoginChallenge.watchToken,
    });
    const scanned = await authenticator(["scan", startLoginChallenge.qrPayload]);
    expect(scanned.stdout).toContain(msp.slug);
    await authenticator(["approve", startLoginChallenge.qrPayload]);
    await watcher.waitForCompletion();
    expect(watcher.events.at(-1)!.data!.challengeUpdated.status).toBe("APPROVED");
  });

  it("exits 1 with one error line for a code that is not a Latchkey QR code", async () => {
    const failed = await authenticator(["scan", "https://example.test/not-ours"]).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim()).toMatch(/^error: [A-Z_]+: /);
  });
});
