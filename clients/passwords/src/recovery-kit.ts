// Recovery kits: a holder of a customer's key that is a code on paper, for
// when every phone that held the key is lost. The code is 160 random bits,
// written as 32 Crockford base32 characters in groups of four and a check
// symbol (Crockford's mod-37 checksum), so a mistyped code is caught before
// anything is tried. The kit's key-agreement key is derived from the code, so
// a phone rotating the key wraps it to the kit without knowing the code:
//
//   private key = HKDF-SHA256(ikm = the 20 code bytes, salt = tenant id, info = "latchkey recovery kit v1"), 32 bytes, X25519
//   public key  = its X25519 public half, raw, base64url: the kit's line in the statement
import { base32crockford } from "@scure/base";
import { x25519PublicKey } from "./master-key.ts";

export const RECOVERY_KIT_INFO = "latchkey recovery kit v1";
const CODE_BYTES = 20;
/** Crockford's check symbols: the 32 digits, then five more for the values 32-36. */
const CHECK_SYMBOLS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

export class RecoveryCodeError extends Error {
  readonly code = "INVALID_RECOVERY_CODE";
}

function checkSymbol(bytes: Uint8Array): string {
  const value = BigInt(`0x${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`);
  return CHECK_SYMBOLS[Number(value % 37n)]!;
}

/** A new code: its bytes, and the text shown once (`XXXX-XXXX-…-XXXX-C`). */
export function newRecoveryCode(): { bytes: Uint8Array; text: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_BYTES));
  const digits = base32crockford.encode(bytes);
  const groups = digits.match(/.{4}/g)!;
  return { bytes, text: [...groups, checkSymbol(bytes)].join("-") };
}

/** The bytes of a typed code; hyphens, spaces and case do not matter, nor I/L for 1 and O for 0. Throws RecoveryCodeError. */
export function parseRecoveryCode(typed: string): Uint8Array {
  const text = typed.replace(/[\s-]/g, "").toUpperCase();
  if (text.length !== 33) throw new RecoveryCodeError("A recovery code has 32 characters and a check symbol");
  let bytes: Uint8Array;
  try {
    bytes = base32crockford.decode(text.slice(0, 32));
  } catch {
    throw new RecoveryCodeError("A recovery code has only the characters 0-9 and A-Z (without U)");
  }
  const check = text.slice(32).replace(/[IL]/, "1").replace("O", "0");
  if (bytes.length !== CODE_BYTES || checkSymbol(bytes) !== check) throw new RecoveryCodeError("This recovery code is mistyped: its check symbol does not match");
  return bytes;
}

/** The kit's key-agreement key pair for one tenant. */
export async function recoveryKitKey(code: Uint8Array, tenantId: string): Promise<{ privateKey: Uint8Array; publicKey: string }> {
  const ikm = await crypto.subtle.importKey("raw", new Uint8Array(code), "HKDF", false, ["deriveBits"]);
  const encoder = new TextEncoder();
  const privateKey = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(tenantId), info: encoder.encode(RECOVERY_KIT_INFO) }, ikm, 256),
  );
  return { privateKey, publicKey: await x25519PublicKey(privateKey) };
}
