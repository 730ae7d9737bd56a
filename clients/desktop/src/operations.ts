// The GraphQL operations the desktop agent sends, written against the API's
// contract. Input objects are spelled out field by field so the documents do
// not depend on the names of generated input types. Each union selection asks
// for `... on Error { code message }`, which every error type implements, and
// for the extra fields of ValidationError / RateLimitedError / AccountLockedError
// only where the union contains them (spreading a type a union lacks is a
// validation error).

const WORKSTATION_FIELDS = /* GraphQL */ `
  fragment WorkstationFields on Workstation { id name hostname os status createdAt approvedAt canReceiveCredentials }
`;

const INSTRUCTION_FIELDS = /* GraphQL */ `
  fragment InstructionFields on AccountInstruction {
    action
    attemptId
    workstationId
    username
    fullName
    expiresAt
    passwordSource
    password { suite enc ciphertext }
    delivery { challengeId passwordVersion expiresAt }
  }
`;

const LOGIN_EVENT_FIELDS = /* GraphQL */ `
  fragment LoginEventFields on LoginEvent {
    id
    username
    workstationId
    workstationName
    method
    outcome
    reason
    accountOutcome
    accountDetail
    ip
    createdAt
  }
`;

const BRANDING_IMAGE_FIELDS = /* GraphQL */ `
  fragment BrandingImageFields on BrandingImage { url hash contentType width height }
`;

export const ENROLL_WORKSTATION = /* GraphQL */ `
  mutation EnrollWorkstation($installToken: String!, $hostname: String!, $os: String!, $publicKey: String!, $keyAgreementKey: String, $tenant: String) {
    enrollWorkstation(input: { installToken: $installToken, hostname: $hostname, os: $os, publicKey: $publicKey, keyAgreementKey: $keyAgreementKey, tenant: $tenant }) {
      __typename
      ... on WorkstationPayload { workstation { ...WorkstationFields } passwordServerPublicKey }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
  ${WORKSTATION_FIELDS}
`;

export const DESKTOP_CONFIG = /* GraphQL */ `
  query DesktopConfig {
    desktopConfig {
      workstation { ...WorkstationFields }
      tenant { id slug displayName }
      desktopLoginEnabled
      method
      passwordFallback
      branding {
        text
        background { ...BrandingImageFields }
        logo { ...BrandingImageFields }
      }
    }
  }
  ${WORKSTATION_FIELDS}
  ${BRANDING_IMAGE_FIELDS}
`;

export const START_DESKTOP_PASSWORD_LOGIN = /* GraphQL */ `
  mutation StartDesktopPasswordLogin($username: String!, $request: String!) {
    startDesktopPasswordLogin(input: { username: $username, request: $request }) {
      __typename
      ... on StartPasswordLogInPayload { loginId response ksf clientIdentity serverIdentity }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
      ... on AccountLockedError { unlocksAt }
    }
  }
`;

export const FINISH_DESKTOP_PASSWORD_LOGIN = /* GraphQL */ `
  mutation FinishDesktopPasswordLogin($loginId: ID!, $finish: String!) {
    finishDesktopPasswordLogin(input: { loginId: $loginId, finish: $finish }) {
      __typename
      ... on DesktopLoginPayload { instruction { ...InstructionFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
      ... on AccountLockedError { unlocksAt }
    }
  }
  ${INSTRUCTION_FIELDS}
`;

export const START_DESKTOP_LOGIN = /* GraphQL */ `
  mutation StartDesktopLogin {
    startLoginChallenge(input: { kind: DESKTOP_LOGIN }) {
      __typename
      ... on StartLoginChallengePayload { challenge { id kind status expiresAt } qrPayload watchToken redeemSecret }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;

export const CHALLENGE_UPDATED = /* GraphQL */ `
  subscription ChallengeUpdated($id: ID!, $watchToken: String!) {
    challengeUpdated(id: $id, watchToken: $watchToken) { id kind status expiresAt }
  }
`;

export const CHALLENGE = /* GraphQL */ `
  query Challenge($id: ID!, $watchToken: String!) {
    challenge(id: $id, watchToken: $watchToken) { id kind status expiresAt }
  }
`;

export const REDEEM_DESKTOP_LOGIN = /* GraphQL */ `
  mutation RedeemDesktopLogin($challengeId: ID!, $redeemSecret: String!) {
    redeemDesktopLogin(input: { challengeId: $challengeId, redeemSecret: $redeemSecret }) {
      __typename
      ... on DesktopLoginPayload { instruction { ...InstructionFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
      ... on AccountLockedError { unlocksAt }
    }
  }
  ${INSTRUCTION_FIELDS}
`;

export const CANCEL_CHALLENGE = /* GraphQL */ `
  mutation CancelChallenge($id: ID!, $redeemSecret: String!) {
    cancelChallenge(input: { id: $id, redeemSecret: $redeemSecret }) {
      __typename
      ... on Error { code message }
    }
  }
`;

export const REPORT_ACCOUNT_RESULT = /* GraphQL */ `
  mutation ReportAccountResult($attemptId: ID!, $outcome: AccountOutcome!, $detail: String) {
    reportAccountResult(input: { attemptId: $attemptId, outcome: $outcome, detail: $detail }) {
      __typename
      ... on ReportAccountResultPayload { loginEvent { ...LoginEventFields } }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
    }
  }
  ${LOGIN_EVENT_FIELDS}
`;

export const WORKSTATION_LOGIN_EVENTS = /* GraphQL */ `
  query WorkstationLoginEvents($first: Int) {
    agentWorkstation { loginEvents(first: $first) { edges { node { ...LoginEventFields } } } }
  }
  ${LOGIN_EVENT_FIELDS}
`;

/** Every document, by operation name, for checking them against the schema. */
export const OPERATIONS = {
  EnrollWorkstation: ENROLL_WORKSTATION,
  DesktopConfig: DESKTOP_CONFIG,
  StartDesktopPasswordLogin: START_DESKTOP_PASSWORD_LOGIN,
  FinishDesktopPasswordLogin: FINISH_DESKTOP_PASSWORD_LOGIN,
  StartDesktopLogin: START_DESKTOP_LOGIN,
  ChallengeUpdated: CHALLENGE_UPDATED,
  Challenge: CHALLENGE,
  RedeemDesktopLogin: REDEEM_DESKTOP_LOGIN,
  ReportAccountResult: REPORT_ACCOUNT_RESULT,
  WorkstationLoginEvents: WORKSTATION_LOGIN_EVENTS,
} as const;
