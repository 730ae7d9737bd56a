// Which public key a customer's secrets are sealed to is itself signed: a
// statement naming the tenant, the key's epoch, the HPKE suite, the public key,
// the tenant's signing key (Ed25519) and who holds the private key, signed by
// that signing key. Every client that seals checks the statement and pins the
// tenant's signing key and the highest epoch it has seen, and refuses a lower
// epoch, another signing key for a pinned epoch, or a key the statement does
// not sign. So a server answer with a substituted key, or a database restored
// to an older key, is refused instead of sealed to.
//
// While the master key is off the server holds the signing key in escrow beside
// the private key (custody ESCROW): the statement then guards against keys
// swapped in transit or in the database, and pins the epoch, but a server that
// turns hostile could sign its own; with the master key on only the customer's
// holders sign.
//
// Each epoch has its own signing key. An epoch after the first is also signed
// by the epoch before it (the hand-over), so a client pinned at epoch n follows
// n+1, n+2, ... each vouched for by the one it already trusts; the server hands
// out the superseded statements as `history`.
//
// Statement: UTF-8 of these lines joined by "\n":
//   latchkey-tenant-key-v1
//   <tenant id>
//   <epoch>
//   DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM
//   <public key: raw X25519, base64url>
//   <signing key: raw Ed25519, base64url>
//   <custody: ESCROW | MASTER_KEY>
//   holder <PHONE | RECOVERY_KIT> <holder id> <key-agreement key: raw X25519, base64url>   (MASTER_KEY only, one line each)
// Signature: Ed25519 over those bytes, base64url, by the statement's own signing
// key; hand-over: the same by the previous epoch's signing key.
import { fromBase64url } from "./base64url.ts";
import { TENANT_PASSWORD_SUITE } from "./tenant-sealing.ts";

export const TENANT_KEY_PURPOSE = "latchkey-tenant-key-v1";

export type TenantKeyCustody = "ESCROW" | "MASTER_KEY";

/** One signed epoch: its statement, its own signature, and (after epoch 1) the previous epoch's. */
export type SignedTenantKeyStatement = { statement: string; signature: string; handover?: string | null };

/** The GraphQL `TenantKey`: what a client is handed to seal to, with the epochs before it. */
export type TenantKeyAnswer = SignedTenantKeyStatement & { history?: SignedTenantKeyStatement[] | null };

/** Who holds a copy of the private key, wrapped to their key-agreement key. */
export type TenantKeyHolderEntry = { kind: "PHONE" | "RECOVERY_KIT"; id: string; keyAgreementKey: string };

export type TenantKeyStatement = {
  tenantId: string;
  epoch: number;
  publicKey: string;
  signingKey: string;
  custody: TenantKeyCustody;
  /** MASTER_KEY: every holder of this epoch's key; none in escrow. */
  holders?: TenantKeyHolderEntry[];
};

/** What a client remembers of a tenant's key between runs. */
export type TenantKeyPin = { tenantId: string; epoch: number; signingKey: string; publicKey: string };

export class TenantKeyRefused extends Error {
  readonly code = "TENANT_KEY_REFUSED";
  constructor(reason: string) {
    super(`The tenant key the server handed out was refused: ${reason}`);
  }
}

export function tenantKeyStatement(statement: TenantKeyStatement): string {
  const holders = statement.custody === "MASTER_KEY" ? (statement.holders ?? []) : [];
  return [
    TENANT_KEY_PURPOSE,
    statement.tenantId,
    String(statement.epoch),
    TENANT_PASSWORD_SUITE,
    statement.publicKey,
    statement.signingKey,
    statement.custody,
    ...holders.map((holder) => `holder ${holder.kind} ${holder.id} ${holder.keyAgreementKey}`),
  ].join("\n");
}

const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;
const HOLDER_LINE = /^holder (PHONE|RECOVERY_KIT) ([0-9a-f-]{36}) ([A-Za-z0-9_-]{43})$/;

