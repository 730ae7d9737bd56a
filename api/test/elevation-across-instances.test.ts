// Elevated access across two API instances sharing PostgreSQL and Redis: the
// workstation's agent is connected to instance B (its command subscription
// and its session), the technician's phone and the admin who revokes the
// delegation talk to instance A, and the revocation must reach the agent
// through Redis and end the session on the workstation. Needs DATABASE_URL and
// REDIS_URL (CI sets both); skipped otherwise.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DesktopAgent, ElevationAgent } from "@latchkey/desktop";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTHENTICATOR_BIN, desktopSeed } from "./desktop-seed.ts";
import { Api } from "./harness.ts";
import { seed } from "./seed.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";

const run = promisify(execFile);
const enabled = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
if (!enabled) console.log("elevation across instances: skipped (set DATABASE_URL and REDIS_URL)");

// Both instances are one deployment: the same keys.
const shared = {
  KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  KEY_ENCRYPTION_KEY_ID: `across-${randomBytes(4).toString("hex")}`,
  DEVICE_COOKIE_KEY: randomBytes(32).toString("base64"),
  EMAIL_CODE_KEY: randomBytes(32).toString("base64"),
};

let a: Api;
let b: Api;
let dir: string;

beforeAll(async () => {
  if (!enabled) return;
  [a, b] = [await Api.start(shared), await Api.start(shared)];
  dir = await mkdtemp(join(tmpdir(), "latchkey-elevation-across-"));
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!enabled)("elevated access across two instances", () => {
  it("a delegation revoked on one instance ends the session of an agent connected to the other", async () => {
    const msp = await seed(a).msp();
    const customer = await msp.customer();
    const desk = desktopSeed(a, msp, customer);
    await a.gql(`mutation($input: UpdateElevatedAccessSettingsInput!) { updateElevatedAccessSettings(input: $input) { __typename } }`, {
      input: { tenantId: customer.id, sharedAccountName: "LatchkeyAdmin" },
    }, { token: msp.token });
    const technician = await msp.technician();
    await msp.delegate(technician.id, customer.id);
    const phoneState = join(dir, "phone.json");
    await desk.phone(technician, phoneState);

    const agent = await DesktopAgent.create({ apiUrl: `${b.url}/graphql`, statePath: join(dir, "workstation.json") });
    await agent.enroll({ installToken: (await desk.installToken({ autoApprove: true })).secret, hostname: "ACROSS-01", os: "Windows 11" });
    const elevation = new ElevationAgent(agent);
    const session = await elevation.elevate(
      { mode: "SIGN_IN", minutes: 10 },
      { onChallenge: ({ qrPayload }) => void run(process.execPath, [AUTHENTICATOR_BIN, "approve", qrPayload, "--api", `${a.url}/graphql`, "--state", phoneState]) },
    );
    expect(session.endedAt).toBeNull();

    let connected!: () => void;
    const subscribed = new Promise<void>((resolve) => (connected = resolve));
    const logged = new ElevationAgent(agent, { log: (line) => line.startsWith("connected") && connected() });
    const ended = () => logged.state.sessions.find((local) => local.id === session.id)?.endedAt != null;
    const serving = logged.serve({ until: ended, pollMs: 3_600_000 });
    await subscribed;
    // The agent's subscription is in place on B when Redis has B listening on its channel.
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      while ((await redis.pubsub("CHANNELS", `*workstationCommand*${agent.workstation!.id}*`)).length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      redis.disconnect();
    }

    const revoked = await a.gql(`mutation($input: RevokeCustomerAccessInput!) { revokeCustomerAccess(input: $input) { __typename } }`, {
      input: { technicianId: technician.id, customerId: customer.id },
    }, { token: msp.token });
    expect(revoked.revokeCustomerAccess.__typename).toBe("RevokeCustomerAccessPayload");
    // With the minute's poll out of the way, only the push through Redis can end it.
    await serving;
    const local = logged.state.sessions.find((entry) => entry.id === session.id)!;
    expect(local.endReason).toBe("REVOKED");
    expect(logged.state.logonSessions.find((logon) => logon.technicianSessionId === session.id)).toBeUndefined();
    const row = await b.db.technicianSession.findUniqueOrThrow({ where: { id: session.id } });
    expect(row).toMatchObject({ status: "ENDED", endReason: "REVOKED" });
    expect(row.terminatedAt).not.toBeNull();
  }, 120_000);
});
