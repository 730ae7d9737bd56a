import { graphql } from "@/gql";

export const ElevatedAccessQuery = graphql(`
  query ElevatedAccess($tenantId: ID!, $first: Int!) {
    tenant(id: $tenantId) {
      id
      masterKey {
        on
      }
      elevatedAccess {
        configured
        sharedAccountName
        technicianAccountPrefix
        manageBuiltInAdministrator
        maxSessionMinutes
        passwordLength
        passwordCharacters
        restartAfterSession
        restartGraceMinutes
        minimumAgentVersion
        accounts {
          id
          kind
          name
          number
          workstationCount
        }
      }
    }
    workstations(tenantId: $tenantId, first: $first) {
      edges {
        node {
          id
          name
          hasOwnElevationAccount
          elevationAccount {
            id
            name
          }
          breakGlassAccounts {
            account
            rotation
            storedAt
          }
        }
      }
    }
  }
`);

export const UpdateElevatedAccessSettingsMutation = graphql(`
  mutation UpdateElevatedAccessSettings($input: UpdateElevatedAccessSettingsInput!) {
    updateElevatedAccessSettings(input: $input) {
      __typename
      ... on UpdateElevatedAccessSettingsPayload {
        tenant {
          id
          elevatedAccess {
            configured
            sharedAccountName
            technicianAccountPrefix
            manageBuiltInAdministrator
            maxSessionMinutes
            restartAfterSession
            restartGraceMinutes
          }
        }
      }
      ... on Error {
        message
        code
      }
      ... on ConflictError {
        field
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
    }
  }
`);

export const AssignWorkstationAccountMutation = graphql(`
  mutation AssignWorkstationAccount($input: AssignWorkstationAccountInput!) {
    assignWorkstationAccount(input: $input) {
      __typename
      ... on AssignWorkstationAccountPayload {
        workstation {
          id
          hasOwnElevationAccount
          elevationAccount {
            id
            name
          }
        }
      }
      ... on Error {
        message
        code
      }
      ... on ConflictError {
        field
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
    }
  }
`);

export const TechnicianSessionFields = graphql(`
  fragment TechnicianSessionFields on TechnicianSession {
    id
    status
    active
    customer {
      id
      displayName
    }
    workstationId
    workstationName
    mode
    accountName
    requestedMinutes
    actualSeconds
    technicianId
    sessionUser
    sessionRemote
    technicianName
    createdAt
    startedAt
    endsAt
    endedAt
    endReason
    endedByName
    endNote
  }
`);

export const TechnicianSessionsQuery = graphql(`
  query TechnicianSessions($tenantId: ID!, $active: Boolean, $first: Int!, $workstationId: ID, $technicianId: ID) {
    technicianSessions(tenantId: $tenantId, active: $active, first: $first, workstationId: $workstationId, technicianId: $technicianId) {
      totalCount
      edges {
        node {
          ...TechnicianSessionFields
        }
      }
    }
  }
`);

export const TechnicianSessionChangedSubscription = graphql(`
  subscription TechnicianSessionChanged($tenantId: ID!) {
    technicianSessionChanged(tenantId: $tenantId) {
      ...TechnicianSessionFields
    }
  }
`);

export const EndTechnicianSessionMutation = graphql(`
  mutation EndTechnicianSession($input: EndTechnicianSessionInput!) {
    endTechnicianSession(input: $input) {
      __typename
      ... on EndTechnicianSessionPayload {
        session {
          ...TechnicianSessionFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const StartBreakGlassRevealMutation = graphql(`
  mutation StartBreakGlassReveal($input: StartBreakGlassRevealInput!) {
    startBreakGlassReveal(input: $input) {
      __typename
      ... on StartBreakGlassRevealPayload {
        challenge {
          id
          status
          expiresAt
        }
        qrPayload
        watchToken
        redeemSecret
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const RevealBreakGlassPasswordMutation = graphql(`
  mutation RevealBreakGlassPassword($input: RevealBreakGlassPasswordInput!) {
    revealBreakGlassPassword(input: $input) {
      __typename
      ... on RevealBreakGlassPasswordPayload {
        account
        rotation
        password
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const RevealedPasswordQuery = graphql(`
  query RevealedPassword($id: ID!, $watchToken: String!) {
    keyOperation(id: $id, watchToken: $watchToken) {
      id
      status
      workstationId
      account
      revealedPassword {
        rotation
        sealed {
          suite
          enc
          ciphertext
        }
      }
    }
  }
`);
