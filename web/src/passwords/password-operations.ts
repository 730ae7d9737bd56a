import { graphql } from "@/gql";

// The two steps of each OPAQUE exchange. What they prove or register is then used by the
// operation the form is for: finishPasswordLogIn, signUpMsp, createUser or setUserPassword.

export const StartPasswordLogInMutation = graphql(`
  mutation StartPasswordLogIn($input: StartPasswordLogInInput!) {
    startPasswordLogIn(input: $input) {
      __typename
      ... on StartPasswordLogInPayload {
        loginId
        response
        ksf
        clientIdentity
        serverIdentity
      }
      ... on Error {
        message
        code
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

export const StartPasswordRegistrationMutation = graphql(`
  mutation StartPasswordRegistration($input: StartPasswordRegistrationInput!) {
    startPasswordRegistration(input: $input) {
      __typename
      ... on StartPasswordRegistrationPayload {
        registrationId
        response
        ksf
        userId
        serverIdentity
        passwordVersion
        tenantId
        tenantKey {
          statement
          signature
          handover
          history {
            statement
            signature
            handover
          }
        }
        userPhones {
          authenticatorId
          algorithm
          publicKey
          keyAgreementKey
          keyAgreementSignature
        }
      }
      ... on Error {
        message
        code
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
      ... on RateLimitedError {
        retryAfterSeconds
      }
    }
  }
`);

export const FinishPasswordRegistrationMutation = graphql(`
  mutation FinishPasswordRegistration($input: FinishPasswordRegistrationInput!) {
    finishPasswordRegistration(input: $input) {
      __typename
      ... on FinishPasswordRegistrationPayload {
        registrationId
      }
      ... on Error {
        message
        code
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
