// A phone's key-agreement key: the HPKE key that secrets meant for this phone
// (a user's password, a tenant key wrapped to a holder) are sealed to. The
// phone generates it and keeps the private half; the API stores the public
// half with the phone's own signature over it, so that anyone who seals to it
// can check that the phone, not the server, chose it.
//
// Certification bytes: UTF-8 of these lines joined by "\n":
//   latchkey-key-agreement-key-v1
//   <authenticator (device) id>
//   DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM
//   <public key: raw X25519, base64url without padding>
// signed by the phone's enrolled signing key, as challenge decisions are
// (challenge-signing.ts).
import { createPublicKey } from "node:crypto";
import { keyAgreementKeyBytes as certificationBytes, TENANT_PASSWORD_SUITE } from "@latchkey/passwords";
import type { Context } from "../../context.ts";
import { UnauthenticatedError, ValidationError } from "../../errors.ts";
import { publishAudit, recordAudit } from "../audit/audit.service.ts";
import { verifySignature } from "../challenge/challenge-signing.ts";
import { viewerLabel } from "../session/session.service.ts";

/** The HPKE suite a phone's key is used with: the one tenant keys use. */
export const PHONE_KEY_SUITE = TENANT_PASSWORD_SUITE;

/** The bytes a phone signs over its key (@latchkey/passwords phone-copies, shared with every client). */
export function keyAgreementKeyBytes(authenticatorId: string, publicKey: string) {
  return Buffer.from(certificationBytes(authenticatorId, publicKey));
}

/** A raw X25519 public key, base64url without padding: exactly 32 bytes that make a key. */
function isX25519PublicKey(publicKey: string) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicKey)) return false;
  try {
    createPublicKey({ key: { kty: "OKP", crv: "X25519", x: publicKey }, format: "jwk" });
    return true;
  } catch {
    return false;
  }
}

/**
 * The calling phone registers (or replaces) its key-agreement key, signed with
 * its signing key. Refused, with nothing written, unless the signature is this
 * phone's over this key.
 */
export async function registerKeyAgreementKey(ctx: Context, input: { publicKey: string; signature: string }) {
  const device = ctx.device;
  if (!device) throw new UnauthenticatedError("Enroll this authenticator first");
  const publicKey = input.publicKey.trim();
  if (!isX25519PublicKey(publicKey)) throw ValidationError.field("publicKey", "Give an X25519 public key: 32 bytes, base64url without padding");
  if (!verifySignature(device, keyAgreementKeyBytes(device.authenticatorId, publicKey), input.signature)) {
    throw ValidationError.field("signature", "The signature does not match this phone's key");
  }
  const user = device.userId
    ? await ctx.db.user.findUnique({ where: { id: device.userId }, select: { id: true, firstName: true, lastName: true, email: true } })
    : null;
  const { phone, event } = await ctx.db.$transaction(async (tx) => {
    const phone = await tx.authenticator.update({
      where: { id: device.authenticatorId },
      data: { keyAgreementPublicKey: publicKey, keyAgreementSignature: input.signature, keyAgreementRegisteredAt: new Date(ctx.clock.now()) },
    });
    // A phone not linked yet belongs to no tenant: there is no audit log to write to.
    const event =
      phone.tenantId && user
        ? await recordAudit(
            tx,
            ctx,
            {
              tenantId: phone.tenantId,
              action: "authenticator.keyAgreementKeyRegistered",
              targetType: "Authenticator",
              targetId: phone.id,
              data: { userId: user.id, publicKey },
            },
            { id: user.id, label: viewerLabel(user) },
          )
        : null;
    return { phone, event };
  });
  if (event) publishAudit(ctx, [event]);
  return phone;
}
