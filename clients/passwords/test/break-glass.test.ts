import { describe, expect, it } from "vitest";
import { breakGlassAssociatedData, generateTenantKeyPair, openBreakGlass, sealBreakGlass } from "../src/index.ts";

const binding = { tenantId: "t-1", workstationId: "w-1", account: "LatchkeyAdmin", rotation: 3 };

describe("break-glass sealing", () => {
  it("opens with the tenant's private key and the same binding; the account's case does not matter", async () => {
    const pair = await generateTenantKeyPair();
    const sealed = await sealBreakGlass({ ...binding, tenantPublicKey: pair.publicKey, password: "Wx7!secret-pass" });
    await expect(openBreakGlass({ ...binding, tenantPrivateKey: pair.privateKey, sealed })).resolves.toBe("Wx7!secret-pass");
    await expect(openBreakGlass({ ...binding, account: "latchkeyadmin", tenantPrivateKey: pair.privateKey, sealed })).resolves.toBe("Wx7!secret-pass");
  });

  it("refuses another key, tenant, workstation, account or rotation, and an altered byte", async () => {
    const pair = await generateTenantKeyPair();
    const other = await generateTenantKeyPair();
    const sealed = await sealBreakGlass({ ...binding, tenantPublicKey: pair.publicKey, password: "Wx7!secret-pass" });
    const open = (changes: Record<string, unknown>) => openBreakGlass({ ...binding, tenantPrivateKey: pair.privateKey, sealed, ...changes });
    await expect(open({ tenantPrivateKey: other.privateKey })).rejects.toThrow();
    await expect(open({ tenantId: "t-2" })).rejects.toThrow();
    await expect(open({ workstationId: "w-2" })).rejects.toThrow();
    await expect(open({ account: "OtherAdmin" })).rejects.toThrow();
    await expect(open({ rotation: 2 })).rejects.toThrow();
    const flipped = sealed.ciphertext.slice(0, -2) + (sealed.ciphertext.at(-2) === "A" ? "B" : "A") + sealed.ciphertext.at(-1);
    await expect(open({ sealed: { ...sealed, ciphertext: flipped } })).rejects.toThrow();
  });

  it("binds exactly tenant, workstation, account (lower case) and rotation, and refuses ambiguous parts", () => {
    expect(breakGlassAssociatedData(binding)).toBe("latchkey-break-glass-v1|t-1|w-1|latchkeyadmin|3");
    expect(() => breakGlassAssociatedData({ ...binding, account: "a|b" })).toThrow();
    expect(() => breakGlassAssociatedData({ ...binding, rotation: 0 })).toThrow();
  });
});
