import { AuthenticatorError } from "./authenticator-error.ts";
import { readStateFile, writeStateFile, type AuthenticatorState, type AuthenticatorTenant } from "./authenticator-state.ts";
import { challengeSigningBytes, elevationSigningBytes, type ChallengeDecision } from "./challenge-signature.ts";
import { DeviceKey, type DeviceKeyAlgorithm } from "./device-key.ts";
import { expectPayload, postGraphQL } from "./graphql-transport.ts";
import {
  APPROVE_CHALLENGE,
  AUTHENTICATORS,
  DENY_CHALLENGE,
  CREATE_RECOVERY_KIT,
  ENABLE_MASTER_KEY,
  DELIVER_BREAK_GLASS_PASSWORD,
  KEY_OPERATION_TENANTS,
  KEY_OPERATION_WORK,
  RECOVER_TENANT_KEY,
  ROTATE_TENANT_KEY,
  ONBOARD_DEVICE,
  REDEEM_INVITATION,
  REGISTER_KEY_AGREEMENT_KEY,
  REQUEST_EMAIL_VERIFICATION,
  REVOKE_AUTHENTICATOR,
  SCAN_CHALLENGE,
  VERIFY_EMAIL,
} from "./operations.ts";
import { checkKeyAgreementKey, generateKeyAgreementKey, keyAgreementKeyBytes, keyAgreementPrivateKeyBytes } from "./key-agreement-key.ts";
import { doKeyOperation, revealBreakGlass, type AwaitingPhone, type KeyOperationPhone, type KeyOperationExtras, type KeyOperationPurpose, type KeyOperationWork } from "./master-key.ts";

/**
 * A key operation carried out: the new epoch, the phones that may hold the key
 * but were not admitted, and how many password copies it sealed to users'
 * phones linked after their passwords were set (shown, so that a surprising
 * number is seen on the phone).
 */
export type KeyOperationDone = { scan: ChallengeScan; tenantKey: TenantKeyStatement; awaiting: AwaitingPhone[]; phoneCopies: number };

/** One customer an operation rotated. */
export type RotatedTenant = { tenantId: string; displayName: string; epoch: number; awaiting: AwaitingPhone[] };

/** A scanned key operation: what the QR code said, this phone's keys, and how to fetch the work for one customer. */
type ScannedKeyOperation = {
  qr: QrPayload;
  scan: ChallengeScan;
  self: KeyOperationPhone;
  fetchWork: (purpose: string, tenantId: string) => Promise<{ work: KeyOperationWork; current: TenantKeyStatement }>;
};
import { holderFingerprint, openPhoneCopy, workstationKeyHash, parseTenantKeyStatement, sealDelivery, TenantKeyRefused, verifyTenantKey, type SealedSecret, type TenantKeyAnswer, type TenantKeyPin, type TenantKeyStatement } from "@latchkey/passwords/sealing";
import { parseQrPayload, QR_PAYLOAD_PREFIX, type QrPayload } from "./qr-payload.ts";

export const DEFAULT_API_URL = "http://localhost:4000/graphql";

export type ChallengeKind = "PORTAL_LOGIN" | "DESKTOP_LOGIN" | "ELEVATED_ACCESS" | "DEVICE_ONBOARDING" | "BREAK_GLASS_REVEAL" | "KEY_OPERATION";

/** How often a key operation is redone when a secret changed while the phone worked on it. */
const KEY_OPERATION_ATTEMPTS = 3;

/** The mutation, its field and its payload type, that carry each key operation's result. */
const RESULT_MUTATIONS: Record<KeyOperationPurpose, [string, string, string]> = {
  ENABLE_MASTER_KEY: [ENABLE_MASTER_KEY, "enableMasterKey", "EnableMasterKeyPayload"],
  ROTATE_TENANT_KEY: [ROTATE_TENANT_KEY, "rotateTenantKey", "RotateTenantKeyPayload"],
  CREATE_RECOVERY_KIT: [CREATE_RECOVERY_KIT, "createRecoveryKit", "CreateRecoveryKitPayload"],
  RECOVER_TENANT_KEY: [RECOVER_TENANT_KEY, "recoverTenantKey", "RecoverTenantKeyPayload"],
};
export type ChallengeStatus = "PENDING" | "SCANNED" | "APPROVED" | "DENIED" | "EXPIRED" | "CONSUMED";

