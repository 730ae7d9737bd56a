// The public schema is linted as integrators' tools read it: graphql-eslint's
// schema-recommended and relay presets, with a description required on every
// type, field, argument and enum value. Two presets' defaults are narrowed, each
// for a reason:
// - strict-id-in-types: a payload, result, connection, edge or error, and the
//   value objects listed, describe something rather than being something with
//   an identity of its own; every type that is one carries `id: ID!`.
// - relay-edge-types: a list of values (permissions, address ranges, the
//   holders in a signed statement) is not a list of nodes; every list of nodes
//   is a connection, which schema/test/conventions.test.ts checks instead.
// - no-typename-prefix: `User.username` is the word Windows and every
//   directory use for the name a user signs in with.
import graphqlPlugin from "@graphql-eslint/eslint-plugin";

const VALUE_TYPES = [
  "AccountInstruction",
  "AuditChainCheck",
  "AuthenticatorCredential",
  "Branding",
  "BrandingImage",
  "BreakGlassAccount",
  "BreakGlassSealingKey",
  "ChallengeScan",
  "DesktopConfig",
  "DesktopSettings",
  "ElevatedAccessSettings",
  "ElevationInstruction",
  "ElevationScan",
  "KeyOperationHolder",
  "KeyOperationTenants",
  "KeyOperationWork",
  "MasterKeyState",
  "PageInfo",
  "PasswordDelivery",
  "PasswordDeliveryBinding",
  "PasswordPhone",
  "PhoneKeyAgreementKey",
  "RecoveryKitCopy",
  "RevealedBreakGlassPassword",
  "SealedSecret",
  "TenantKey",
  "TenantKeyLink",
  "Viewer",
  "WorkstationChange",
];

export default [
  {
    files: ["schema.graphql"],
    languageOptions: {
      parser: graphqlPlugin.parser,
      parserOptions: { graphQLConfig: { schema: "./schema.graphql" } },
    },
    plugins: { "@graphql-eslint": graphqlPlugin },
    rules: {
      ...graphqlPlugin.configs["flat/schema-recommended"].rules,
      ...graphqlPlugin.configs["flat/schema-relay"].rules,
      "@graphql-eslint/require-description": [
        "error",
        {
          types: true,
          rootField: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          EnumValueDefinition: true,
          DirectiveDefinition: true,
        },
      ],
      "@graphql-eslint/strict-id-in-types": [
        "error",
        {
          exceptions: {
            suffixes: ["Payload", "Result", "Connection", "Edge", "Error"],
            types: VALUE_TYPES,
          },
        },
      ],
      "@graphql-eslint/relay-edge-types": ["error", { listTypeCanWrapOnlyEdgeType: false }],
      "@graphql-eslint/no-typename-prefix": "off",
    },
  },
];
