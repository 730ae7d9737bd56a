export { DesktopAgent, DEFAULT_API_URL } from "./desktop-agent.ts";
export type {
  ChallengeStatus,
  CreateDesktopAgentOptions,
  DesktopConfigResult,
  LoginEventRecord,
  LocalLoginResult,
  LoginResult,
  QrLoginHooks,
  WorkstationRecord,
} from "./desktop-agent.ts";
export { AgentError, type FieldProblem } from "./agent-error.ts";
export {
  ACCOUNT_INSTRUCTION_INFO,
  HPKE_SUITE_NAMES,
  accountAssociatedData,
  openAccountInstruction,
  openPhoneDelivery,
  type AccountInstruction,
  type SealedSecret,
} from "./account-instruction.ts";
export {
  brandingCacheDir,
  readStateFile,
  writeStateFile,
  type AgentConfig,
  type AgentState,
  type AgentTenant,
  type EnrolledWorkstation,
  type PendingReport,
} from "./agent-state.ts";
export { syncBranding, type Branding, type BrandingImage, type CachedBranding } from "./branding.ts";
export {
  ADMINISTRATORS_GROUP,
  DEFAULT_PASSWORD_POLICY,
  RESERVED_ACCOUNT_NAMES,
  addLocalAccount,
  decideAccount,
  defaultLocalAccountStore,
  ensureLocalAccount,
  findLocalAccount,
  hashLocalPassword,
  invalidAccountName,
  isReservedAccountName,
  passwordPolicyViolation,
  verifyLocalPassword,
  type AccountDecision,
  type AccountOutcome,
  type LocalAccount,
  type LocalAccountStore,
  type PasswordPolicy,
} from "./local-accounts.ts";
export { OPERATIONS } from "./operations.ts";
export { renderQrCode } from "./qr-code.ts";
export { CREDENTIAL_AUDIENCE, CREDENTIAL_LIFETIME_SECONDS, mintWorkstationCredential } from "./workstation-credential.ts";
export {
  KEY_FAMILIES,
  generateWorkstationKeys,
  keyAgreementPrivateKey,
  signingPrivateKey,
  type KeyAgreementAlgorithm,
  type KeyFamily,
  type SigningAlgorithm,
  type StoredKeyPair,
} from "./workstation-keys.ts";
export { AGENT_VERSION, ElevationAgent, elevationSigningBytes, verifyElevationInstruction, type ElevationExpectation, type ElevationInstruction } from "./elevation-agent.ts";
export { ELEVATION_OPERATIONS } from "./elevation-operations.ts";
export { generateAccountPassword, ensureElevationAccount, type ElevationState, type LocalTechnicianSession, type LogonSession } from "./elevation-state.ts";