export interface Challenge {
  id: string;
  kind: ChallengeKind;
  status: ChallengeStatus;
  expiresAt: string;
}

/** Who is asking: what `scanChallenge` tells the person holding the phone before they decide. */
export interface ChallengeScan {
  challenge: Challenge;
  tenant: AuthenticatorTenant;
  requesterKind: string;
  /** For a workstation: when it enrolled. */
  requesterEnrolledAt?: string | null;
  requesterName: string;
  requesterIp: string | null;
  /** Whether the requester's IP is the phone's own: a mismatch is how a relayed QR code shows. */
  ipMatches: boolean;
  userAgent: string | null;
  /** ELEVATED_ACCESS: what the workstation asks for; an approval signs all of it. */
  elevation?: ElevationScan | null;
  /** DESKTOP_LOGIN with the master key on: this phone's copy of the user's password, to re-seal to the workstation. */
  passwordDelivery?: PasswordDelivery | null;
  createdAt: string;
  expiresAt: string;
}

/** What the phone needs to hand the user's password to a workstation (ChallengeScan.passwordDelivery). */
export interface PasswordDelivery {
  workstationId: string;
  algorithm: "X25519" | "P256";
  keyAgreementKey: string;
  passwordVersion: number;
  record: string;
  copy: SealedSecret;
}

/** How long a password this phone hands to a workstation stays usable there. */
const DELIVERY_TTL_MS = 2 * 60_000;

/** The elevation a technician is asked to approve. */
export interface ElevationScan {
  workstationId: string;
  workstationName: string;
  mode: "SIGN_IN" | "IN_SESSION";
  account: string;
  minutes: number;
  /** IN_SESSION: the Windows user signed in there, and whether that session is remote. */
  sessionUser: string | null;
  sessionRemote: boolean | null;
}

/** ACTIVE approves sign-ins; PENDING_APPROVAL is linked but waits for an admin or the user's other phone. */
export type AuthenticatorStatus = "ACTIVE" | "PENDING_APPROVAL" | "REVOKED";

/** An authenticator as the API lists it (`type Authenticator`). */
export interface AuthenticatorRecord {
  id: string;
  name: string;
  algorithm: DeviceKeyAlgorithm;
  createdAt: string;
  lastUsedAt: string | null;
  status: AuthenticatorStatus;
  /** Null until the device is onboarded. (Its tenant is the one shown when scanning the onboarding code.) */
  user: { id: string; email: string } | null;
  /** The key secrets for this phone are sealed to; null until it registers one. */
  keyAgreementKey: { publicKey: string; registeredAt: string } | null;
}

export interface CreateAuthenticatorOptions {
  apiUrl?: string;
  algorithm?: DeviceKeyAlgorithm;
  /** Where to keep the state; when set, every change (enrollment, onboarding, self-revocation) is saved there at once. */
  statePath?: string;
}

/**
 * The reference mobile authenticator: a device key pair, and once enrolled the
 * device id and token the API issued for it. It signs its decisions on QR
 * challenges with the device key (see `challengeSigningBytes`).
 */
export class Authenticator {
  private constructor(
    private state: AuthenticatorState,
    private readonly key: DeviceKey,
    /** The endpoint used for requests; may differ from the state's when given explicitly (e.g. `--api`). */
    readonly apiUrl: string,
    private statePath: string | null,
  ) {}

  /** A new authenticator with a fresh key pair, not yet enrolled. */
  static async create(options: CreateAuthenticatorOptions = {}): Promise<Authenticator> {
    const key = await DeviceKey.generate(options.algorithm ?? "P256");
    const apiUrl = options.apiUrl ?? DEFAULT_API_URL;
    const state: AuthenticatorState = {
      version: 1,
      apiUrl,
      algorithm: key.algorithm,
      publicKey: key.publicKey,
      privateKey: key.privateKeyPkcs8,
      keyAgreementKey: await generateKeyAgreementKey(),
      deviceId: null,
      deviceToken: null,
      deviceName: null,
      email: null,
      userId: null,
      tenant: null,
      tenantKeyPins: [],
    };
    return new Authenticator(state, key, apiUrl, options.statePath ?? null);
  }

