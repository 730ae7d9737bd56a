// What the API hands a workstation after a successful login: "ensure local
// account U with this password", the password sealed with HPKE (RFC 9180, mode
// base) to this workstation's key-agreement key. The agent trusts nothing but
// its own key and the instruction's own fields: it checks the instruction is
// for this workstation and still current, rebuilds the associated data itself,
// and only then opens the password.
//
//   suite  DHKEM(X25519, HKDF-SHA256) or DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM
//   info   "latchkey account instruction v1"
//   aad    "latchkey-account-v1|<workstationId>|<attemptId>|<expiresAt as received>"
//   wire   enc and ciphertext base64url without padding
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { openDelivery } from "@latchkey/passwords";
import { AgentError } from "./agent-error.ts";
import type { KeyAgreementAlgorithm } from "./workstation-keys.ts";

export const ACCOUNT_INSTRUCTION_INFO = "latchkey account instruction v1";

export const HPKE_SUITE_NAMES: Record<KeyAgreementAlgorithm, string> = {
  X25519: "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
  P256: "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
};

/** The GraphQL `SealedSecret`. */
export interface SealedSecret {
  suite: string;
  enc: string;
  ciphertext: string;
}

/** The GraphQL `AccountInstruction`, as received. */
export interface AccountInstruction {
  action: string;
  attemptId: string;
  workstationId: string;
  username: string;
  fullName: string;
  /** ISO-8601, exactly as the API sent it: part of the associated data. */
  expiresAt: string;
  /** SEALED: in `password`; PHONE: in `password`, sealed by the user's phone; TYPED: what was typed here; AGENT: the agent's own local password for this user. */
  passwordSource: "SEALED" | "PHONE" | "TYPED" | "AGENT";
  password: SealedSecret | null;
  /** PHONE: what the phone bound the password to. */
  delivery?: { challengeId: string; passwordVersion: number; expiresAt: string } | null;
}

/**
 * Opens a password the user's phone sealed to this workstation (the master key
 * is on: the API cannot open it): only for the QR login this workstation
 * started, before the phone's own expiry.
 */
export async function openPhoneDelivery(
  instruction: AccountInstruction,
  own: { workstationId: string; challengeId: string | null; algorithm: KeyAgreementAlgorithm; privateKey: CryptoKey },
  now: Date,
): Promise<string> {
  const delivery = instruction.delivery;
  if (!delivery || !instruction.password) throw new AgentError("BAD_INSTRUCTION", "the account instruction names the phone as the password's source, but carries none");
  if (!own.challengeId || delivery.challengeId !== own.challengeId) {
    throw new AgentError("BAD_INSTRUCTION", "the password the phone sealed is for another login than the one this workstation started");
  }
  if (!(Date.parse(delivery.expiresAt) > now.getTime())) throw new AgentError("INSTRUCTION_EXPIRED", `the phone's password expired at ${delivery.expiresAt}`);
  try {
    return await openDelivery({ ...delivery, workstationId: own.workstationId, algorithm: own.algorithm, recipientKey: own.privateKey, sealed: instruction.password });
  } catch (cause) {
    throw new AgentError("SEAL_MISMATCH", "the password the phone sealed does not open with this workstation's key for this login", { cause });
  }
}

/** The associated data the box was sealed with, rebuilt from the instruction's own fields. */
export function accountAssociatedData(instruction: Pick<AccountInstruction, "workstationId" | "attemptId" | "expiresAt">): string {
  for (const part of [instruction.workstationId, instruction.attemptId, instruction.expiresAt]) {
    // A '|' inside a field could make one instruction's string another's.
    if (typeof part !== "string" || part === "" || part.includes("|")) {
      throw new AgentError("BAD_INSTRUCTION", "the account instruction has an empty or malformed id or expiry");
    }
  }
  return ["latchkey-account-v1", instruction.workstationId, instruction.attemptId, instruction.expiresAt].join("|");
}

/** Checks that an instruction is for this workstation, known and current, before anything is done with it. */
export function checkAccountInstruction(instruction: AccountInstruction, workstationId: string, now: Date = new Date()) {
  if (instruction.action !== "ENSURE_LOCAL_ACCOUNT") {
    throw new AgentError("UNKNOWN_ACTION", `the account instruction asks for "${instruction.action}", which this agent does not do`);
  }
  if (instruction.workstationId !== workstationId) {
    throw new AgentError("WRONG_WORKSTATION", `the account instruction is for workstation ${instruction.workstationId}, not this one (${workstationId})`);
  }
  const expiresAt = Date.parse(instruction.expiresAt);
  if (!Number.isFinite(expiresAt)) throw new AgentError("BAD_INSTRUCTION", `the account instruction's expiry "${instruction.expiresAt}" is not a date`);
  if (expiresAt <= now.getTime()) {
    throw new AgentError("INSTRUCTION_EXPIRED", `the account instruction expired at ${instruction.expiresAt}`);
  }
}

