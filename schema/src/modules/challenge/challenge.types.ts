import type { KeyAgreementAlgorithm as KeyAgreementAlgorithmName } from "@latchkey/db";
import { SealedSecret } from "../desktop-login/desktop-login.types.ts";
import { builder } from "../../builder.ts";
import type { ChallengeRequesterKind as RequesterKind } from "./challenge.service.ts";

export const ChallengeKind = builder.enumType("ChallengeKind", {
  description: "What a QR challenge asks a phone for, which decides who may scan it and how it is redeemed.",
  values: {
    PORTAL_LOGIN: {
      description:
        "A browser signing in to a tenant's portal, by the code alone or as the phone step after a password (then only that user's own phone may approve). " +
        "Redeemed with `redeemChallenge` for a session.",
    },
    DESKTOP_LOGIN: {
      description:
        "A workstation's login screen signing a user in: only users of the workstation's own tenant may approve. Redeemed by that workstation with `redeemDesktopLogin`.",
    },
    ELEVATED_ACCESS: {
      description:
        "A workstation asking for a technician's elevated access: only an admin of the owning MSP or a technician delegated to the customer may approve. " +
        "Redeemed by that workstation with `redeemElevation`.",
    },
    DEVICE_ONBOARDING: {
      description:
        "A code shown in the portal (`startDeviceOnboarding`) that links a phone to one user: used with `onboardDevice` by a phone that verified one of that user's addresses; never approved or denied.",
    },
    BREAK_GLASS_REVEAL: {
      description: "An MSP admin asking to see a workstation's break-glass password: only that admin's own phone may approve. Redeemed with `revealBreakGlassPassword`.",
    },
    KEY_OPERATION: {
      description: "A private-key operation on a customer's tenant key (see `KeyOperation`): a holder's phone carries it out, and its result, not an approval, completes it.",
    },
  } as const,
});

export const ChallengeStatus = builder.enumType("ChallengeStatus", {
  description:
    "Where a challenge stands: PENDING, then SCANNED, then APPROVED or DENIED, and CONSUMED once an approval is redeemed; EXPIRED when it is not decided in time.",
  values: {
    PENDING: { description: "Shown, not scanned yet." },
    SCANNED: { description: "Claimed by the phone that scanned it first: only that phone may decide it now." },
    APPROVED: {
      description: "Approved on the phone: its requester may redeem it, once, before `expiresAt`. A key operation: the phone's result is in, and it is done.",
    },
    DENIED: { description: "Denied on the phone. Final." },
    EXPIRED: { description: "Not decided before `expiresAt`, or withdrawn by its requester (`cancelChallenge`). Final." },
    CONSUMED: { description: "Redeemed for what it grants (an onboarding code: used to link a phone). Final: it cannot be redeemed again." },
  } as const,
});

export const ChallengeRequesterKind = builder.enumType("ChallengeRequesterKind", {
  description: "What asked for a challenge: where its QR code is shown.",
  values: {
    BROWSER: { description: "A browser: a portal sign-in, or a code shown in the portal (an onboarding, a key operation, a break-glass reveal)." },
    WORKSTATION: { description: "A workstation's agent: its login screen (DESKTOP_LOGIN) or a request for elevated access (ELEVATED_ACCESS)." },
  } as const satisfies Record<RequesterKind, { description: string }>,
});

export const KeyAgreementAlgorithm = builder.enumType("KeyAgreementAlgorithm", {
  description: "The algorithm of a workstation's key-agreement key, the key passwords are sealed to (HPKE, RFC 9180).",
  values: {
    X25519: { description: "X25519: HPKE's DHKEM(X25519, HKDF-SHA256)." },
    P256: { description: "ECDH on P-256: HPKE's DHKEM(P-256, HKDF-SHA256)." },
  } as const satisfies Record<KeyAgreementAlgorithmName, { description: string }>,
});

/**
 * A QR approval as its requester sees it. No authScopes: it is reached only
 * with its watch token (or by the phone that scanned it), and shows no secret.
 */
export const Challenge = builder.prismaObject("Challenge", {
  description:
    "A QR approval as its requester sees it: what it asks for, where it stands and until when. Reached with its watch token, or by the phone that scanned it; it shows no secret.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The challenge's id; its QR code carries it too." }),
    kind: t.expose("kind", { type: ChallengeKind, description: "What it asks the phone for." }),
    status: t.expose("status", {
      type: ChallengeStatus,
      description: "Where it stands now; a PENDING or SCANNED challenge past `expiresAt` reads as EXPIRED.",
    }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      description:
        "Until when it may be scanned, decided and redeemed: the server's challenge lifetime after it started (CHALLENGE_TTL_SECONDS, 90 seconds by default); the moment it was withdrawn, after `cancelChallenge`.",
    }),
  }),
});

export type ScanShape = {
  challenge: { id: string; kind: string; status: string; expiresAt: Date };
  tenant: { id: string; slug: string; displayName: string };
  requesterKind: RequesterKind;
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
  algorithm: KeyAgreementAlgorithmName;
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
    algorithm: t.expose("algorithm", { type: KeyAgreementAlgorithm, description: "Its key-agreement algorithm." }),
    keyAgreementKey: t.exposeString("keyAgreementKey", { description: "Its enrolled key-agreement key, SPKI DER, base64." }),
    passwordVersion: t.exposeInt("passwordVersion", { description: "The user's current password version." }),
    record: t.exposeString("record", { description: "The user's OPAQUE registration record the copy is bound to." }),
    copy: t.field({ type: SealedSecret, description: "This phone's copy: HPKE to its key-agreement key, info `latchkey phone password v1`.", resolve: (delivery) => delivery.copy }),
  }),
});


const ScannedTenant = builder.simpleObject("ScannedTenant", {
  description: "The tenant a scanned code signs in to, as the phone shows it.",
  fields: (t) => ({
    id: t.id({ description: "The tenant's id." }),
    slug: t.string({ description: "Its slug, also its portal's subdomain." }),
    displayName: t.string({ description: "Its display name." }),
  }),
});

export const ChallengeScan = builder.objectRef<ScanShape>("ChallengeScan").implement({
  description: "Who is asking, shown on the phone before it approves: the defence against a relayed QR code.",
  fields: (t) => ({
    challenge: t.field({
      type: Challenge,
      description: "The scanned challenge, now SCANNED and claimed by this phone: no other phone may scan or decide it.",
      resolve: (scan) => scan.challenge as never,
    }),
    tenant: t.field({
      type: ScannedTenant,
      description: "The tenant it is for: the one the browser signs in to, whose workstation asks, or whose key or break-glass password it concerns.",
      resolve: (scan) => scan.tenant,
    }),
    requesterKind: t.expose("requesterKind", { type: ChallengeRequesterKind, description: "What asked: a browser or a workstation." }),
    requesterName: t.exposeString("requesterName", {
      description:
        "Who or what asks, as the phone shows it: the browser and its system (`Chrome on Windows`), the workstation's admin-given name, or the request in words (an onboarding, a key operation, a break-glass reveal).",
    }),
    requesterIp: t.exposeString("requesterIp", {
      nullable: true,
      description: "The IP address the code was requested from, as the API saw it; null if none was recorded.",
    }),
    ipMatches: t.exposeBoolean("ipMatches", { description: "Whether the requester's IP is the phone's." }),
    userAgent: t.exposeString("userAgent", {
      nullable: true,
      description: "The requester's User-Agent header, cut to 512 characters; null when it sent none.",
    }),
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
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the code was requested." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "Until when it may be decided (as `challenge.expiresAt`)." }),
  }),
});
