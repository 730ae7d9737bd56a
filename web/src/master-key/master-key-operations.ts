import { graphql } from "@/gql";

export const MasterKeyQuery = graphql(`
  query MasterKey($id: ID!) {
    tenant(id: $id) {
      id
      viewerCanEditSettings
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
