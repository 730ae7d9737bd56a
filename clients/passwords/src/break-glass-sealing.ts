// The desktop agent seals every new password of a local admin account it
// manages to its tenant's public key (the same HPKE suite as directory
// passwords, another info and purpose), so that an MSP admin can reveal it
// with their phone's approval when the workstation cannot reach the service.
// The associated data binds the box to the tenant, the workstation, the
// account and the agent's rotation counter for that account: moved to another
// workstation or account, or an older box replayed as a newer one, it does
// not open.
//
//   info  "latchkey break-glass password v1"
//   aad   "latchkey-break-glass-v1|<tenantId>|<workstationId>|<account, lower case>|<rotation>"
import { openWithKey, sealToKey, type SealedSecret } from "./tenant-sealing.ts";

export const BREAK_GLASS_INFO = "latchkey break-glass password v1";
export const BREAK_GLASS_PURPOSE = "latchkey-break-glass-v1";

export type BreakGlassBinding = { tenantId: string; workstationId: string; account: string; rotation: number };

export function breakGlassAssociatedData(binding: BreakGlassBinding): string {
  for (const part of [binding.tenantId, binding.workstationId, binding.account]) {
    if (part === "" || part.includes("|")) throw new Error("Break-glass binding parts must be non-empty and free of '|'");
  }
  if (!Number.isInteger(binding.rotation) || binding.rotation < 1) throw new Error("A rotation is a positive integer");
  return [BREAK_GLASS_PURPOSE, binding.tenantId, binding.workstationId, binding.account.toLowerCase(), String(binding.rotation)].join("|");
}

/** Seals an account's new password to the tenant's public key (raw X25519, base64url), bound as above. */
export async function sealBreakGlass(input: BreakGlassBinding & { tenantPublicKey: string; password: string }): Promise<SealedSecret> {
  return sealToKey(input.tenantPublicKey, BREAK_GLASS_INFO, breakGlassAssociatedData(input), new TextEncoder().encode(input.password));
}

/** Opens a break-glass box with the tenant's private key (raw); throws when key, binding or a byte differs. */
export async function openBreakGlass(input: BreakGlassBinding & { tenantPrivateKey: Uint8Array; sealed: SealedSecret }): Promise<string> {
  const plain = await openWithKey(input.tenantPrivateKey, BREAK_GLASS_INFO, breakGlassAssociatedData(input), input.sealed);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}
