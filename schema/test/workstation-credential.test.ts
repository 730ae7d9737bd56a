// The workstation credential as the API checks it: a JWT the agent signs with
// its own enrolled key. Tokens here are minted with `jose`, as the agent does,
// and then bent one claim at a time to show each check refuses.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { base64url, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  looksLikeWorkstationCredential,
  parseKeyAgreementKey,
  parseSigningKey,
  verifyWorkstationCredential,
  type SigningAlgorithm,
  type WorkstationSigningKey,
} from "../src/security/workstation-credential.ts";

type Workstation = { id: string; algorithm: SigningAlgorithm; privateKey: KeyObject; row: WorkstationSigningKey };

function enrolled(algorithm: SigningAlgorithm): Workstation {
  const { publicKey, privateKey } = algorithm === "ED25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signingPublicKey = publicKey.export({ format: "der", type: "spki" }).toString("base64");
  return { id: randomUUID(), algorithm, privateKey, row: { signingAlgorithm: algorithm, signingPublicKey } };
}

/** A lookup over the given workstations, recording which ids it was asked for. */
function directory(...workstations: Workstation[]) {
  const asked: string[] = [];
  const lookup = async (id: string) => {
    asked.push(id);
    return workstations.find((workstation) => workstation.id === id)?.row ?? null;
  };
  return { lookup, asked };
}

const now = () => Math.floor(Date.now() / 1000);

type Mint = { iat?: number; exp?: number; aud?: string; sub?: string; iss?: string; alg?: string; key?: KeyObject; jti?: string | null };

function mint(workstation: Workstation, options: Mint = {}) {
  const iat = options.iat ?? now();
  const claims: Record<string, unknown> = {};
  if (options.jti !== null) claims.jti = options.jti ?? randomBytes(16).toString("base64url");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? (workstation.algorithm === "ED25519" ? "EdDSA" : "ES256"), typ: "JWT" })
    .setIssuer(options.iss ?? workstation.id)
    .setSubject(options.sub ?? workstation.id)
    .setAudience(options.aud ?? "latchkey")
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 120)
    .sign(options.key ?? workstation.privateKey);
}

/** Replaces a token's claims without re-signing, as someone without the key would. */
function withClaims(token: string, change: (claims: Record<string, unknown>) => void) {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8"));
  change(claims);
  return [header, base64url.encode(JSON.stringify(claims)), signature].join(".");
}

