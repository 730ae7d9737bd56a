// Sealing and key statements only, without OPAQUE or the password rules (their
// WebAssembly and dictionaries take a second to load): for clients that never
// register a password, such as the authenticator.
export * from "./tenant-sealing.ts";
export * from "./break-glass-sealing.ts";
export * from "./tenant-key-statement.ts";
export * from "./master-key.ts";
export * from "./recovery-kit.ts";
export * from "./phone-copies.ts";
export * from "./holder-fingerprint.ts";
