import { DeviceKeyAlgorithm } from "../authenticator/authenticator.types.ts";
import { builder } from "../../builder.ts";
import { KSF_NAMES } from "@latchkey/passwords";
import { TenantKey } from "../tenant-key/tenant-key.types.ts";

const KSF_DESCRIPTION =
  `The key-stretching profile to run the client's OPAQUE step with: ${KSF_NAMES.map((name) => `\`${name}\``).join(", ")} ` +
  "(`v1`: Argon2id, 64 MiB, 3 passes, 4 lanes; `test`: a cheap profile for test deployments).";

export const SealedSecretInput = builder.inputType("SealedSecretInput", {
  description:
    "A password sealed (HPKE, RFC 9180, base mode, DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM) to the tenant's public key. " +
    "info: `latchkey tenant password v1`; associated data: " +
    "`latchkey-tenant-password-v1|<tenantId>|<userId>|<passwordVersion>|<SHA-256 of the record's bytes, hex>`.",
  fields: (t) => ({
    suite: t.string({ required: true, description: "`DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM`." }),
    enc: t.string({ required: true, description: "The encapsulated key, base64url without padding." }),
    ciphertext: t.string({ required: true, description: "base64url without padding." }),
  }),
});

export const StartPasswordLogInPayload = builder.simpleObject("StartPasswordLogInPayload", {
  description: "The server's answer to the first step of an OPAQUE login. Finish within 60 seconds.",
  fields: (t) => ({
    loginId: t.id({ description: "Names this login in the finish step." }),
    response: t.string({ description: "The OPAQUE login response (KE2), base64url without padding." }),
    ksf: t.string({ description: KSF_DESCRIPTION }),
    clientIdentity: t.string({ description: "The OPAQUE client identity to finish with (the account's id)." }),
    serverIdentity: t.string({ description: "The OPAQUE server identity to finish with (the deployment's id)." }),
  }),
});

export const PasswordPhone = builder.simpleObject("PasswordPhone", {
  description:
    "One of the user's phones, to seal a copy of the password to: check `keyAgreementSignature` with `publicKey` over " +
    "`latchkey-key-agreement-key-v1\\n<authenticatorId>\\n<suite>\\n<keyAgreementKey>` first (sealForPhones in @latchkey/passwords does).",
  fields: (t) => ({
    authenticatorId: t.id({ description: "The phone." }),
    algorithm: t.field({ type: DeviceKeyAlgorithm, description: "Its signing key's algorithm." }),
    publicKey: t.string({ description: "Its signing key, SPKI DER, base64." }),
    keyAgreementKey: t.string({ description: "Its X25519 key-agreement key, raw, base64url." }),
    keyAgreementSignature: t.string({ description: "Its own signature over the key-agreement key, base64url." }),
  }),
});

export const StartPasswordRegistrationPayload = builder.simpleObject("StartPasswordRegistrationPayload", {
  description: "The server's answer to the first step of an OPAQUE registration. Finish within ten minutes.",
  fields: (t) => ({
    registrationId: t.id({ description: "Names this registration in the finish step and in the operation that uses it." }),
    response: t.string({ description: "The OPAQUE registration response, base64url without padding." }),
    ksf: t.string({ description: KSF_DESCRIPTION }),
    userId: t.id({ description: "The user's id: the OPAQUE client identity and credential identifier. For a new user, the id it will have." }),
    serverIdentity: t.string({ description: "The OPAQUE server identity (the deployment's id)." }),
    passwordVersion: t.int({ description: "The password version to bind the sealed password to." }),
    tenantId: t.id({ nullable: true, description: "The user's tenant; null at an MSP sign-up." }),
    tenantPublicKey: t.string({
      nullable: true,
      description:
        "A customer tenant's public key (raw X25519, base64url), repeated from `tenantKey` for reading: seal to the key of the statement you verified. Null for MSP users, whose passwords are never sealed.",
    }),
    tenantKey: t.field({
      type: TenantKey,
      nullable: true,
      description: "The signed statement of the customer tenant's key: verify it (and the epoch you pinned) before sealing. Null for MSP users.",
    }),
    userPhones: t.field({
      type: [PasswordPhone],
      description:
        "A customer user's approved phones: seal a copy of the password to each, so the phone can hand it to a workstation at a QR login. Empty for MSP users and new users.",
    }),
  }),
});

export const FinishPasswordRegistrationPayload = builder.simpleObject("FinishPasswordRegistrationPayload", {
  fields: (t) => ({ registrationId: t.id({ description: "Give it to signUpMsp, createUser or setUserPassword." }) }),
});
