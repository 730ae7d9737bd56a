import { builder } from "../../builder.ts";
import { NodeInterface } from "../../node.ts";
import { authenticatorStatus, viewerCanApprove } from "./authenticator.service.ts";
import { PHONE_KEY_SUITE } from "./key-agreement-key.ts";

type PhoneKeyAgreementKeyShape = { publicKey: string; signature: string; registeredAt: Date };

const PhoneKeyAgreementKey = builder.objectRef<PhoneKeyAgreementKeyShape>("PhoneKeyAgreementKey").implement({
  description:
    "The HPKE key that secrets meant for one phone are sealed to, certified by the phone itself: `signature` is its signing key " +
    "(`Authenticator.publicKey`) over the UTF-8 lines `latchkey-key-agreement-key-v1`, the authenticator id, `suite` and `publicKey`, " +
    "joined by newlines. Seal to it only when that signature verifies.",
  fields: (t) => ({
    suite: t.string({ description: "The HPKE suite the key is for.", resolve: () => PHONE_KEY_SUITE }),
    publicKey: t.exposeString("publicKey", { description: "Raw X25519 public key, base64url without padding." }),
    signature: t.exposeString("signature", { description: "The phone's signature over the certification bytes, base64url." }),
    registeredAt: t.expose("registeredAt", { type: "DateTime", description: "When the phone registered it (`registerKeyAgreementKey`)." }),
  }),
});

export const DeviceKeyAlgorithm = builder.enumType("DeviceKeyAlgorithm", {
  description: "The algorithm of a phone's signing key, the key its decisions are signed with.",
  values: {
    P256: { description: "ECDSA on P-256 with SHA-256; signatures in IEEE P1363 form (r‖s, 64 bytes)." },
    ED25519: { description: "Ed25519; signatures of 64 bytes." },
  } as const,
});

export const AuthenticatorStatus = builder.enumType("AuthenticatorStatus", {
  description: "Whether a phone approves sign-ins.",
  values: {
    ACTIVE: { description: "Approves sign-ins for its user (or, not linked yet, may be linked)." },
    PENDING_APPROVAL: {
      description:
        "Linked, but waiting for approval by an admin who manages its user, or by the user after a portal sign-in approved on their other phone: it scans and decides no challenge until then.",
    },
    REVOKED: { description: "Revoked: it signs nothing in again." },
  } as const,
});

export const Authenticator = builder.prismaObject("Authenticator", {
  description: "A phone that approves sign-ins for its user.",
  // The phone itself, its user, and admins of that user's tenant.
  authScopes: (authenticator, ctx) => {
    if (authenticator.id === ctx.device?.authenticatorId) return true;
    if (!authenticator.userId || !authenticator.tenantId) return false;
    return { $any: { self: authenticator.userId, tenantAdmin: authenticator.tenantId } };
  },
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id", { description: "The authenticator's id; it is part of everything the phone signs." }),
    name: t.exposeString("name", { description: "The name the phone gave itself when it verified its email (`deviceName`)." }),
    algorithm: t.expose("algorithm", { type: DeviceKeyAlgorithm, description: "Its signing key's algorithm." }),
    publicKey: t.exposeString("publicKey", {
      description: "The phone's signing key (SPKI DER, base64, of `algorithm`): what its decisions and its key-agreement key are signed with.",
    }),
    keyAgreementKey: t.field({
      type: PhoneKeyAgreementKey,
      nullable: true,
      description: "The key secrets for this phone are sealed to, with the phone's own certification; null until the phone registers one.",
      select: { keyAgreementPublicKey: true, keyAgreementSignature: true, keyAgreementRegisteredAt: true },
      resolve: (phone) =>
        phone.keyAgreementPublicKey && phone.keyAgreementSignature && phone.keyAgreementRegisteredAt
          ? { publicKey: phone.keyAgreementPublicKey, signature: phone.keyAgreementSignature, registeredAt: phone.keyAgreementRegisteredAt }
          : null,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it verified its email and registered its signing key." }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "When it was last linked to its user or last approved or denied a challenge; null before either.",
    }),
    user: t.relation("user", { nullable: true, description: "The user it is linked to; null until it is linked." }),
    status: t.field({
      type: AuthenticatorStatus,
      description: "Whether it approves sign-ins, waits for approval, or was revoked.",
      select: { userId: true, approvedAt: true, revokedAt: true },
      resolve: (authenticator) => authenticatorStatus(authenticator),
    }),
    approvedAt: t.expose("approvedAt", {
      type: "DateTime",
      nullable: true,
      description: "When it was approved (as it was linked, or later); null while it waits and before it is linked.",
    }),
    viewerCanApprove: t.boolean({
      description:
        "Whether the viewer may approve it now with `approveAuthenticator`: it waits for approval, and the viewer manages its user, or it is the viewer's own and they signed in with their other phone in the last five minutes (or are an admin without another approved phone).",
      select: { id: true, userId: true, approvedAt: true, revokedAt: true },
      resolve: (authenticator, _args, ctx) => (ctx.viewer ? viewerCanApprove(ctx, authenticator) : false),
    }),
  }),
});
