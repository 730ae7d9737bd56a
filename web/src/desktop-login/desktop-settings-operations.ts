import { graphql } from "@/gql";

export const CustomerDesktopSettingsQuery = graphql(`
  query CustomerDesktopSettings($id: ID!) {
    tenant(id: $id) {
      id
      displayName
      viewerCanEditSettings
      desktopSettings {
        desktopLoginEnabled
        method
        passwordFallback
        branding {
          text
          background {
            url
            hash
            width
            height
          }
          logo {
            url
            hash
            width
            height
          }
        }
      }
    }
  }
`);

export const UpdateDesktopSettingsMutation = graphql(`
  mutation UpdateDesktopSettings($input: UpdateDesktopSettingsInput!) {
    updateDesktopSettings(input: $input) {
      __typename
      ... on UpdateDesktopSettingsPayload {
        tenant {
          id
          desktopSettings {
            desktopLoginEnabled
            method
            passwordFallback
            branding {
              text
            }
          }
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
    }
  }
`);
