// The GraphQL operations of elevated access, as the agent sends them.

const SESSION_FIELDS = /* GraphQL */ `
  fragment ElevationSessionFields on TechnicianSession { id status accountName requestedMinutes mode endsAt endReason }
`;

export const START_ELEVATION = /* GraphQL */ `
  mutation StartElevation($mode: ElevationMode!, $minutes: Int, $sessionUser: String, $sessionRemote: Boolean, $agentVersion: String) {
    startLoginChallenge(input: { kind: ELEVATED_ACCESS, elevation: { mode: $mode, minutes: $minutes, sessionUser: $sessionUser, sessionRemote: $sessionRemote, agentVersion: $agentVersion } }) {
      __typename
      ... on StartLoginChallengePayload {
        challenge { id kind status expiresAt }
        qrPayload
        watchToken
        redeemSecret
        technicianAccountPrefix
        elevation { ...ElevationSessionFields }
      }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ... on RateLimitedError { retryAfterSeconds }
      ... on ElevationBusyError { holder endsAt sessionId }
    }
  }
  ${SESSION_FIELDS}
`;

export const REDEEM_ELEVATION = /* GraphQL */ `
  mutation RedeemElevation($challengeId: ID!, $redeemSecret: String!) {
    redeemElevation(input: { challengeId: $challengeId, redeemSecret: $redeemSecret }) {
      __typename
      ... on RedeemElevationPayload {
        instruction {
          sessionId challengeId tenantId workstationId mode accountName accountKind builtInAdministrator minutes
          technicianId technicianName deviceId deviceAlgorithm devicePublicKey signature secretHash
          passwordLength passwordCharacters restartGraceMinutes endsAt
        }
      }
      ... on Error { code message }
    }
  }
`;

export const REPORT_TECHNICIAN_SESSION = /* GraphQL */ `
  mutation ReportTechnicianSession($sessionId: ID!, $event: TechnicianSessionEvent!, $at: DateTime!, $reason: TechnicianSessionEndReason, $note: String) {
    reportTechnicianSession(input: { sessionId: $sessionId, event: $event, at: $at, reason: $reason, note: $note }) {
      __typename
      ... on ReportTechnicianSessionPayload { session { ...ElevationSessionFields } }
      ... on Error { code message }
    }
  }
  ${SESSION_FIELDS}
`;

const COMMAND_FIELDS = /* GraphQL */ `
  fragment CommandFields on WorkstationCommand { id kind sessionId reason accountName createdAt }
`;

export const PENDING_WORKSTATION_COMMANDS = /* GraphQL */ `
  query PendingWorkstationCommands {
    agentWorkstation { pendingCommands(first: 100) { pageInfo { hasNextPage } edges { node { ...CommandFields } } } }
  }
  ${COMMAND_FIELDS}
`;

export const WORKSTATION_COMMAND_ADDED = /* GraphQL */ `
  subscription WorkstationCommandAdded { workstationCommandAdded { ...CommandFields } }
  ${COMMAND_FIELDS}
`;

export const ACKNOWLEDGE_WORKSTATION_COMMAND = /* GraphQL */ `
  mutation AcknowledgeWorkstationCommand($id: ID!) {
    acknowledgeWorkstationCommand(input: { id: $id }) {
      __typename
      ... on AcknowledgeWorkstationCommandPayload { command { id acknowledgedAt } }
      ... on Error { code message }
    }
  }
`;

export const BREAK_GLASS_SEALING_KEY = /* GraphQL */ `
  query BreakGlassSealingKey {
    breakGlassSealingKey {
      __typename
      ... on BreakGlassSealingKey { tenantId workstationId publicKey tenantKey { statement signature handover history { statement signature handover } } }
      ... on Error { code message }
    }
  }
`;

export const UPLOAD_BREAK_GLASS_PASSWORD = /* GraphQL */ `
  mutation UploadBreakGlassPassword($account: String!, $rotation: Int!, $epoch: Int, $sealed: BreakGlassSealedInput!) {
    uploadBreakGlassPassword(input: { account: $account, rotation: $rotation, epoch: $epoch, sealed: $sealed }) {
      __typename
      ... on UploadBreakGlassPasswordPayload { account rotation }
      ... on Error { code message }
    }
  }
`;

export const ELEVATION_OPERATIONS = {
  BreakGlassSealingKey: BREAK_GLASS_SEALING_KEY,
  UploadBreakGlassPassword: UPLOAD_BREAK_GLASS_PASSWORD,
  StartElevation: START_ELEVATION,
  RedeemElevation: REDEEM_ELEVATION,
  ReportTechnicianSession: REPORT_TECHNICIAN_SESSION,
  PendingWorkstationCommands: PENDING_WORKSTATION_COMMANDS,
  WorkstationCommandAdded: WORKSTATION_COMMAND_ADDED,
  AcknowledgeWorkstationCommand: ACKNOWLEDGE_WORKSTATION_COMMAND,
} as const;
