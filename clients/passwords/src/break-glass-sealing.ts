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
import { fromBase64url, toBase64url } from "./base64url.ts";
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

// With the master key on, a reveal is done on a holder's phone: the portal makes
// a one-time X25519 key in the browser, shows the SHA-256 of its public half in
// the key operation's QR code, and the phone seals the opened password to that
// key only, after checking the hash it read off the screen.
//
//   info  "latchkey break-glass reveal v1"
//   aad   "latchkey-break-glass-reveal-v1|<key operation id>|<workstationId>|<account, lower case>|<rotation>"
export const BREAK_GLASS_REVEAL_INFO = "latchkey break-glass reveal v1";
export const BREAK_GLASS_REVEAL_PURPOSE = "latchkey-break-glass-reveal-v1";

export type RevealBinding = { operationId: string; workstationId: string; account: string; rotation: number };

export function revealAssociatedData(binding: RevealBinding): string {
  // The box's own checks on the parts, then the operation in place of the tenant.
  const [, , workstationId, account, rotation] = breakGlassAssociatedData({ ...binding, tenantId: binding.operationId }).split("|");
  return [BREAK_GLASS_REVEAL_PURPOSE, binding.operationId, workstationId, account, rotation].join("|");
}

/** What a holder's evidence of a reveal names: the box it opened and the browser key it sealed to. */
export function revealSubject(binding: RevealBinding, browserKeyHash: string): string {
  return `${revealAssociatedData(binding)}|${browserKeyHash}`;
}

/** The base64url SHA-256 of a browser's raw public key: what the QR code carries. */
export async function browserKeyHash(publicKey: string): Promise<string> {
  return toBase64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(fromBase64url(publicKey)))));
}

/** The phone seals a revealed password to the browser's key. */
export async function sealRevealToBrowser(input: RevealBinding & { browserKey: string; password: string }): Promise<SealedSecret> {
  return sealToKey(input.browserKey, BREAK_GLASS_REVEAL_INFO, revealAssociatedData(input), new TextEncoder().encode(input.password));
}

/** The browser opens it with its one-time private key (raw). */
export async function openRevealInBrowser(input: RevealBinding & { browserPrivateKey: Uint8Array; sealed: SealedSecret }): Promise<string> {
  const plain = await openWithKey(input.browserPrivateKey, BREAK_GLASS_REVEAL_INFO, revealAssociatedData(input), input.sealed);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}
