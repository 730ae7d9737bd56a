import { AuthenticatorError } from "./authenticator-error.ts";

/** The API's `DeviceKeyAlgorithm` enum. */
export type DeviceKeyAlgorithm = "P256" | "ED25519";

export const DEVICE_KEY_ALGORITHMS: readonly DeviceKeyAlgorithm[] = ["P256", "ED25519"];

// WebCrypto parameters per algorithm. ECDSA's signature is IEEE P1363 (r || s),
// which is what the server asks node:crypto to verify (dsaEncoding "ieee-p1363").
const KEY_PARAMS = {
  P256: { name: "ECDSA", namedCurve: "P-256" } as EcKeyImportParams,
  ED25519: { name: "Ed25519" } as Algorithm,
} as const;
const SIGN_PARAMS = {
  P256: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
  ED25519: { name: "Ed25519" } as Algorithm,
} as const;

/**
 * The device's signing key. The private key never leaves the device: only the
 * public key (SPKI DER, base64) is sent to the API, at enrollment.
 */
export class DeviceKey {
  private constructor(
    readonly algorithm: DeviceKeyAlgorithm,
    private readonly privateKey: CryptoKey,
    /** SPKI DER, base64: the `publicKey` sent to `verifyEmail`. */
    readonly publicKey: string,
    /** PKCS8 DER, base64: kept only in the state file. */
    readonly privateKeyPkcs8: string,
  ) {}

  static async generate(algorithm: DeviceKeyAlgorithm = "P256"): Promise<DeviceKey> {
    assertAlgorithm(algorithm);
    // Extractable, because the reference authenticator keeps its key in a state
    // file; a real phone would keep it non-extractable in its keystore.
    const pair = (await crypto.subtle.generateKey(KEY_PARAMS[algorithm], true, ["sign", "verify"])) as CryptoKeyPair;
    const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", pair.privateKey);
    return new DeviceKey(algorithm, pair.privateKey, Buffer.from(spki).toString("base64"), Buffer.from(pkcs8).toString("base64"));
  }

  /** Rebuilds the key from a state file's fields. */
  static async import(algorithm: DeviceKeyAlgorithm, privateKeyPkcs8: string, publicKey: string): Promise<DeviceKey> {
    assertAlgorithm(algorithm);
    let privateKey: CryptoKey;
    try {
      privateKey = await crypto.subtle.importKey("pkcs8", Buffer.from(privateKeyPkcs8, "base64"), KEY_PARAMS[algorithm], true, ["sign"]);
    } catch (cause) {
      throw new AuthenticatorError("INVALID_STATE", `the state file's private key is not a valid ${algorithm} PKCS8 key`, { cause });
    }
    return new DeviceKey(algorithm, privateKey, publicKey, privateKeyPkcs8);
  }

  /** Signs `data`; returns the signature as base64url without padding, as the API expects. */
  async sign(data: Uint8Array<ArrayBuffer>): Promise<string> {
    const signature = await crypto.subtle.sign(SIGN_PARAMS[this.algorithm], this.privateKey, data);
    return Buffer.from(signature).toString("base64url");
  }
}

function assertAlgorithm(algorithm: string): asserts algorithm is DeviceKeyAlgorithm {
  if (!DEVICE_KEY_ALGORITHMS.includes(algorithm as DeviceKeyAlgorithm)) {
    throw new AuthenticatorError("INVALID_ALGORITHM", `unknown key algorithm "${algorithm}"; use ${DEVICE_KEY_ALGORITHMS.join(" or ")}`);
  }
}
