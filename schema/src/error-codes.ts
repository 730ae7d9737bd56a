// Every code a client can meet, as `Error.code` in a result union or as
// `errors[].extensions.code`, with what it means for an integrator. The schema
// exposes it as `enum ErrorCode`; AppError and the API's transport take an
// ErrorCode, so no code reaches a client without being described here.
export const ERROR_CODES = {
  // Expected failures: an `Error` type in a result union, or, where no union can
  // carry one (a query, a subscription), a GraphQL error with the same code.
  VALIDATION: "Some of the input was refused: `ValidationError.fields` names each input field and why. Correct the input and send it again.",
  NOT_FOUND: "No such object, or one the viewer may not reach: the two are answered alike, so an id of another tenant reveals nothing.",
  CONFLICT:
    "The request clashes with what is already there: a name another object has taken (`ConflictError.field` names the input field), something already done, or a change made at the same time.",
  UNAUTHENTICATED:
    "No valid session, API key or device credential came with the request (sign in first), or the proof a sign-in step needs was wrong, expired or already used.",
  FORBIDDEN: "Not allowed for this viewer, or for an API key without the permission the operation needs.",
  TENANT_SUSPENDED: "The organisation is suspended by its MSP, which keeps its data but lets nobody sign in (portal or desktop) until it is resumed.",
  PHONE_REQUIRED:
    "The tenant's sign-in requires a phone as well as the password, and the user has no approved phone: the password alone opens nothing. Told only once the password proved.",
  PHONE_APPROVAL_REQUIRED:
    "The password proved and the tenant requires the phone as well: no session yet. `PhoneApprovalRequiredError` carries the QR code to show and the secrets to watch and redeem the approval.",
  RATE_LIMITED:
    "Too many attempts from this client or at this account (`RateLimitedError.retryAfterSeconds`), or, as a request error, the credential's hourly cost budget is spent (HTTP 429, `extensions.retryAfterSeconds`). Try again after that many seconds.",
  INVALID_CREDENTIALS: "At a desktop login: a wrong password or no such user; the two are never told apart.",
  ACCOUNT_DISABLED: "At a desktop login: the user is disabled. Told only once the password (or the phone) proved who they are, as Windows does.",
  ACCOUNT_LOCKED:
    "Too many wrong passwords from unrecognised devices locked the account for them until `AccountLockedError.unlocksAt` (or an admin unlocks it). Devices the user signed in on before, and sign-in with the phone, still work.",
  DESKTOP_LOGIN_DISABLED: "Desktop login is switched off for this organisation.",
  PASSWORD_LOGIN_NOT_ALLOWED: "A desktop login with the password, where the organisation allows only sign-in with the phone.",
  PASSWORDLESS_LOGIN_NOT_ALLOWED: "A desktop login with the phone, where the organisation allows only the password.",
  WORKSTATION_PENDING: "The workstation waits for an administrator's approval: it may not sign anyone in or start elevated access until then.",
  NO_KEY_AGREEMENT_KEY: "The workstation enrolled without a key-agreement key, so no password can be sealed to it: re-enroll it with one.",
  PASSWORD_NOT_AVAILABLE:
    "A desktop login with the phone, where no copy of the user's password can be handed to the workstation: the user signs in once with the password first.",
  INSTALL_TOKEN_INVALID: "No install token has this secret.",
  INSTALL_TOKEN_EXPIRED: "The install token has expired; an admin creates a new one.",
  INSTALL_TOKEN_USED_UP: "The install token has enrolled as many workstations as it allows.",
  INSTALL_TOKEN_REVOKED: "The install token was revoked.",
  INSTALL_TOKEN_WRONG_TENANT: "The install token belongs to another organisation than the one the agent was set up for (`EnrollWorkstationInput.tenant`).",
  ELEVATION_BUSY: "Another technician holds this workstation's elevated account: `ElevationBusyError` says who and until when.",
  ELEVATION_NOT_CONFIGURED: "Elevated access is not configured for this organisation: an admin chooses its shared local admin account first.",
  AGENT_OUTDATED: "The workstation's agent is older than the organisation requires for elevated access (`minimumAgentVersion`); update it.",
  MINUTES_NOT_ALLOWED: "The elevated session asked for is longer than the organisation allows (`maxSessionMinutes`).",

  // Request errors: the operation was refused as a whole, before any of it ran
  // (or, for INTERNAL_SERVER_ERROR, something failed that nobody expected). Only
  // in `errors[].extensions.code`, never in a result union.
  BAD_REQUEST:
    "The request itself is malformed: an unreadable body or multipart request, no operation or hash of a registered one, an operation name the document does not hold (WebSocket), or a mutation sent with GET (HTTP 405).",
  OPERATION_RESOLUTION_FAILURE: "Over HTTP, the operation to run cannot be told: the document holds none of the given `operationName`, or several and no name was given.",
  GRAPHQL_PARSE_FAILED: "The operation's text is not valid GraphQL (HTTP 400).",
  GRAPHQL_VALIDATION_FAILED: "The operation does not fit the schema: an unknown field or type, a missing or mistyped argument … (HTTP 400).",
  DEPTH_LIMIT_EXCEEDED: "The operation nests its selections deeper than the API allows; the message gives the limit (HTTP 400).",
  ALIAS_LIMIT_EXCEEDED: "The operation uses more aliases than the API allows; the message gives the limit (HTTP 400).",
  DIRECTIVE_LIMIT_EXCEEDED: "The operation uses more directives than the API allows; the message gives the limit (HTTP 400).",
  TOKEN_LIMIT_EXCEEDED: "The operation's text holds more tokens than the API parses; the message gives the limit (HTTP 400).",
  COST_LIMIT_EXCEEDED:
    "The operation would cost more than one operation may (page sizes multiply what is selected under them; the message gives its cost and the limit): ask for smaller pages and page on with the cursors (HTTP 400).",
  PERSISTED_QUERY_NOT_FOUND: "The hash sent (`extensions.persistedQuery.sha256Hash`) is not one of the portal's registered operations.",
  PERSISTED_QUERY_ONLY: "A portal session (the session cookie) runs only the portal's registered operations: send your own with an API key instead.",
  REQUEST_TOO_LARGE: "The request body is larger than the API accepts (HTTP 413); the connection is closed.",
  TOO_MANY_SUBSCRIPTIONS: "Too many subscriptions over HTTP (server-sent events) open at once for this credential, or this client address without one: end one first (HTTP 429).",
  TOO_MANY_OPERATIONS: "Too many operations at once on this WebSocket: end a subscription first. The socket stays open.",
  UNAVAILABLE:
    "The API cannot reach its database just now (it is down, restarting or out of connections); nothing else is wrong with the request. Send it again in a few seconds. A write answered so was not made, or, if the connection dropped as it committed, made whole, never in part: before repeating a create, look it up or be ready for CONFLICT.",
  INTERNAL_SERVER_ERROR: "Something failed that nobody expected; the message says no more. It is logged on the server under the response's request id.",
} as const satisfies Record<string, string>;

/** A code a client can meet: a value of the schema's `ErrorCode` enum. */
export type ErrorCode = keyof typeof ERROR_CODES;
