// Why a desktop login failed, as a login event records it, with what it means
// for an integrator: the GraphQL enum LoginFailureReason. Recording a failure
// takes a LoginFailureReason, so none is stored without being described here.
export const LOGIN_FAILURE_REASONS = {
  WRONG_PASSWORD: "The password was wrong for an existing user.",
  UNKNOWN_USER: "No user of the tenant has the username (or email) typed.",
  NO_PASSWORD: "The user has no password yet.",
  INVALID_CREDENTIALS:
    "WRONG_PASSWORD, UNKNOWN_USER or NO_PASSWORD as a workstation reads its own history: it learns no more than the person at its keyboard was told. Never stored.",
  ACCOUNT_DISABLED: "The user is disabled.",
  ACCOUNT_LOCKED: "Too many wrong passwords from unrecognised devices locked the account for them.",
  RATE_LIMITED: "Too many attempts from this workstation or at this account.",
  DENIED: "The user denied the QR login on their phone.",
  TENANT_SUSPENDED: "The organisation is suspended by its MSP.",
  WORKSTATION_PENDING: "The workstation waits for an administrator's approval.",
  DESKTOP_LOGIN_DISABLED: "Desktop login is switched off for the organisation.",
  PASSWORD_LOGIN_NOT_ALLOWED: "A password login, where the organisation allows only sign-in with the phone.",
  PASSWORDLESS_LOGIN_NOT_ALLOWED: "A QR login, where the organisation allows only the password.",
  NO_KEY_AGREEMENT_KEY: "The workstation has no key-agreement key, so no password could be sealed to it.",
  PASSWORD_NOT_AVAILABLE: "A QR login where no copy of the user's password could be handed to the workstation: the user signs in once with the password first.",
} as const satisfies Record<string, string>;

export type LoginFailureReason = keyof typeof LOGIN_FAILURE_REASONS;
