// The OPAQUE server setup every instance of a deployment shares: configured
// (OPAQUE_SERVER_SETUP, required with PostgreSQL), or for the embedded default
// generated once under DATA_DIR/secrets. The first instance to start records
// its static public key and a deployment id (the OPAQUE server identity) in
// the database; an instance with another setup refuses to start, since every
// registration record and every agent's pinned key depend on it.
import { randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PrismaClient } from "@latchkey/db";
import { createServerSetup, serverSetupPublicKey } from "@latchkey/schema";
import type { Config } from "./config.ts";

export function localServerSetupFile(dataDir: string) {
  return join(dataDir, "secrets", "opaque-server-setup");
}

export async function resolveServerSetup(config: Pick<Config, "opaqueServerSetup" | "databaseUrl" | "dataDir">): Promise<string> {
  if (config.opaqueServerSetup) return config.opaqueServerSetup;
  if (config.databaseUrl) {
    throw new Error(
      "Invalid configuration: OPAQUE_SERVER_SETUP is required when DATABASE_URL is set. Every API instance must share one " +
        "OPAQUE server setup: generate it once with `npm run opaque-server-setup --workspace @latchkey/api`, give the same " +
        "OPAQUE_SERVER_SETUP to every instance and keep a copy beside KEY_ENCRYPTION_KEY.",
    );
  }
  const file = localServerSetupFile(config.dataDir);
  const read = async () => (await readFile(file, "utf8")).trim();
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(join(config.dataDir, "secrets"), { recursive: true, mode: 0o700 });
  // "wx": if another process created it first, keep theirs and read it back.
  await writeFile(file, `${await createServerSetup()}\n`, { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  await chmod(file, 0o600);
  return read();
}

/** The setup's public key, or a configuration error naming the variable. */
export async function checkedServerPublicKey(serverSetup: string): Promise<string> {
  try {
    return await serverSetupPublicKey(serverSetup);
  } catch {
    throw new Error("Invalid configuration: OPAQUE_SERVER_SETUP is not an OPAQUE server setup");
  }
}

/**
 * The deployment id, recording it with the setup's public key at the first
 * start. Throws when the database was set up with another server setup.
 */
export async function deploymentFor(db: PrismaClient, serverPublicKey: string): Promise<string> {
  await db.deployment.createMany({
    data: [{ id: 1, deploymentId: randomUUID(), opaqueServerPublicKey: serverPublicKey }],
    skipDuplicates: true,
  });
  const deployment = await db.deployment.findUniqueOrThrow({ where: { id: 1 } });
  if (deployment.opaqueServerPublicKey !== serverPublicKey) {
    throw new Error(
      "This instance's OPAQUE server setup is not the one this database was set up with (its public key differs): " +
        "start it with the deployment's OPAQUE_SERVER_SETUP. Every password and every enrolled agent depends on it.",
    );
  }
  return deployment.deploymentId;
}

/** Customer tenants made before tenant key pairs existed get theirs. */
export async function ensureTenantKeyPairs(db: PrismaClient, publicKeyFor: (tenantId: string) => Promise<string>) {
  const missing = await db.tenant.findMany({ where: { kind: "CUSTOMER", keyPair: null }, select: { id: true } });
  for (const tenant of missing) await publicKeyFor(tenant.id);
}
