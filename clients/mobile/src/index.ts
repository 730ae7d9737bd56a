export { Authenticator, DEFAULT_API_URL } from "./authenticator.ts";
export type { AuthenticatorRecord, AuthenticatorStatus, Challenge, ChallengeKind, ChallengeScan, ChallengeStatus, CreateAuthenticatorOptions } from "./authenticator.ts";
export { AuthenticatorError, type FieldProblem } from "./authenticator-error.ts";
export { readStateFile, writeStateFile, type AuthenticatorState, type AuthenticatorTenant } from "./authenticator-state.ts";
export { CHALLENGE_DECISIONS, CHALLENGE_SIGNING_CONTEXT, challengeSigningBytes, type ChallengeDecision, type ChallengeSigningInput } from "./challenge-signature.ts";
export { DEVICE_KEY_ALGORITHMS, DeviceKey, type DeviceKeyAlgorithm } from "./device-key.ts";
export { OPERATIONS } from "./operations.ts";
export { parseQrPayload, QR_PAYLOAD_PREFIX, type QrPayload } from "./qr-payload.ts";
export { describeScan } from "./scan-description.ts";
