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
// Statement: UTF-8 of these lines joined by "\n":
//   latchkey-tenant-key-v1
//   <tenant id>
//   <epoch>
//   DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM
//   <public key: raw X25519, base64url>
//   <signing key: raw Ed25519, base64url>
//   <custody: ESCROW | MASTER_KEY>
// Signature: Ed25519 over those bytes, base64url.
import { fromBase64url } from "./base64url.ts";
import { TENANT_PASSWORD_SUITE } from "./tenant-sealing.ts";

export const TENANT_KEY_PURPOSE = "latchkey-tenant-key-v1";

export type TenantKeyCustody = "ESCROW" | "MASTER_KEY";

/** The GraphQL `TenantKey`: what a client is handed to seal to. */
export type TenantKeyAnswer = { statement: string; signature: string };

export type TenantKeyStatement = {
  tenantId: string;
  epoch: number;
  publicKey: string;
  signingKey: string;
  custody: TenantKeyCustody;
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
  return [
    TENANT_KEY_PURPOSE,
    statement.tenantId,
    String(statement.epoch),
    TENANT_PASSWORD_SUITE,
    statement.publicKey,
    statement.signingKey,
    statement.custody,
  ].join("\n");
}

function parseStatement(text: string): TenantKeyStatement | null {
  const lines = text.split("\n");
  if (lines.length !== 7) return null;
  const [purpose, tenantId, epoch, suite, publicKey, signingKey, custody] = lines as [string, string, string, string, string, string, string];
  if (purpose !== TENANT_KEY_PURPOSE || suite !== TENANT_PASSWORD_SUITE) return null;
  if (!/^[1-9][0-9]{0,9}$/.test(epoch)) return null;
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicKey) || !/^[A-Za-z0-9_-]{43}$/.test(signingKey)) return null;
  if (custody !== "ESCROW" && custody !== "MASTER_KEY") return null;
  return { tenantId, epoch: Number(epoch), publicKey, signingKey, custody };
}

async function signatureHolds(statement: string, signingKey: string, signature: string) {
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
 * keep. Throws TenantKeyRefused for a statement that is not signed by its own
 * signing key, names another tenant, rolls the epoch back, or names another
 * signing key than the pinned one, or another public key for the pinned epoch.
 */
export async function verifyTenantKey(
  answer: TenantKeyAnswer,
  expected: { tenantId: string; pinned: TenantKeyPin | null },
): Promise<{ statement: TenantKeyStatement; pin: TenantKeyPin }> {
  const statement = parseStatement(answer.statement);
  if (!statement) throw new TenantKeyRefused("the statement is malformed");
  if (statement.tenantId !== expected.tenantId) throw new TenantKeyRefused("it is another tenant's key");
  if (!(await signatureHolds(answer.statement, statement.signingKey, answer.signature))) {
    throw new TenantKeyRefused("the statement is not signed by the tenant's signing key");
  }
  const pinned = expected.pinned;
  if (pinned && pinned.tenantId === statement.tenantId) {
    if (statement.epoch < pinned.epoch) throw new TenantKeyRefused(`epoch ${statement.epoch} is older than epoch ${pinned.epoch}, seen before`);
    // One signing key per tenant: a hand-over to another, signed by the pinned one, is not built yet.
    if (statement.signingKey !== pinned.signingKey) throw new TenantKeyRefused("it is signed by another signing key than the one seen before");
    if (statement.epoch === pinned.epoch && statement.publicKey !== pinned.publicKey) {
      throw new TenantKeyRefused(`it names another public key for epoch ${statement.epoch} than the one seen before`);
    }
  }
  const pin = { tenantId: statement.tenantId, epoch: statement.epoch, signingKey: statement.signingKey, publicKey: statement.publicKey };
  return { statement, pin };
}