export function parseTenantKeyStatement(text: string): TenantKeyStatement | null {
  const lines = text.split("\n");
  if (lines.length < 7) return null;
  const [purpose, tenantId, epoch, suite, publicKey, signingKey, custody] = lines as [string, string, string, string, string, string, string];
  if (purpose !== TENANT_KEY_PURPOSE || suite !== TENANT_PASSWORD_SUITE) return null;
  if (!/^[1-9][0-9]{0,9}$/.test(epoch)) return null;
  if (!RAW_KEY.test(publicKey) || !RAW_KEY.test(signingKey)) return null;
  if (custody !== "ESCROW" && custody !== "MASTER_KEY") return null;
  const holders: TenantKeyHolderEntry[] = [];
  for (const line of lines.slice(7)) {
    const match = HOLDER_LINE.exec(line);
    if (!match) return null;
    holders.push({ kind: match[1] as TenantKeyHolderEntry["kind"], id: match[2]!, keyAgreementKey: match[3]! });
  }
  // Escrow has no holders; a master key without one could never be opened again.
  if ((custody === "ESCROW") !== (holders.length === 0)) return null;
  if (new Set(holders.map((holder) => holder.id)).size !== holders.length) return null;
  return { tenantId, epoch: Number(epoch), publicKey, signingKey, custody, ...(custody === "MASTER_KEY" ? { holders } : {}) };
}

/** Whether `signature` (base64url) is the Ed25519 signature of `signingKey` (raw, base64url) over `statement`. */
export async function ed25519SignatureHolds(statement: string, signingKey: string, signature: string) {
  try {
    const key = await crypto.subtle.importKey("raw", new Uint8Array(fromBase64url(signingKey)), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(fromBase64url(signature)), new TextEncoder().encode(statement));
  } catch {
    return false;
  }
}

/**
 * Checks a tenant key the server handed out against what this client pinned
 * before (null the first time) and returns the key to seal to and the pin to
 * keep. Every epoch after the pinned one (after the oldest given, on first
 * contact) must be signed by its own signing key and handed over by the epoch
 * before it.
 * Throws TenantKeyRefused for a statement that is malformed or not so signed,
 * names another tenant, rolls the epoch back, or differs from the pin at the
 * pinned epoch.
 */
export async function verifyTenantKey(
  answer: TenantKeyAnswer,
  expected: { tenantId: string; pinned: TenantKeyPin | null },
): Promise<{ statement: TenantKeyStatement; pin: TenantKeyPin }> {
  const links = [...(answer.history ?? []), answer].map((link) => ({ link, statement: parseTenantKeyStatement(link.statement) }));
  for (const { statement } of links) {
    if (!statement) throw new TenantKeyRefused("the statement is malformed");
    if (statement.tenantId !== expected.tenantId) throw new TenantKeyRefused("it is another tenant's key");
  }
  const chain = links as { link: SignedTenantKeyStatement; statement: TenantKeyStatement }[];
  const current = chain[chain.length - 1]!.statement;
  const pinned = expected.pinned && expected.pinned.tenantId === expected.tenantId ? expected.pinned : null;
  if (pinned && current.epoch < pinned.epoch) throw new TenantKeyRefused(`epoch ${current.epoch} is older than epoch ${pinned.epoch}, seen before`);

  // Walk from what is already trusted: the pin, or on first contact the oldest statement given.
  let trusted: { epoch: number; signingKey: string } | null = pinned ? { epoch: pinned.epoch, signingKey: pinned.signingKey } : null;
  for (const { link, statement } of chain) {
    if (pinned && statement.epoch < pinned.epoch) continue;
    if (!(await ed25519SignatureHolds(link.statement, statement.signingKey, link.signature))) {
      throw new TenantKeyRefused(`the statement is not signed by the tenant's signing key (epoch ${statement.epoch})`);
    }
    if (pinned && statement.epoch === pinned.epoch) {
      if (statement.signingKey !== pinned.signingKey) throw new TenantKeyRefused("it is signed by another signing key than the one seen before");
      if (statement.publicKey !== pinned.publicKey) throw new TenantKeyRefused(`it names another public key for epoch ${statement.epoch} than the one seen before`);
      continue;
    }
    // On first contact the oldest statement handed out is trusted as it is (there is nothing to check it against).
    if (trusted) {
      if (statement.epoch !== trusted.epoch + 1) throw new TenantKeyRefused(`epoch ${statement.epoch} does not follow epoch ${trusted.epoch}`);
      if (!link.handover || !(await ed25519SignatureHolds(link.statement, trusted.signingKey, link.handover))) {
        throw new TenantKeyRefused(`epoch ${statement.epoch} is not handed over by the signing key of epoch ${trusted.epoch}`);
      }
    }
    trusted = { epoch: statement.epoch, signingKey: statement.signingKey };
  }
  if (!trusted || trusted.epoch !== current.epoch) throw new TenantKeyRefused("the epochs do not lead to the current one");
  const pin = { tenantId: current.tenantId, epoch: current.epoch, signingKey: current.signingKey, publicKey: current.publicKey };
  return { statement: current, pin };
}
