import { describe, expect, it } from "vitest";
import { describeScan, type ChallengeScan } from "../src/index.ts";

const NOW = new Date("2026-01-02T03:04:30Z");
const SCAN: ChallengeScan = {
  challenge: { id: "0b8e4c1a-9d2f-4e3b-8a7c-6d5e4f3a2b1c", kind: "ELEVATED_ACCESS", status: "SCANNED", expiresAt: "2026-01-02T03:05:30.000Z" },
  tenant: { id: "t", slug: "contoso-acme-msp", displayName: "Contoso" },
  requesterKind: "WORKSTATION",
  requesterName: "RECEPTION-PC",
  requesterIp: "192.0.2.10",
  ipMatches: true,
  userAgent: "Latchkey agent 1.0",
  createdAt: "2026-01-02T03:04:00.000Z",
  expiresAt: "2026-01-02T03:05:30.000Z",
};

describe("describeScan", () => {
  it("shows what an elevation grants: the account, the mode, the minutes and the Windows session it enters", () => {
    const lines = describeScan(
      { ...SCAN, elevation: { workstationId: "w", workstationName: "RECEPTION-PC", mode: "IN_SESSION", account: "LatchkeyAdmin", minutes: 15, sessionUser: "frontdesk\u202e", sessionRemote: true } },
      NOW,
    );
    expect(lines.slice(3, 8)).toEqual([
      "Workstation: RECEPTION-PC",
      "Account:    LatchkeyAdmin (local administrator)",
      "Mode:       inside the running Windows session (like UAC)",
      "Minutes:    15",
      "Signed in:  frontdesk\uFFFD (remote session)",
    ]);
    const signIn = describeScan({ ...SCAN, elevation: { workstationId: "w", workstationName: "RECEPTION-PC", mode: "SIGN_IN", account: "lk-tech3", minutes: 10, sessionUser: null, sessionRemote: null } }, NOW);
    expect(signIn).toContain("Mode:       sign-in at the login screen");
    expect(signIn.some((line) => line.startsWith("Signed in:"))).toBe(false);
  });

  it("says who is asking in readable lines", () => {
    expect(describeScan(SCAN, NOW)).toEqual([
      "Tenant:     Contoso (contoso-acme-msp)",
      "Request:    elevated access to a workstation",
      "Requester:  RECEPTION-PC (workstation)",
      "IP address: 192.0.2.10, matches this phone's IP",
      "User agent: Latchkey agent 1.0",
      "Requested:  2026-01-02 03:04:00 UTC (30 s ago)",
      "Expires:    2026-01-02 03:05:30 UTC (in 60 s)",
      "Challenge:  0b8e4c1a-9d2f-4e3b-8a7c-6d5e4f3a2b1c (SCANNED)",
    ]);
  });

  it("shows an expired challenge, an unknown IP and longer spans", () => {
    const lines = describeScan({ ...SCAN, requesterIp: null, ipMatches: false, createdAt: "2026-01-02T02:00:00Z", expiresAt: "2026-01-02T03:04:00Z" }, NOW);
    expect(lines[3]).toBe("IP address: (unknown)");
    expect(lines[5]).toBe("Requested:  2026-01-02 02:00:00 UTC (65 min ago)");
    expect(lines[6]).toBe("Expires:    2026-01-02 03:04:00 UTC (expired 30 s ago)");
  });

  it("says how long a workstation has been enrolled: a fresh one asking deserves a second look", () => {
    const old = describeScan({ ...SCAN, requesterEnrolledAt: "2025-12-20T03:04:30Z" }, NOW);
    expect(old[3]).toBe("Enrolled:   2025-12-20 03:04:30 UTC (13 days ago)");
    const fresh = describeScan({ ...SCAN, requesterEnrolledAt: "2026-01-02T02:59:30Z" }, NOW);
    expect(fresh[3]).toBe("Enrolled:   2026-01-02 02:59:30 UTC (5 min ago)");
    expect(describeScan(SCAN, NOW)).toHaveLength(8);
  });

  it("keeps a requester from forging lines or terminal escapes with its name or user agent", () => {
    const lines = describeScan({ ...SCAN, requesterName: "PC\nIP address: 10.0.0.1, matches this phone's IP", userAgent: "evil\u001b[2J\u202egnp.exe" }, NOW);
    expect(lines).toHaveLength(8);
    expect(lines[2]).toBe("Requester:  PC\uFFFDIP address: 10.0.0.1, matches this phone's IP (workstation)");
    expect(lines[4]).toBe("User agent: evil\uFFFD[2J\uFFFDgnp.exe");
  });
});