/**
 * Seals a password the agent keeps for itself (a passwordless user's local
 * password) to its own key-agreement key, bound to the user's name.
 */
export async function sealForSelf(
  own: { algorithm: KeyAgreementAlgorithm; publicKey: CryptoKey },
  username: string,
  password: string,
): Promise<SealedSecret> {
  const encoder = new TextEncoder();
  const sender = await hpkeSuite(own.algorithm).createSenderContext({ recipientPublicKey: own.publicKey, info: encoder.encode(AGENT_PASSWORD_INFO) });
  const ciphertext = await sender.seal(encoder.encode(password), encoder.encode(`latchkey-agent-password-v1|${username}`));
  return { suite: HPKE_SUITE_NAMES[own.algorithm], enc: Buffer.from(sender.enc).toString("base64url"), ciphertext: Buffer.from(ciphertext).toString("base64url") };
}

/** Opens what sealForSelf sealed. */
export async function openFromSelf(own: { algorithm: KeyAgreementAlgorithm; privateKey: CryptoKey }, username: string, sealed: SealedSecret): Promise<string> {
  const encoder = new TextEncoder();
  try {
    const recipient = await hpkeSuite(own.algorithm).createRecipientContext({
      recipientKey: own.privateKey,
      enc: fromBase64url(sealed.enc).buffer,
      info: encoder.encode(AGENT_PASSWORD_INFO),
    });
    const plaintext = await recipient.open(fromBase64url(sealed.ciphertext), encoder.encode(`latchkey-agent-password-v1|${username}`));
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch (cause) {
    throw new AgentError("SEAL_BROKEN", "the agent's own kept password does not open with this workstation's key", { cause });
  }
}

export const AGENT_PASSWORD_INFO = "latchkey agent local password v1";

/**
 * Checks an instruction and opens its password with this workstation's key.
 * Throws `UNKNOWN_ACTION`, `WRONG_WORKSTATION`, `INSTRUCTION_EXPIRED`,
 * `WRONG_SUITE` or `SEAL_BROKEN` (the box does not open: not sealed to this
 * key, or for another attempt, or altered).
 */
export async function openAccountInstruction(
  instruction: AccountInstruction,
  own: { workstationId: string; algorithm: KeyAgreementAlgorithm; privateKey: CryptoKey },
  now: Date = new Date(),
): Promise<string> {
  if (instruction.action !== "ENSURE_LOCAL_ACCOUNT") {
    throw new AgentError("UNKNOWN_ACTION", `the account instruction asks for "${instruction.action}", which this agent does not do`);
  }
  if (instruction.workstationId !== own.workstationId) {
    throw new AgentError("WRONG_WORKSTATION", `the account instruction is for workstation ${instruction.workstationId}, not this one (${own.workstationId})`);
  }
  const expiresAt = Date.parse(instruction.expiresAt);
  if (!Number.isFinite(expiresAt)) throw new AgentError("BAD_INSTRUCTION", `the account instruction's expiry "${instruction.expiresAt}" is not a date`);
  if (expiresAt <= now.getTime()) {
    throw new AgentError("INSTRUCTION_EXPIRED", `the account instruction expired at ${instruction.expiresAt}`);
  }
  if (!instruction.password) throw new AgentError("BAD_INSTRUCTION", "the account instruction carries no sealed password");
  if (instruction.password.suite !== HPKE_SUITE_NAMES[own.algorithm]) {
    throw new AgentError("WRONG_SUITE", `the password is sealed with ${instruction.password.suite}, but this workstation's key needs ${HPKE_SUITE_NAMES[own.algorithm]}`);
  }
  const aad = accountAssociatedData(instruction);
  const encoder = new TextEncoder();
  try {
    const recipient = await hpkeSuite(own.algorithm).createRecipientContext({
      recipientKey: own.privateKey,
      enc: fromBase64url(instruction.password.enc).buffer,
      info: encoder.encode(ACCOUNT_INSTRUCTION_INFO),
    });
    const plaintext = await recipient.open(fromBase64url(instruction.password.ciphertext), encoder.encode(aad));
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch (cause) {
    throw new AgentError("SEAL_BROKEN", "the sealed password does not open with this workstation's key for this attempt", { cause });
  }
}

function hpkeSuite(algorithm: KeyAgreementAlgorithm): CipherSuite {
  const kem = algorithm === "X25519" ? new DhkemX25519HkdfSha256() : new DhkemP256HkdfSha256();
  return new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

/**
 * Decodes into an ArrayBuffer of its own: a small Buffer is a view into Node's
 * shared pool, and @hpke/core reads some inputs through `.buffer`.
 */
function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new AgentError("SEAL_BROKEN", "the sealed password is not base64url");
  }
  return new Uint8Array(Buffer.from(text, "base64url"));
}