  /** Loads a state file; `apiUrl` overrides the endpoint it names. Later changes are saved back to the same file. */
  static async load(statePath: string, options: { apiUrl?: string } = {}): Promise<Authenticator> {
    return Authenticator.fromState(await readStateFile(statePath), { ...options, statePath });
  }

  static async fromState(state: AuthenticatorState, options: { apiUrl?: string; statePath?: string } = {}): Promise<Authenticator> {
    const key = await DeviceKey.import(state.algorithm, state.privateKey, state.publicKey);
    if (state.keyAgreementKey) await checkKeyAgreementKey(state.keyAgreementKey);
    return new Authenticator({ ...state }, key, options.apiUrl ?? state.apiUrl, options.statePath ?? null);
  }

  /** Writes the state file (mode 0600) and remembers the path for later changes. */
  async save(statePath: string | null = this.statePath): Promise<void> {
    if (!statePath) throw new AuthenticatorError("NO_STATE_PATH", "no state file path to save the authenticator to");
    await writeStateFile(statePath, this.state);
    this.statePath = statePath;
  }

  /** A copy of everything the state file holds. */
  toState(): AuthenticatorState {
    return structuredClone(this.state);
  }

  /** This authenticator's id at the API, also the `deviceId` it signs with; null until enrolled. */
  get deviceId(): string | null {
    return this.state.deviceId;
  }
  get deviceToken(): string | null {
    return this.state.deviceToken;
  }
  get algorithm(): DeviceKeyAlgorithm {
    return this.state.algorithm;
  }
  /** SPKI DER, base64. */
  get publicKey(): string {
    return this.state.publicKey;
  }
  get tenant(): AuthenticatorTenant | null {
    return this.state.tenant;
  }
  get isEnrolled(): boolean {
    return this.state.deviceToken !== null && this.state.deviceId !== null;
  }

  /** Asks the API to email a verification code to `email`. */
  async requestEmailVerification(email: string): Promise<{ sent: boolean; expiresAt: string }> {
    const data = await this.send(REQUEST_EMAIL_VERIFICATION, { email });
    return expectPayload<{ sent: boolean; expiresAt: string }>(data.requestEmailVerification, "RequestEmailVerificationPayload", "requestEmailVerification");
  }

  /**
   * Proves the email with its code and registers this device's public key. The
   * API answers with the device token, which it shows only this once: it is
   * saved at once when the authenticator has a state path.
   */
  async verifyEmail(email: string, code: string, deviceName: string): Promise<AuthenticatorRecord> {
    if (this.isEnrolled) {
      throw new AuthenticatorError("ALREADY_ENROLLED", `this authenticator is already enrolled as ${this.state.deviceId}; use a new state file to enroll again`);
    }
    const data = await this.send(VERIFY_EMAIL, { email, code: code.trim(), publicKey: this.state.publicKey, deviceName, algorithm: this.state.algorithm });
    const credential = expectPayload<{ deviceToken: string; authenticator: AuthenticatorRecord }>(data.verifyEmail, "AuthenticatorCredential", "verifyEmail");
    this.state = {
      ...this.state,
      apiUrl: this.apiUrl,
      deviceId: credential.authenticator.id,
      deviceToken: credential.deviceToken,
      deviceName: credential.authenticator.name,
      email,
      userId: credential.authenticator.user?.id ?? null,
      tenant: null,
    };
    await this.persist();
    // Enrolled, the phone can be sealed to: it vouches for its key-agreement key at once.
    return this.registerKeyAgreementKey();
  }

  /** The public half of the key secrets for this phone are sealed to (raw X25519, base64url); null in an old state file until registered. */
  get keyAgreementPublicKey(): string | null {
    return this.state.keyAgreementKey?.publicKey ?? null;
  }

