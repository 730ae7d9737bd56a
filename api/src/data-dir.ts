// Keys the embedded default generates for itself under DATA_DIR/secrets.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;

export class DataDirError extends Error {
  override name = "DataDirError";
}

/**
 * A 32-byte key generated once under DATA_DIR/secrets (mode 0600) for the
 * embedded default, and read back on every later start.
 */
export async function localSecret(dataDir: string, fileName: string): Promise<Buffer> {
  const dir = join(dataDir, "secrets");
  const file = join(dir, fileName);
  const read = async () => {
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    if (key.length !== 32) throw new DataDirError(`${file} does not hold a base64 key of 32 bytes; restore it from a backup or remove it`);
    return key;
  };
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dir, { recursive: true, mode: OWNER_ONLY_DIR });
  // "wx": if another process created it first, keep theirs and read it back.
  await writeFile(file, `${randomBytes(32).toString("base64")}\n`, { mode: OWNER_ONLY_FILE, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  await chmod(file, OWNER_ONLY_FILE);
  return read();
}
