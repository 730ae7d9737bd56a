import { graphql } from "@/gql";

export const MasterKeyQuery = graphql(`
  query MasterKey($id: ID!) {
    tenant(id: $id) {
      id
      viewerCanEditSettings
      viewerCanChooseMasterKeyHolders
      mspMayHoldMasterKey
      masterKey {
        on
        epoch
        rotationDue
        holders {
          id
          kind
          name
          admittedAt
          lastActedAt
        }
        awaitingAdmission {
          id
          name
        }
      }
    }
  }
`);

export const StartKeyOperationMutation = graphql(`
  mutation StartKeyOperation($input: StartKeyOperationInput!) {
    startKeyOperation(input: $input) {
      __typename
      ... on StartKeyOperationPayload {
        keyOperation {
          id
          status
          expiresAt
        }
        qrPayload
        watchToken
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const RequirePasswordChangesMutation = graphql(`
  mutation RequirePasswordChanges($input: RequirePasswordChangesInput!) {
    requirePasswordChanges(input: $input) {
      __typename
      ... on RequirePasswordChangesPayload {
        usersAsked
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const MspMayHoldMasterKeyMutation = graphql(`
  mutation MspMayHoldMasterKey($input: UpdateTenantSettingsInput!) {
    updateTenantSettings(input: $input) {
      __typename
      ... on UpdateTenantSettingsPayload {
        tenant {
          id
          mspMayHoldMasterKey
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);