  /**
   * Registers this phone's key-agreement key, signed with its signing key, so that
   * others can seal secrets to it. A state file from before such keys gets one first.
   */
  async registerKeyAgreementKey(): Promise<AuthenticatorRecord> {
    const { deviceId } = this.requireEnrollment();
    if (!this.state.keyAgreementKey) {
      this.state = { ...this.state, keyAgreementKey: await generateKeyAgreementKey() };
      await this.persist();
    }
    const { publicKey } = this.state.keyAgreementKey!;
    const signature = await this.key.sign(keyAgreementKeyBytes(deviceId, publicKey));
    const data = await this.send(REGISTER_KEY_AGREEMENT_KEY, { publicKey, signature }, { authenticated: true });
    const { authenticator } = expectPayload<{ authenticator: AuthenticatorRecord }>(data.registerKeyAgreementKey, "RegisterKeyAgreementKeyPayload", "registerKeyAgreementKey");
    return authenticator;
  }

  /**
   * Scans a QR challenge: the API marks it SCANNED by this device (only the
   * device that scanned may decide) and says who is asking.
   */
  async scan(qrPayload: string): Promise<ChallengeScan> {
    return (await this.scanParsed(parseQrPayload(qrPayload))).scan;
  }

  /** Scans, then approves the challenge with a signature over decision APPROVE. */
  async approve(qrPayload: string): Promise<{ scan: ChallengeScan; challenge: Challenge }> {
    return this.decide(qrPayload, "APPROVE");
  }

  /** Scans, then denies the challenge with a signature over decision DENY. */
  async deny(qrPayload: string): Promise<{ scan: ChallengeScan; challenge: Challenge }> {
    return this.decide(qrPayload, "DENY");
  }

  /**
   * Joins this device to the user and tenant of a device-onboarding QR code:
   * scans it (it must be of kind DEVICE_ONBOARDING), then calls `onboardDevice`
   * with a signature over decision ONBOARD.
   */
  async onboard(qrPayload: string): Promise<{ scan: ChallengeScan; authenticator: AuthenticatorRecord }> {
    const { qr, scan } = await this.scanParsed(parseQrPayload(qrPayload));
    if (scan.challenge.kind !== "DEVICE_ONBOARDING") {
      throw new AuthenticatorError("WRONG_CHALLENGE_KIND", `this QR code is a ${scan.challenge.kind} request, not a device onboarding; use approve or deny`);
    }
    const signature = await this.sign(scan, qr, "ONBOARD");
    const data = await this.send(ONBOARD_DEVICE, { qrPayload: formatQrPayload(qr), signature });
    const { authenticator } = expectPayload<{ authenticator: AuthenticatorRecord }>(data.onboardDevice, "OnboardDevicePayload", "onboardDevice");
    // The device joins the tenant of the code it scanned and signed for.
    this.state = { ...this.state, userId: authenticator.user?.id ?? this.state.userId, tenant: scan.tenant, deviceName: authenticator.name };
    await this.persist();
    return { scan, authenticator };
  }

  /**
   * Presents the code of an invitation sent to the email this device verified:
   * the device is linked to that user. Nothing is signed in by it.
   */
  async redeemInvitation(code: string): Promise<{ authenticator: AuthenticatorRecord; tenant: AuthenticatorTenant }> {
    const data = await this.send(REDEEM_INVITATION, { code }, { authenticated: true });
    const redeemed = expectPayload<{ authenticator: AuthenticatorRecord; tenant: AuthenticatorTenant }>(data.redeemInvitation, "RedeemInvitationPayload", "redeemInvitation");
    this.state = { ...this.state, userId: redeemed.authenticator.user?.id ?? this.state.userId, tenant: redeemed.tenant, deviceName: redeemed.authenticator.name };
    await this.persist();
    return redeemed;
  }

  /** The tenant keys this phone has verified, each at the highest epoch seen. */
  get tenantKeyPins(): TenantKeyPin[] {
    return structuredClone(this.state.tenantKeyPins);
  }

  /**
   * Turns a customer's master key on from the portal's QR code (a KEY_OPERATION
   * challenge): the new key is made on this phone, every secret re-sealed to it,
   * and a copy wrapped to every holder; the server's escrow is then deleted.
   */
  async enableMasterKey(qrPayload: string, options: { admit?: string[] } = {}): Promise<KeyOperationDone> {
    return this.keyOperation(qrPayload, "ENABLE_MASTER_KEY", options);
  }

