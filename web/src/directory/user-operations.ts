import { graphql } from "@/gql";

// The directory's writes, shared by a customer's users and the MSP's team.

export const DirectoryUserFields = graphql(`
  fragment DirectoryUserFields on User {
    id
    firstName
    lastName
    username
    email
    personalEmail
    role
    status
    hasPassword
    mustChangePassword
    locked
    lockedAt
    lockedUntil
    # A person links a handful of phones: ten are shown, all are counted.
    linkedAuthenticators(first: 10) {
      totalCount
      edges {
        node {
          id
          name
          createdAt
          status
          viewerCanApprove
        }
      }
    }
    viewerCanManage
  }
`);

export const CreateUserMutation = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ... on CreateUserPayload {
        user {
          ...DirectoryUserFields
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
      ... on ConflictError {
        field
      }
    }
  }
`);

export const UpdateUserMutation = graphql(`
  mutation UpdateUser($input: UpdateUserInput!) {
    updateUser(input: $input) {
      __typename
      ... on UpdateUserPayload {
        user {
          ...DirectoryUserFields
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
      ... on ConflictError {
        field
      }
    }
  }
`);

export const SetUserPasswordMutation = graphql(`
  mutation SetUserPassword($input: SetUserPasswordInput!) {
    setUserPassword(input: $input) {
      __typename
      ... on SetUserPasswordPayload {
        user {
          ...DirectoryUserFields
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
      ... on ConflictError {
        field
      }
    }
  }
`);

export const SetUserRoleMutation = graphql(`
  mutation SetUserRole($input: SetUserRoleInput!) {
    setUserRole(input: $input) {
      __typename
      ... on SetUserRolePayload {
        user {
          ...DirectoryUserFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const DisableUserMutation = graphql(`
  mutation DisableUser($input: DisableUserInput!) {
    disableUser(input: $input) {
      __typename
      ... on DisableUserPayload {
        user {
          ...DirectoryUserFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const EnableUserMutation = graphql(`
  mutation EnableUser($input: EnableUserInput!) {
    enableUser(input: $input) {
      __typename
      ... on EnableUserPayload {
        user {
          ...DirectoryUserFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const DeleteUserMutation = graphql(`
  mutation DeleteUser($input: DeleteUserInput!) {
    deleteUser(input: $input) {
      __typename
      ... on DeleteUserPayload {
        deletedUserId
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const UnlockUserMutation = graphql(`
  mutation UnlockUser($input: UnlockUserInput!) {
    unlockUser(input: $input) {
      __typename
      ... on UnlockUserPayload {
        user {
          ...DirectoryUserFields
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

export const InviteUserMutation = graphql(`
  mutation InviteUser($input: InviteUserInput!) {
    inviteUser(input: $input) {
      __typename
      ... on InviteUserPayload {
        expiresAt
      }
      ... on Error {
        message
        code
      }
    }
  }
`);
