// Where this instance's key-encryption key comes from: the configuration, or,
// for the embedded default only, a key generated once under DATA_DIR/secrets.
// loadConfig already refused PostgreSQL without a configured key, because
// instances sharing a database must share the key.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KEY_BYTES, decodeKeyEncryptionKey, type KeyEncryptionKey } from "@latchkey/schema";
import type { Config } from "./config.ts";

/** The id of the generated key, distinct from any configured default so a later switch is visible. */
export const LOCAL_KEY_ID = "local-1";

export function localKeyFile(dataDir: string) {
  return join(dataDir, "secrets", "key-encryption.key");
}

async function readLocalKey(file: string): Promise<KeyEncryptionKey> {
  const key = decodeKeyEncryptionKey(await readFile(file, "utf8"));
  if (!key) throw new Error(`${file} does not hold a base64 key of 32 bytes; restore it from a backup`);
  return { id: LOCAL_KEY_ID, key };
}

/** Reads DATA_DIR/secrets/key-encryption.key, generating it (mode 0600) the first time. */
export async function localKeyEncryptionKey(dataDir: string): Promise<KeyEncryptionKey> {
  const file = localKeyFile(dataDir);
  try {
    return await readLocalKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const dir = join(dataDir, "secrets");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // "wx": if another process created it first, keep theirs and read it back.
  await writeFile(file, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  // The mode given to writeFile is reduced by the umask; the key must stay private.
  await chmod(file, 0o600);
  return readLocalKey(file);
}

export async function resolveKeyEncryptionKey(
  config: Pick<Config, "keyEncryptionKey" | "databaseUrl" | "dataDir">,
  /** False for commands that only read keys: a key generated now could not open anything stored. */
  { generate = true }: { generate?: boolean } = {},
): Promise<KeyEncryptionKey> {
  if (config.keyEncryptionKey) return config.keyEncryptionKey;
  if (config.databaseUrl) throw new Error("KEY_ENCRYPTION_KEY is required when DATABASE_URL is set");
  if (!generate) {
    const file = localKeyFile(config.dataDir);
    return readLocalKey(file).catch((error: NodeJS.ErrnoException) => {
      throw error.code === "ENOENT" ? new Error(`KEY_ENCRYPTION_KEY is unset and ${file} does not exist: no key to read tenant keys with`) : error;
    });
  }
  return localKeyEncryptionKey(config.dataDir);
}
