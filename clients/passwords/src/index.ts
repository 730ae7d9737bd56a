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
  tenantKeyStatement,
  verifyTenantKey,
  type TenantKeyAnswer,
  type TenantKeyCustody,
  type TenantKeyPin,
  type TenantKeyStatement,
} from "./tenant-key-statement.ts";
