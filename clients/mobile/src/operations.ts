// The GraphQL operations the authenticator sends, written against the API's
// contract. Input objects are spelled out field by field so the documents do not
// depend on the names of the generated input types. Each union selection asks
// for `... on Error { code message }`, which every error type implements, and
// for the extra fields of ValidationError / RateLimitedError only where the
// union contains them (spreading a type a union lacks is a validation error).

const AUTHENTICATOR_FIELDS = /* GraphQL */ `
  fragment AuthenticatorFields on Authenticator {
    id
    name
    algorithm
    createdAt
    lastUsedAt
    status
    user { id email }
    keyAgreementKey { publicKey registeredAt }
  }
`;

const CHALLENGE_FIELDS = /* GraphQL */ `
  fragment ChallengeFields on Challenge { id kind status expiresAt }
`;

export const REQUEST_EMAIL_VERIFICATION = /* GraphQL */ `
  mutation RequestEmailVerification($email: String!) {
    requestEmailVerification(input: { email: $email }) {
      __typename
      ... on RequestEmailVerificationPayload { sent expiresAt }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;

export const VERIFY_EMAIL = /* GraphQL */ `
  mutation VerifyEmail($email: String!, $code: String!, $publicKey: String!, $deviceName: String!, $algorithm: DeviceKeyAlgorithm) {
    verifyEmail(input: { email: $email, code: $code, publicKey: $publicKey, deviceName: $deviceName, algorithm: $algorithm }) {
      __typename
      ... on AuthenticatorCredential { deviceToken authenticator { ...AuthenticatorFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
  ${AUTHENTICATOR_FIELDS}
`;

export const SCAN_CHALLENGE = /* GraphQL */ `
  mutation ScanChallenge($qrPayload: String!) {
    scanChallenge(input: { qrPayload: $qrPayload }) {
      __typename
      ... on ChallengeScan {
        challenge { ...ChallengeFields }
        tenant { id slug displayName }
        requesterKind
        requesterName
        requesterIp
        ipMatches
        userAgent
        requesterEnrolledAt
        elevation { workstationId workstationName mode account minutes sessionUser sessionRemote }
        passwordDelivery { workstationId algorithm keyAgreementKey passwordVersion record copy { suite enc ciphertext } }
        createdAt
        expiresAt
      }
      ... on Error { code message }
    }
  }
  ${CHALLENGE_FIELDS}
`;

export const ONBOARD_DEVICE = /* GraphQL */ `
  mutation OnboardDevice($qrPayload: String!, $signature: String!) {
    onboardDevice(input: { qrPayload: $qrPayload, signature: $signature }) {
      __typename
      ... on OnboardDevicePayload { authenticator { ...AuthenticatorFields } }
      ... on Error { code message }
    }
  }
  ${AUTHENTICATOR_FIELDS}
`;

export const REDEEM_INVITATION = /* GraphQL */ `
  mutation RedeemInvitation($code: String!) {
    redeemInvitation(input: { code: $code }) {
      __typename
      ... on RedeemInvitationPayload {
        authenticator { ...AuthenticatorFields }
        tenant { id slug displayName }
      }
      ... on Error { code message }
    }
  }
  ${AUTHENTICATOR_FIELDS}
`;

export const APPROVE_CHALLENGE = /* GraphQL */ `
  mutation ApproveChallenge($id: ID!, $signature: String!, $delivery: PasswordDeliveryInput) {
    approveChallenge(input: { id: $id, signature: $signature, delivery: $delivery }) {
      __typename
      ... on DecideChallengePayload { challenge { ...ChallengeFields } }
      ... on Error { code message }
    }
  }
  ${CHALLENGE_FIELDS}
`;

export const DENY_CHALLENGE = /* GraphQL */ `
  mutation DenyChallenge($id: ID!, $signature: String!) {
    denyChallenge(input: { id: $id, signature: $signature }) {
      __typename
      ... on DecideChallengePayload { challenge { ...ChallengeFields } }
      ... on Error { code message }
    }
  }
  ${CHALLENGE_FIELDS}
`;

export const AUTHENTICATORS = /* GraphQL */ `
  query Authenticators {
    viewerAuthenticators(first: 100) { edges { node { ...AuthenticatorFields } } }
  }
  ${AUTHENTICATOR_FIELDS}
`;

export const REVOKE_AUTHENTICATOR = /* GraphQL */ `
  mutation RevokeAuthenticator($id: ID!) {
    revokeAuthenticator(input: { id: $id }) {
      __typename
      ... on RevokeAuthenticatorPayload { revokedAuthenticatorId }
      ... on Error { code message }
    }
  }
`;

export const REGISTER_KEY_AGREEMENT_KEY = /* GraphQL */ `
  mutation RegisterKeyAgreementKey($publicKey: String!, $signature: String!) {
    registerKeyAgreementKey(input: { publicKey: $publicKey, signature: $signature }) {
      __typename
      ... on RegisterKeyAgreementKeyPayload { authenticator { ...AuthenticatorFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
    }
  }
  ${AUTHENTICATOR_FIELDS}
`;

const TENANT_KEY_FIELDS = /* GraphQL */ `
  fragment TenantKeyFields on TenantKey { epoch statement signature handover history { statement signature handover } }
`;

export const KEY_OPERATION_WORK = /* GraphQL */ `
  query KeyOperationWork($id: ID!, $tenantId: ID) {
    keyOperationWork(id: $id, tenantId: $tenantId) {
      __typename
      ... on KeyOperationWork {
        keyOperation { id tenantId purpose status expiresAt }
        tenantId
        tenantKey { ...TenantKeyFields }
        holders { kind holderId name userLabel algorithm publicKey keyAgreementKey keyAgreementSignature }
        secrets { kind id version record workstationId account sealed { suite enc ciphertext }
          phonesWithoutCopy { authenticatorId algorithm publicKey keyAgreementKey keyAgreementSignature } }
        holderCopy { suite enc ciphertext }
        recoveryKitCopies { holderId keyAgreementKey sealed { suite enc ciphertext } }
        browserKey
      }
      ... on Error { code message }
    }
  }
  ${TENANT_KEY_FIELDS}
`;

export const KEY_OPERATION_TENANTS = /* GraphQL */ `
  query KeyOperationTenants($id: ID!) {
    keyOperationTenants(id: $id) {
      __typename
      ... on KeyOperationTenants { tenants { id displayName } }
      ... on Error { code message }
    }
  }
`;

export const ENABLE_MASTER_KEY = /* GraphQL */ `
  mutation EnableMasterKey($input: EnableMasterKeyInput!) {
    enableMasterKey(input: $input) {
      __typename
      ... on EnableMasterKeyPayload { tenantKey { ...TenantKeyFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
    }
  }
  ${TENANT_KEY_FIELDS}
`;

/** The mutation a phone sends its result of a new epoch with: one per purpose, one shape. */
function nextEpochDocument(name: string, field: string) {
  return /* GraphQL */ `
  mutation ${name}($input: ${name}Input!) {
    ${field}(input: $input) {
      __typename
      ... on ${name}Payload { tenantKey { ...TenantKeyFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
    }
  }
  ${TENANT_KEY_FIELDS}
`;
}

export const DELIVER_BREAK_GLASS_PASSWORD = /* GraphQL */ `
  mutation DeliverBreakGlassPassword($input: DeliverBreakGlassPasswordInput!) {
    deliverBreakGlassPassword(input: $input) {
      __typename
      ... on DeliverBreakGlassPasswordPayload { keyOperation { id status workstationId account } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
    }
  }
`;

export const ROTATE_TENANT_KEY = nextEpochDocument("RotateTenantKey", "rotateTenantKey");
export const CREATE_RECOVERY_KIT = nextEpochDocument("CreateRecoveryKit", "createRecoveryKit");
export const RECOVER_TENANT_KEY = nextEpochDocument("RecoverTenantKey", "recoverTenantKey");

/** Every document, by operation name, for checking them against the schema. */
export const OPERATIONS = {
  RequestEmailVerification: REQUEST_EMAIL_VERIFICATION,
  VerifyEmail: VERIFY_EMAIL,
  ScanChallenge: SCAN_CHALLENGE,
  OnboardDevice: ONBOARD_DEVICE,
  RedeemInvitation: REDEEM_INVITATION,
  ApproveChallenge: APPROVE_CHALLENGE,
  DenyChallenge: DENY_CHALLENGE,
  Authenticators: AUTHENTICATORS,
  RevokeAuthenticator: REVOKE_AUTHENTICATOR,
  RegisterKeyAgreementKey: REGISTER_KEY_AGREEMENT_KEY,
  KeyOperationWork: KEY_OPERATION_WORK,
  KeyOperationTenants: KEY_OPERATION_TENANTS,
  EnableMasterKey: ENABLE_MASTER_KEY,
  RotateTenantKey: ROTATE_TENANT_KEY,
  CreateRecoveryKit: CREATE_RECOVERY_KIT,
  RecoverTenantKey: RECOVER_TENANT_KEY,
  DeliverBreakGlassPassword: DELIVER_BREAK_GLASS_PASSWORD,
} as const;