  /** A key operation on the one customer the QR code names. */
  private async keyOperation(qrPayload: string, purpose: KeyOperationPurpose, extras: KeyOperationExtras = {}): Promise<KeyOperationDone & { recoveryCode?: string }> {
    const scanned = await this.scanKeyOperation(qrPayload);
    return this.newEpoch(scanned, purpose, extras, scanned.scan.tenant.id);
  }

  /**
   * Rotates a customer's key on this holder phone: the next epoch's key is made
   * here, every secret re-sealed to it and wrapped to every phone that may hold
   * it now; a removed holder's copy opens nothing set from then on. An MSP's
   * QR code rotates, with this one approval, every customer where a rotation
   * is due and this phone holds the key, one after the other (`rotated`;
   * `tenantKey` is the last one's).
   */
  async rotateTenantKey(qrPayload: string, options: { retireRecoveryKits?: boolean; admit?: string[] } = {}): Promise<KeyOperationDone & { rotated: RotatedTenant[] }> {
    const scanned = await this.scanKeyOperation(qrPayload);
    const data = await this.send(KEY_OPERATION_TENANTS, { id: scanned.scan.challenge.id }, { authenticated: true });
    const { tenants } = expectPayload<{ tenants: { id: string; displayName: string }[] }>(data.keyOperationTenants, "KeyOperationTenants", "keyOperationTenants");
    if (tenants.length === 0) throw new AuthenticatorError("NOTHING_TO_ROTATE", "this phone holds the key of no customer where a rotation is due");
    // Admitting a phone and retiring kits are choices about one customer, not every one an MSP's code covers.
    const ownCustomer = tenants.length === 1 && tenants[0]!.id === scanned.scan.tenant.id;
    if (!ownCustomer && (options.admit?.length || options.retireRecoveryKits)) {
      throw new AuthenticatorError("NOT_FOR_EVERY_CUSTOMER", "admit phones and retire recovery kits with a customer's own QR code, not the MSP's");
    }
    const rotated: RotatedTenant[] = [];
    let last: KeyOperationDone | null = null;
    for (const tenant of tenants) {
      last = await this.newEpoch(scanned, "ROTATE_TENANT_KEY", options, tenant.id);
      rotated.push({ tenantId: tenant.id, displayName: tenant.displayName, epoch: last.tenantKey.epoch, awaiting: last.awaiting });
    }
    return { ...last!, rotated };
  }

  /**
   * Admits a recovery kit on this holder phone: a rotation that also wraps the
   * key to a kit whose code is made here and returned to be shown once. The
   * code never leaves the phone; later rotations wrap to the kit without it.
   */
  async createRecoveryKit(qrPayload: string, options: { admit?: string[] } = {}): Promise<KeyOperationDone & { recoveryCode: string }> {
    const done = await this.keyOperation(qrPayload, "CREATE_RECOVERY_KIT", options);
    return { ...done, recoveryCode: done.recoveryCode! };
  }

  /**
   * Puts a customer's key onto this phone with a recovery kit's code, when no
   * phone that held it is left: this phone may hold the key (an admin's), opens
   * the kit's copy with the code and makes the next epoch with itself a holder.
   */
  async recoverTenantKey(qrPayload: string, recoveryCode: string): Promise<KeyOperationDone> {
    return this.keyOperation(qrPayload, "RECOVER_TENANT_KEY", { recoveryCode });
  }

  /**
   * This phone's fingerprint, to be read off its screen by the person at a
   * holder's phone who admits it among the holders of a customer's key.
   */
  async fingerprint(): Promise<string> {
    const { deviceId } = this.requireEnrollment();
    const keyAgreement = this.state.keyAgreementKey;
    if (!keyAgreement) throw new AuthenticatorError("NO_KEY_AGREEMENT_KEY", "register this phone's key-agreement key first (`authenticator register-key`)");
    return holderFingerprint(deviceId, keyAgreement.publicKey);
  }

