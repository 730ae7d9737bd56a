export { KSF_NAMES, KSF_PROFILES, isKsf, type Ksf } from "./ksf.ts";
export {
  PasswordClientError,
  finishLogin,
  finishRegistration,
  startLogin,
  startRegistration,
  type Identities,
} from "./opaque-client.ts";
export {
  TENANT_PASSWORD_INFO,
  TENANT_PASSWORD_PURPOSE,
  TENANT_PASSWORD_SUITE,
  generateTenantKeyPair,
  openFromTenant,
  sealToTenant,
  tenantPasswordAssociatedData,
  type SealedPasswordBinding,
  type SealedSecret,
} from "./tenant-sealing.ts";
export {
  FINISH_PASSWORD_REGISTRATION,
  INCORRECT_LOGIN,
  PasswordFlowError,
  START_PASSWORD_LOG_IN,
  START_PASSWORD_REGISTRATION,
  answerLogin,
  logInWithPassword,
  proveLogin,
  registerPassword,
  sealForTenant,
  type LoginStart,
  type Registration,
  type RegistrationToSeal,
  type RunOperation,
  type TenantKeyPins,
} from "./password-flows.ts";
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblem } from "./password-rules.ts";
export {
  BREAK_GLASS_INFO,
  BREAK_GLASS_PURPOSE,
  breakGlassAssociatedData,
  openBreakGlass,
  sealBreakGlass,
  type BreakGlassBinding,
} from "./break-glass-sealing.ts";
export {
  TENANT_KEY_PURPOSE,
  TenantKeyRefused,
  parseTenantKeyStatement,
  tenantKeyStatement,
  verifyTenantKey,
  type TenantKeyAnswer,
  type SignedTenantKeyStatement,
  type TenantKeyCustody,
  type TenantKeyHolderEntry,
  type TenantKeyPin,
  type TenantKeyStatement,
} from "./tenant-key-statement.ts";
export {
  HOLDER_COPY_INFO,
  KEY_USE_PURPOSE,
  OPERATION_SECRET_INFO,
  generateTenantKey,
  keyUseEvidence,
  openAsHolder,
  openForOperation,
  openWithKey,
  sealForOperation,
  sealToKey,
  signWithTenantKey,
  wrapForHolder,
  type HolderBinding,
  type KeyUse,
  type OperationSecretBinding,
  type TenantKeyMaterial,
} from "./master-key.ts";
export { RECOVERY_KIT_INFO, RecoveryCodeError, newRecoveryCode, parseRecoveryCode, recoveryKitKey } from "./recovery-kit.ts";
