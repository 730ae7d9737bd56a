import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, basename } from "node:path";
import { randomBytes } from "node:crypto";
import { AuthenticatorError } from "./authenticator-error.ts";
import { DEVICE_KEY_ALGORITHMS, type DeviceKeyAlgorithm } from "./device-key.ts";
import type { TenantKeyPin } from "@latchkey/passwords/sealing";
import type { StoredKeyAgreementKey } from "./key-agreement-key.ts";

/** The tenant a device belongs to once onboarded. */
export interface AuthenticatorTenant {
  id: string;
  slug: string;
  displayName: string;
}

/** What the authenticator remembers between runs: everything in the JSON state file. */
export interface AuthenticatorState {
  version: 1;
  /** The GraphQL endpoint that issued the device token. */
  apiUrl: string;
  algorithm: DeviceKeyAlgorithm;
  /** SPKI DER, base64. */
  publicKey: string;
  /** PKCS8 DER, base64. Secret: the reason the file is 0600. */
  privateKey: string;
  /** The HPKE key secrets for this phone are sealed to; null in state files from before it existed. */
  keyAgreementKey: StoredKeyAgreementKey | null;
  /** This authenticator's id at the API, which is also the `deviceId` it signs with; null until enrolled. */
  deviceId: string | null;
  /** Bearer token for the API; secret; null until enrolled. */
  deviceToken: string | null;
  deviceName: string | null;
  email: string | null;
  userId: string | null;
  tenant: AuthenticatorTenant | null;
  /** The highest epoch of each tenant key this phone has verified: a lower one, or another key for it, is refused. */
  tenantKeyPins: TenantKeyPin[];
}

/**
 * Writes the state file readable by its owner only (0600): it holds the private
 * key and the device token. Written to a temporary file and renamed over the
 * old one, so a crash mid-write never leaves a half-written file that would
 * lose the device's key (the device token is shown by the API only once).
 */
export async function writeStateFile(path: string, state: AuthenticatorState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    // The mode given at creation is reduced by the umask, never widened; set it
    // explicitly anyway so the file is exactly 0600 whatever the umask.
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Reads and checks a state file; a missing file gives code `NO_STATE`, a damaged one `INVALID_STATE`. */
export async function readStateFile(path: string): Promise<AuthenticatorState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new AuthenticatorError("NO_STATE", `no authenticator state at ${path}; run \`authenticator enroll\` first`);
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AuthenticatorError("INVALID_STATE", `${path} is not valid JSON`);
  }
  return checkState(parsed, path);
}

function checkState(value: unknown, path: string): AuthenticatorState {
  const invalid = (why: string) => new AuthenticatorError("INVALID_STATE", `${path} is not an authenticator state file: ${why}`);
  if (typeof value !== "object" || value === null) throw invalid("not a JSON object");
  const state = value as Record<string, unknown>;
  if (state.version !== 1) throw invalid(`unsupported version ${JSON.stringify(state.version)}`);
  for (const key of ["apiUrl", "publicKey", "privateKey"] as const) {
    if (typeof state[key] !== "string" || state[key] === "") throw invalid(`${key} is missing`);
  }
  if (!DEVICE_KEY_ALGORITHMS.includes(state.algorithm as DeviceKeyAlgorithm)) throw invalid(`unknown algorithm ${JSON.stringify(state.algorithm)}`);
  for (const key of ["deviceId", "deviceToken", "deviceName", "email", "userId"] as const) {
    if (state[key] !== undefined && state[key] !== null && typeof state[key] !== "string") throw invalid(`${key} is not a string`);
  }
  const agreement = state.keyAgreementKey as Record<string, unknown> | null | undefined;
  if (agreement != null && (typeof agreement.publicKey !== "string" || typeof agreement.privateKey !== "string")) throw invalid("keyAgreementKey is malformed");
  const tenant = state.tenant as Record<string, unknown> | null | undefined;
  if (tenant != null && (typeof tenant !== "object" || typeof tenant.id !== "string")) throw invalid("tenant is malformed");
  return {
    version: 1,
    apiUrl: state.apiUrl as string,
    algorithm: state.algorithm as DeviceKeyAlgorithm,
    publicKey: state.publicKey as string,
    privateKey: state.privateKey as string,
    keyAgreementKey: agreement ? { publicKey: agreement.publicKey as string, privateKey: agreement.privateKey as string } : null,
    deviceId: (state.deviceId as string | null | undefined) ?? null,
    deviceToken: (state.deviceToken as string | null | undefined) ?? null,
    deviceName: (state.deviceName as string | null | undefined) ?? null,
    email: (state.email as string | null | undefined) ?? null,
    userId: (state.userId as string | null | undefined) ?? null,
    tenant: tenant ? { id: tenant.id as string, slug: String(tenant.slug ?? ""), displayName: String(tenant.displayName ?? "") } : null,
    tenantKeyPins: Array.isArray(state.tenantKeyPins) ? (state.tenantKeyPins as TenantKeyPin[]) : [],
  };
}
