// A workstation's two key pairs, as the protocol describes them, written from
// the specification (not from the reference agent), so the server is checked
// against the protocol itself: a JWT minted with the signing key, and the HPKE
// box of an account instruction opened with the key-agreement key.
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { SignJWT } from "jose";

export type Instruction = {
  attemptId: string;
  workstationId: string;
  username: string;
  expiresAt: string;
  password: { suite: string; enc: string; ciphertext: string };
};

export class WorkstationKeys {
  workstationId = "";

  private constructor(
    readonly kind: "ed25519" | "p256",
    private readonly signing: { publicKey: KeyObject; privateKey: KeyObject },
    private readonly agreement: { publicKey: KeyObject; privateKey: KeyObject },
  ) {}

  static generate(kind: "ed25519" | "p256" = "ed25519") {
    const signing = kind === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
    const agreement = kind === "ed25519" ? generateKeyPairSync("x25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
    return new WorkstationKeys(kind, signing, agreement);
  }

  get publicKey() {
    return this.signing.publicKey.export({ format: "der", type: "spki" }).toString("base64");
  }

  get keyAgreementKey() {
    return this.agreement.publicKey.export({ format: "der", type: "spki" }).toString("base64");
  }

  /** A fresh credential: iss = sub = workstation id, aud latchkey, two minutes. */
  credential(options: { lifetimeSeconds?: number; subject?: string } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: this.kind === "ed25519" ? "EdDSA" : "ES256", typ: "JWT" })
      .setIssuer(options.subject ?? this.workstationId)
      .setSubject(options.subject ?? this.workstationId)
      .setAudience("latchkey")
      .setIssuedAt(now)
      .setExpirationTime(now + (options.lifetimeSeconds ?? 120))
      .setJti(randomBytes(16).toString("base64url"))
      .sign(this.signing.privateKey);
  }

  /** The key-agreement private key, as WebCrypto holds it. */
  recipientKey() {
    const pkcs8 = this.agreement.privateKey.export({ format: "der", type: "pkcs8" });
    return crypto.subtle.importKey("pkcs8", new Uint8Array(pkcs8), this.kind === "ed25519" ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  }

  /** Opens an instruction's password with this workstation's key and the given binding. */
  async open(instruction: Instruction, binding: { workstationId?: string; attemptId?: string; expiresAt?: string } = {}) {
    const kem = this.kind === "ed25519" ? new DhkemX25519HkdfSha256() : new DhkemP256HkdfSha256();
    const suite = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const pkcs8 = this.agreement.privateKey.export({ format: "der", type: "pkcs8" });
    const recipientKey = await crypto.subtle.importKey(
      "pkcs8",
      new Uint8Array(pkcs8),
      this.kind === "ed25519" ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" },
      true,
      ["deriveBits"],
    );
    const aad = [
      "latchkey-account-v1",
      binding.workstationId ?? instruction.workstationId,
      binding.attemptId ?? instruction.attemptId,
      binding.expiresAt ?? instruction.expiresAt,
    ].join("|");
    const recipient = await suite.createRecipientContext({
      recipientKey,
      enc: new Uint8Array(Buffer.from(instruction.password.enc, "base64url")),
      info: new TextEncoder().encode("latchkey account instruction v1"),
    });
    const plaintext = await recipient.open(
      new Uint8Array(Buffer.from(instruction.password.ciphertext, "base64url")),
      new TextEncoder().encode(aad),
    );
    return new TextDecoder().decode(plaintext);
  }
}