describe("verifyWorkstationCredential", () => {
  it.each(["ED25519", "P256"] as const)("accepts a fresh %s credential and returns its workstation", async (algorithm) => {
    const workstation = enrolled(algorithm);
    const { lookup, asked } = directory(workstation);
    expect(await verifyWorkstationCredential(await mint(workstation), lookup)).toMatchObject({ workstationId: workstation.id });
    expect(asked).toEqual([workstation.id]);
  });

  it("accepts a credential that expired within the 60 s clock tolerance", async () => {
    const workstation = enrolled("ED25519");
    const token = await mint(workstation, { iat: now() - 150, exp: now() - 30 });
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toMatchObject({ workstationId: workstation.id });
  });

  it("refuses a credential signed by another key", async () => {
    const workstation = enrolled("ED25519");
    const stranger = enrolled("ED25519");
    const token = await mint(workstation, { key: stranger.privateKey });
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toBeNull();
  });

  it("refuses an expired credential", async () => {
    const workstation = enrolled("P256");
    const token = await mint(workstation, { iat: now() - 400, exp: now() - 100 });
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toBeNull();
  });

  it("refuses a credential that gives itself more than 300 s", async () => {
    const workstation = enrolled("ED25519");
    const { lookup } = directory(workstation);
    const iat = now() - 100;
    expect(await verifyWorkstationCredential(await mint(workstation, { iat, exp: iat + 300 }), lookup)).not.toBeNull();
    expect(await verifyWorkstationCredential(await mint(workstation, { iat, exp: iat + 301 }), lookup)).toBeNull();
    expect(await verifyWorkstationCredential(await mint(workstation, { exp: now() + 86_400 }), lookup)).toBeNull();
  });

  it("is accepted for 300 s of the server's own time at most, whatever clock its agent keeps", async () => {
    const workstation = enrolled("ED25519");
    const { lookup } = directory(workstation);
    // An agent whose clock runs a minute ahead signs iat and exp a minute late.
    const iat = now() + 60;
    const exp = iat + 300;
    const token = await mint(workstation, { iat, exp, jti: "window" });
    const at = (serverSeconds: number) => verifyWorkstationCredential(token, lookup, serverSeconds);
    expect(await at(exp - 241)).toBeNull();
    expect(await at(exp - 240)).toEqual({ workstationId: workstation.id, jti: "window", exp });
    expect(await at(exp + 59)).not.toBeNull();
    expect(await at(exp + 60)).toBeNull();
  });

  it("refuses an overlong jti", async () => {
    const workstation = enrolled("ED25519");
    expect(await verifyWorkstationCredential(await mint(workstation, { jti: "j".repeat(65) }), directory(workstation).lookup)).toBeNull();
  });

  it("refuses a credential issued in the future, which would stretch its life", async () => {
    const workstation = enrolled("ED25519");
    const token = await mint(workstation, { iat: now() + 600, exp: now() + 800 });
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toBeNull();
  });

  it("refuses another audience, and an issuer that is not the subject", async () => {
    const workstation = enrolled("ED25519");
    const { lookup } = directory(workstation);
    expect(await verifyWorkstationCredential(await mint(workstation, { aud: "latchkey-portal" }), lookup)).toBeNull();
    expect(await verifyWorkstationCredential(await mint(workstation, { iss: randomUUID() }), lookup)).toBeNull();
  });

  it("refuses a credential without a jti", async () => {
    const workstation = enrolled("ED25519");
    expect(await verifyWorkstationCredential(await mint(workstation, { jti: null }), directory(workstation).lookup)).toBeNull();
  });

  it("refuses alg none, without asking for the workstation", async () => {
    const workstation = enrolled("ED25519");
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const claims = base64url.encode(JSON.stringify({ iss: workstation.id, sub: workstation.id, aud: "latchkey", iat: now(), exp: now() + 60, jti: "x" }));
    const { lookup, asked } = directory(workstation);
    for (const token of [`${header}.${claims}.`, `${header}.${claims}.AAAA`]) {
      expect(looksLikeWorkstationCredential(token)).toBe(false);
      expect(await verifyWorkstationCredential(token, lookup)).toBeNull();
    }
    expect(asked).toEqual([]);
  });

  it("refuses HS256 signed with the public key as the secret", async () => {
    const workstation = enrolled("ED25519");
    const secret = Buffer.from(workstation.row.signingPublicKey, "base64");
    const token = await new SignJWT({ jti: "x" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(workstation.id)
      .setSubject(workstation.id)
      .setAudience("latchkey")
      .setIssuedAt()
      .setExpirationTime("60s")
      .sign(secret);
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toBeNull();
  });

  it("refuses the algorithm the enrolled key is not (ES256 header for an Ed25519 workstation)", async () => {
    const workstation = enrolled("ED25519");
    const p256 = enrolled("P256");
    const token = await mint(workstation, { alg: "ES256", key: p256.privateKey });
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toBeNull();
  });

  it("refuses a credential whose sub was changed to another workstation", async () => {
    const mine = enrolled("ED25519");
    const theirs = enrolled("ED25519");
    const token = withClaims(await mint(mine), (claims) => {
      claims.sub = theirs.id;
      claims.iss = theirs.id;
    });
    const { lookup, asked } = directory(mine, theirs);
    expect(await verifyWorkstationCredential(token, lookup)).toBeNull();
    // It looked up the claimed workstation, and that workstation's key did not match.
    expect(asked).toEqual([theirs.id]);
  });

  it("refuses a credential whose lifetime was stretched after signing", async () => {
    const workstation = enrolled("P256");
    const token = withClaims(await mint(workstation, { iat: now() - 400, exp: now() - 100 }), (claims) => {
      claims.exp = now() + 100;
    });
    expect(await verifyWorkstationCredential(token, directory(workstation).lookup)).toBeNull();
  });

  it("refuses a removed workstation (no row), and does not look up ids that are not UUIDs", async () => {
    const workstation = enrolled("ED25519");
    const { lookup, asked } = directory();
    expect(await verifyWorkstationCredential(await mint(workstation), lookup)).toBeNull();
    expect(asked).toEqual([workstation.id]);

    const notUuid = await mint(workstation, { sub: "'; drop table workstation; --", iss: "'; drop table workstation; --" });
    expect(await verifyWorkstationCredential(notUuid, lookup)).toBeNull();
    expect(asked).toHaveLength(1);
  });

  it("refuses a row whose stored key is not the algorithm it names", async () => {
    const workstation = enrolled("ED25519");
    const confused = { ...workstation, row: { ...workstation.row, signingAlgorithm: "P256" as const } };
    expect(await verifyWorkstationCredential(await mint(workstation), directory(confused).lookup)).toBeNull();
  });

  it("never throws for garbage", async () => {
    const { lookup } = directory();
    for (const token of ["", "a.b.c", "x".repeat(5000), "....", "eyJhbGciOiJFZERTQSJ9.e30.AAAA", "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.AAAA"]) {
      await expect(verifyWorkstationCredential(token, lookup)).resolves.toBeNull();
    }
  });
});

describe("looksLikeWorkstationCredential", () => {
  it("tells a workstation JWT from a session or device token", async () => {
    expect(looksLikeWorkstationCredential(await mint(enrolled("ED25519")))).toBe(true);
    expect(looksLikeWorkstationCredential(await mint(enrolled("P256")))).toBe(true);
    expect(looksLikeWorkstationCredential(randomBytes(32).toString("base64url"))).toBe(false);
    expect(looksLikeWorkstationCredential("not.a.jwt")).toBe(false);
  });
});

describe("enrolled public keys", () => {
  const spki = (key: KeyObject) => key.export({ format: "der", type: "spki" }).toString("base64");
  const ed25519 = spki(generateKeyPairSync("ed25519").publicKey);
  const x25519 = spki(generateKeyPairSync("x25519").publicKey);
  const p256 = spki(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey);
  const p384 = spki(generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey);
  const secp256k1 = spki(generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey);
  const ed448 = spki(generateKeyPairSync("ed448").publicKey);
  const x448 = spki(generateKeyPairSync("x448").publicKey);
  const rsa = spki(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey);
  const garbage = ["", "not base64!", randomBytes(44).toString("base64"), `${p256}AAAA`.slice(0, -2), "A".repeat(10_000), p256.replace(/=+$/, "")];

  it("signing: Ed25519 and P-256 only", () => {
    expect(parseSigningKey(ed25519)).toBe("ED25519");
    expect(parseSigningKey(p256)).toBe("P256");
    for (const refused of [x25519, p384, secp256k1, ed448, x448, rsa, ...garbage]) expect(parseSigningKey(refused)).toBeNull();
  });

  it("key agreement: X25519 and P-256 only", () => {
    expect(parseKeyAgreementKey(x25519)).toBe("X25519");
    expect(parseKeyAgreementKey(p256)).toBe("P256");
    for (const refused of [ed25519, p384, secp256k1, ed448, x448, rsa, ...garbage]) expect(parseKeyAgreementKey(refused)).toBeNull();
  });
});
