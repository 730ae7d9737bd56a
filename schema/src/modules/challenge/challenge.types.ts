import { SealedSecret } from "../desktop-login/desktop-login.types.ts";
import { builder } from "../../builder.ts";

export const ChallengeKind = builder.enumType("ChallengeKind", {
  values: ["PORTAL_LOGIN", "DESKTOP_LOGIN", "ELEVATED_ACCESS", "DEVICE_ONBOARDING", "BREAK_GLASS_REVEAL", "KEY_OPERATION"] as const,
});

export const ChallengeStatus = builder.enumType("ChallengeStatus", {
  values: ["PENDING", "SCANNED", "APPROVED", "DENIED", "EXPIRED", "CONSUMED"] as const,
});

/**
 * A QR approval as its requester sees it. No authScopes: it is reached only
 * with its watch token (or by the phone that scanned it), and shows no secret.
 */
export const Challenge = builder.prismaObject("Challenge", {
  fields: (t) => ({
    id: t.exposeID("id"),
    kind: t.expose("kind", { type: ChallengeKind }),
    status: t.expose("status", { type: ChallengeStatus }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
  }),
});

export type ScanShape = {
  challenge: { id: string; kind: string; status: string; expiresAt: Date };
  tenant: { id: string; slug: string; displayName: string };
  requesterKind: string;
  requesterName: string;
  requesterIp: string | null;
  ipMatches: boolean;
  userAgent: string | null;
  requesterEnrolledAt: Date | null;
  /** ELEVATED_ACCESS: what is asked for (see elevation.types.ts). */
  elevation?: unknown;
  /** DESKTOP_LOGIN with the master key on: this phone's copy of the user's password, to re-seal to the workstation. */
  passwordDelivery?: PasswordDeliveryShape | null;
  createdAt: Date;
  expiresAt: Date;
};

export type PasswordDeliveryShape = {
  workstationId: string;
  algorithm: string;
  keyAgreementKey: string;
  passwordVersion: number;
  record: string;
  copy: { suite: string; enc: string; ciphertext: string };
};

const PasswordDelivery = builder.objectRef<PasswordDeliveryShape>("PasswordDelivery").implement({
  description:
    "What the approving phone needs to hand the user's password to the workstation: open `copy` (this phone's copy, see @latchkey/passwords " +
    "phone-copies), re-seal it to `keyAgreementKey` with the delivery binding, and send it with approveChallenge's `delivery`. The server cannot open either box.",
  fields: (t) => ({
    workstationId: t.exposeID("workstationId", { description: "The workstation that asks." }),
    algorithm: t.exposeString("algorithm", { description: "Its key-agreement algorithm: X25519 or P256." }),
    keyAgreementKey: t.exposeString("keyAgreementKey", { description: "Its enrolled key-agreement key, SPKI DER, base64." }),
    passwordVersion: t.exposeInt("passwordVersion", { description: "The user's current password version." }),
    record: t.exposeString("record", { description: "The user's OPAQUE registration record the copy is bound to." }),
    copy: t.field({ type: SealedSecret, description: "This phone's copy: HPKE to its key-agreement key, info `latchkey phone password v1`.", resolve: (delivery) => delivery.copy }),
  }),
});


const ScannedTenant = builder.simpleObject("ScannedTenant", {
  description: "The tenant a scanned code signs in to, as the phone shows it.",
  fields: (t) => ({ id: t.id(), slug: t.string(), displayName: t.string() }),
});

export const ChallengeScan = builder.objectRef<ScanShape>("ChallengeScan").implement({
  description: "Who is asking, shown on the phone before it approves: the defence against a relayed QR code.",
  fields: (t) => ({
    challenge: t.field({ type: Challenge, resolve: (scan) => scan.challenge as never }),
    tenant: t.field({ type: ScannedTenant, resolve: (scan) => scan.tenant }),
    requesterKind: t.exposeString("requesterKind", { description: "BROWSER or WORKSTATION." }),
    requesterName: t.exposeString("requesterName"),
    requesterIp: t.exposeString("requesterIp", { nullable: true }),
    ipMatches: t.exposeBoolean("ipMatches", { description: "Whether the requester's IP is the phone's." }),
    userAgent: t.exposeString("userAgent", { nullable: true }),
    requesterEnrolledAt: t.expose("requesterEnrolledAt", {
      type: "DateTime",
      nullable: true,
      description: "For a workstation: when it enrolled, so the phone can say how long it has been known.",
    }),
    passwordDelivery: t.field({
      type: PasswordDelivery,
      nullable: true,
      description: "A desktop login of a customer whose master key is on, when this phone has a copy of the user's current password.",
      resolve: (scan) => scan.passwordDelivery ?? null,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
  }),
});
