// Every action an audit event records, as `<object>.<verb>`, with what it means
// for an integrator. Writing an event takes an AuditAction, so no action is
// recorded without being described here. GraphQL lists them as the enum
// AuditEventKind (`user.created` is USER_CREATED); webhooks and the file export
// carry the dotted name.
export const AUDIT_ACTIONS = {
  "session.loggedIn": "Someone signed in to the portal or the API (password, phone, or both); the target is the new session.",
  "session.logInFailed": "A password sign-in to a user's account failed: a wrong password, or a sign-in started and never finished. No one signed in, so there is no actor.",
  "session.passwordProved": "A user's password was right and the tenant asks for the phone as well: the sign-in waits for its approval (the target is that challenge).",
  "session.revoked": "A session was ended before its time, by its user or an admin.",
  "user.created": "A directory user was created.",
  "user.updated": "A user's name, email, personal email or username changed.",
  "user.invited": "A user was invited by email to link their phone.",
  "user.passwordSet": "An admin set a user's password.",
  "user.passwordChanged": "A user changed their own password.",
  "user.passwordChangeFailed": "A user's attempt to change their own password failed at the current password.",
  "user.passwordChangesRequired": "An admin asked every other user of the tenant with a password to choose a new one at their next sign-in.",
  "user.disabled": "A user was disabled: their sessions end and they cannot sign in.",
  "user.enabled": "A disabled user was enabled again.",
  "user.locked": "Too many wrong passwords from unrecognised devices locked a user's account for them.",
  "user.unlocked": "An admin lifted a user's lock.",
  "user.roleChanged": "A user's role changed.",
  "user.deleted": "A user was deleted.",
  "tenant.signedUp": "An MSP signed up, with its first admin.",
  "tenant.settingsUpdated": "The tenant's settings changed (name, sign-in rules, audit retention …).",
  "tenant.desktopSettingsUpdated": "The tenant's desktop login settings changed.",
  "tenant.brandingImageUploaded": "A branding image for the login screen was uploaded.",
  "tenant.brandingImageRemoved": "A branding image for the login screen was removed.",
  "customer.created": "An MSP created a customer tenant (recorded in the MSP's log).",
  "customer.suspended": "An MSP suspended a customer: nobody of it may sign in until it is resumed.",
  "customer.resumed": "An MSP resumed a suspended customer.",
  "customer.deleted": "An MSP deleted a customer and everything of it (recorded in the MSP's log).",
  "delegation.granted": "An MSP admin let a technician reach a customer.",
  "delegation.revoked": "An MSP admin took a technician's access to a customer away.",
  "challenge.approved": "A phone approved a QR code (a sign-in, a desktop login, an onboarding …).",
  "challenge.denied": "A phone denied a QR code.",
  "installToken.created": "An admin created an install token for the desktop agent.",
  "installToken.revoked": "An admin revoked an install token.",
  "workstation.enrolled": "A workstation's agent enrolled with an install token.",
  "workstation.enrollmentRefused": "An agent's enrollment was refused: the install token was expired, used up, revoked or of another organisation.",
  "workstation.approved": "An admin approved a waiting workstation.",
  "workstation.renamed": "A workstation was renamed.",
  "workstation.removed": "A workstation was removed: its agent can no longer sign anyone in.",
  "authenticator.enrolled": "A phone was linked to a user, approved at once or waiting for approval.",
  "authenticator.approved": "A waiting phone was approved.",
  "authenticator.keyAgreementKeyRegistered": "A phone registered the key-agreement key passwords are sealed to.",
  "authenticator.revoked": "A phone was revoked: it approves nothing any more.",
  "tenantKey.masterKeyEnabled": "The master key was turned on: only the customer's holders (admins' phones, recovery kits) hold its private key now.",
  "tenantKey.rotated": "The customer's key was rotated to a new epoch.",
  "tenantKey.recoveryKitCreated": "A recovery kit for the master key was created.",
  "tenantKey.recovered": "The master key was recovered with a recovery kit.",
  "elevation.settingsChanged": "The customer's elevated-access settings changed.",
  "elevation.workstationAccountAssigned": "A workstation was given its own local admin account for elevated access, or back the customer's shared one.",
  "elevation.requested": "A workstation asked for elevated access for a technician.",
  "elevation.approved": "A technician approved elevated access on their phone.",
  "elevation.redeemed": "The workstation redeemed the approval: the technician's session may start.",
  "elevation.breakGlassRevealed": "A workstation's break-glass password was revealed to an admin; the workstation is told to rotate it.",
  "technicianSession.started": "A technician's elevated session started on the workstation.",
  "technicianSession.ended": "A technician's elevated session was ended on the server (by an admin, the technician, or its time running out).",
  "technicianSession.terminated": "The workstation reported a technician's elevated session over.",
  "apiKey.created": "An admin created an API key.",
  "apiKey.revoked": "An admin revoked an API key.",
  "webhook.created": "A webhook was created.",
  "webhook.updated": "A webhook was changed (its address, events, or enabled again).",
  "webhook.deleted": "A webhook was deleted.",
  "webhook.redelivered": "A webhook delivery was sent again on request.",
  "webhook.disabled": "The service switched a webhook off after its deliveries kept failing.",
  "audit.exported": "The audit log was exported as a file.",
  // Written by the database's purge function (prisma/migrations), never by a service.
  "audit.purged": "Events past the tenant's retention, or of a deleted customer, were purged: the checkpoint of that purge, which has no actor.",
} as const satisfies Record<string, string>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

/** The enum value's name of an action: `user.passwordChanged` is USER_PASSWORD_CHANGED. */
export function auditEventKindName(action: string): string {
  return action
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/\./g, "_")
    .toUpperCase();
}