  /**
   * Makes the next epoch of `tenantId`'s key for a scanned operation; when a
   * secret changed meanwhile (CONFLICT), the work is fetched and done again.
   */
  private async newEpoch(
    { scan, self, fetchWork }: ScannedKeyOperation,
    purpose: KeyOperationPurpose,
    extras: KeyOperationExtras,
    tenantId: string,
  ): Promise<KeyOperationDone & { recoveryCode?: string }> {
    for (let attempt = 1; ; attempt++) {
      const { work, current } = await fetchWork(purpose, tenantId);
      const { result, recoveryCode, awaiting } = await doKeyOperation(work, current, self, new Date(), extras);
      try {
        const [document, field, payload] = RESULT_MUTATIONS[purpose];
        const input = purpose === "ENABLE_MASTER_KEY" ? result : { ...result, tenantId, fromEpoch: current.epoch };
        const sent = await this.send(document, { input }, { authenticated: true });
        const { tenantKey } = expectPayload<{ tenantKey: TenantKeyAnswer }>(sent[field], payload, field);
        const verified = await this.verifyTenantKey(tenantId, tenantKey);
        if (verified.signingKey !== parseTenantKeyStatement(result.statement)?.signingKey) {
          throw new AuthenticatorError("BAD_RESPONSE", `${field} answered with another key than the one this phone made`);
        }
        const phoneCopies = result.secrets.reduce((sum, secret) => sum + (secret.phoneCopies?.length ?? 0), 0);
        return { scan, tenantKey: verified, recoveryCode, awaiting, phoneCopies };
      } catch (error) {
        if (error instanceof AuthenticatorError && error.code === "CONFLICT" && attempt < KEY_OPERATION_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  /**
   * Reveals a workstation's break-glass password for the browser that shows
   * this QR code, on this phone that holds the customer's key: the password is
   * sealed to the browser key whose SHA-256 the code carries, and to no other.
   */
  async revealBreakGlassPassword(qrPayload: string): Promise<{ scan: ChallengeScan; workstationId: string; account: string }> {
    const { qr, scan, self, fetchWork } = await this.scanKeyOperation(qrPayload);
    const { work, current } = await fetchWork("REVEAL_BREAK_GLASS_PASSWORD", scan.tenant.id);
    const { delivery, workstationId, account } = await revealBreakGlass(work, current, self, qr.keyHash, new Date());
    const sent = await this.send(DELIVER_BREAK_GLASS_PASSWORD, { input: delivery }, { authenticated: true });
    expectPayload(sent.deliverBreakGlassPassword, "DeliverBreakGlassPasswordPayload", "deliverBreakGlassPassword");
    return { scan, workstationId, account };
  }

  /**
   * Scans a key operation's QR code and returns this phone's keys and a way
   * to fetch the work: for the very operation and tenant scanned, for the
   * purpose expected, with its current key verified against this phone's pin.
   */
  private async scanKeyOperation(qrPayload: string): Promise<ScannedKeyOperation> {
    const { qr, scan } = await this.scanParsed(parseQrPayload(qrPayload));
    if (scan.challenge.kind !== "KEY_OPERATION") {
      throw new AuthenticatorError("WRONG_CHALLENGE_KIND", `this QR code is a ${scan.challenge.kind} request, not a key operation`);
    }
    const { deviceId } = this.requireEnrollment();
    const keyAgreement = this.state.keyAgreementKey;
    if (!keyAgreement) throw new AuthenticatorError("NO_KEY_AGREEMENT_KEY", "register this phone's key-agreement key first (`authenticator register-key`)");
    const self = { deviceId, keyAgreementKey: keyAgreement.publicKey, keyAgreementPrivateKey: await keyAgreementPrivateKeyBytes(keyAgreement), sign: (bytes: Uint8Array<ArrayBuffer>) => this.key.sign(bytes) };
    const fetchWork = async (purpose: string, tenantId: string) => {
      // For the operation's own customer, no tenant is named: an MSP's operation names one of its due customers.
      const data = await this.send(KEY_OPERATION_WORK, { id: scan.challenge.id, tenantId: tenantId === scan.tenant.id ? null : tenantId }, { authenticated: true });
      const work = expectPayload<KeyOperationWork>(data.keyOperationWork, "KeyOperationWork", "keyOperationWork");
      if (work.keyOperation.id !== scan.challenge.id || work.keyOperation.tenantId !== scan.tenant.id || work.tenantId !== tenantId) {
        throw new AuthenticatorError("BAD_RESPONSE", "keyOperationWork answered about another operation or tenant than the scanned one");
      }
      if (work.keyOperation.purpose !== purpose) {
        throw new AuthenticatorError("WRONG_KEY_OPERATION", `this QR code asks to ${work.keyOperation.purpose.toLowerCase().replace(/_/g, " ")}, not to ${purpose.toLowerCase().replace(/_/g, " ")}`);
      }
      return { work, current: await this.verifyTenantKey(work.tenantId, work.tenantKey) };
    };
    return { qr, scan, self, fetchWork };
  }

  /** Verifies a tenant key the server handed out against this phone's pin, and pins the epoch it names. */
  private async verifyTenantKey(tenantId: string, answer: TenantKeyAnswer): Promise<TenantKeyStatement> {
    const pinned = this.state.tenantKeyPins.find((pin) => pin.tenantId === tenantId) ?? null;
    try {
      const { statement, pin } = await verifyTenantKey(answer, { tenantId, pinned });
      this.state = { ...this.state, tenantKeyPins: [...this.state.tenantKeyPins.filter((other) => other.tenantId !== tenantId), pin] };
      await this.persist();
      return statement;
    } catch (error) {
      if (error instanceof TenantKeyRefused) throw new AuthenticatorError(error.code, error.message, { cause: error });
      throw error;
    }
  }

  /** The authenticators of this device's user (just this one before onboarding). */
  async list(): Promise<AuthenticatorRecord[]> {
    const data = await this.send(AUTHENTICATORS, {}, { authenticated: true });
    // A person links a handful of phones; the first hundred are all of them.
    const page = data.viewerAuthenticators as { edges: { node: AuthenticatorRecord }[] };
    return page.edges.map((edge) => edge.node);
  }

  /**
   * Revokes an authenticator of this user. Revoking this very device forgets
   * its credential (the token no longer works), keeping the key file so the
   * state shows what happened; enrolling again needs a new state file.
   */
  async revoke(id: string): Promise<string> {
    const data = await this.send(REVOKE_AUTHENTICATOR, { id }, { authenticated: true });
    const { revokedAuthenticatorId } = expectPayload<{ revokedAuthenticatorId: string }>(data.revokeAuthenticator, "RevokeAuthenticatorPayload", "revokeAuthenticator");
    if (revokedAuthenticatorId === this.state.deviceId) {
      this.state = { ...this.state, deviceToken: null, deviceId: null, userId: null, tenant: null };
      await this.persist();
    }
    return revokedAuthenticatorId;
  }

  private async decide(qrPayload: string, decision: "APPROVE" | "DENY"): Promise<{ scan: ChallengeScan; challenge: Challenge }> {
    const { qr, scan } = await this.scanParsed(parseQrPayload(qrPayload));
    if (decision === "APPROVE" && scan.challenge.kind === "DEVICE_ONBOARDING") {
      throw new AuthenticatorError("WRONG_CHALLENGE_KIND", "this QR code onboards a device; use onboard");
    }
    const signature = await this.sign(scan, qr, decision);
    const [document, field] = decision === "APPROVE" ? [APPROVE_CHALLENGE, "approveChallenge"] : [DENY_CHALLENGE, "denyChallenge"];
    const delivery = decision === "APPROVE" && scan.passwordDelivery ? await this.deliverPassword(scan, qr) : null;
    const data = await this.send(document, { id: scan.challenge.id, signature, ...(delivery ? { delivery } : {}) }, { authenticated: true });
    const { challenge } = expectPayload<{ challenge: Challenge }>(data[field], "DecideChallengePayload", field);
    return { scan, challenge };
  }

  /**
   * Opens this phone's copy of the user's password and re-seals it to the
   * workstation that asks, bound to it, this login and the password version.
   * A copy that does not open (another phone's, an old password's) hands
   * nothing: the workstation then sets a password of its own. So does a
   * workstation key other than the one whose hash the workstation put in its
   * QR code (a key the server swapped in), or a code without one.
   */
  private async deliverPassword(scan: ChallengeScan, qr: QrPayload) {
    const delivery = scan.passwordDelivery!;
    const keyAgreement = this.state.keyAgreementKey;
    if (!keyAgreement || !this.state.userId || !this.state.deviceId) return null;
    if (!qr.keyHash || (await workstationKeyHash(delivery.keyAgreementKey)) !== qr.keyHash) return null;
    const password = await openPhoneCopy({
      tenantId: scan.tenant.id,
      userId: this.state.userId,
      passwordVersion: delivery.passwordVersion,
      record: delivery.record,
      authenticatorId: this.state.deviceId,
      phonePrivateKey: await keyAgreementPrivateKeyBytes(keyAgreement),
      sealed: delivery.copy,
    }).catch(() => null);
    if (password === null) return null;
    const expiresAt = new Date(Date.now() + DELIVERY_TTL_MS).toISOString();
    const binding = { workstationId: delivery.workstationId, challengeId: scan.challenge.id, passwordVersion: delivery.passwordVersion, expiresAt };
    const sealed = await sealDelivery({ ...binding, algorithm: delivery.algorithm, keyAgreementKey: delivery.keyAgreementKey, password });
    return { sealed, passwordVersion: delivery.passwordVersion, expiresAt };
  }

  private async scanParsed(qr: QrPayload): Promise<{ qr: QrPayload; scan: ChallengeScan }> {
    const data = await this.send(SCAN_CHALLENGE, { qrPayload: formatQrPayload(qr) }, { authenticated: true });
    const scan = expectPayload<ChallengeScan>(data.scanChallenge, "ChallengeScan", "scanChallenge");
    // We sign the server's challenge id; it must be the one in the QR code we were shown.
    if (scan.challenge.id.toLowerCase() !== qr.challengeId.toLowerCase()) {
      throw new AuthenticatorError("BAD_RESPONSE", `scanChallenge answered about challenge ${scan.challenge.id}, not the scanned ${qr.challengeId}`);
    }
    return { qr, scan };
  }

  private async sign(scan: ChallengeScan, qr: QrPayload, decision: ChallengeDecision): Promise<string> {
    const deviceId = this.requireEnrollment().deviceId;
    if (scan.challenge.kind === "ELEVATED_ACCESS" && decision === "APPROVE") {
      const elevation = scan.elevation;
      if (!elevation || !this.state.userId) throw new AuthenticatorError("BAD_RESPONSE", "scanChallenge did not say what elevation is asked for");
      const bytes = elevationSigningBytes({
        tenantId: scan.tenant.id,
        workstationId: elevation.workstationId,
        challengeId: scan.challenge.id,
        qrSecret: qr.qrSecret,
        mode: elevation.mode,
        account: elevation.account,
        minutes: elevation.minutes,
        technicianId: this.state.userId,
        deviceId,
      });
      return this.key.sign(bytes);
    }
    const bytes = challengeSigningBytes({ tenantId: scan.tenant.id, challengeId: scan.challenge.id, qrSecret: qr.qrSecret, decision, deviceId });
    return this.key.sign(bytes);
  }

  private requireEnrollment(): { deviceId: string; deviceToken: string } {
    const { deviceId, deviceToken } = this.state;
    if (!deviceId || !deviceToken) {
      throw new AuthenticatorError("NOT_ENROLLED", "this authenticator is not enrolled; run `authenticator enroll --email <address>` first");
    }
    return { deviceId, deviceToken };
  }

  private async send(query: string, variables: Record<string, unknown>, options: { authenticated?: boolean } = {}) {
    const token = options.authenticated ? this.requireEnrollment().deviceToken : this.state.deviceToken;
    return postGraphQL(this.apiUrl, query, variables, token);
  }

  private async persist(): Promise<void> {
    if (this.statePath) await writeStateFile(this.statePath, this.state);
  }
}

/** The canonical text of a parsed payload: what the QR code said, without surrounding whitespace. */
function formatQrPayload(qr: QrPayload): string {
  return `${QR_PAYLOAD_PREFIX}.${qr.challengeId}.${qr.qrSecret}`;
}
