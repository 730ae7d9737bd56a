// DATA_DIR holds the embedded database, generated keys and the mail outbox:
// nobody but the API's own user may read or change any of it. What we create
// gets owner-only modes; PGlite creates its files 0666 whatever the umask, so
// those are put right after start, now and then while running, and at stop.
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;

export class DataDirError extends Error {
  override name = "DataDirError";
}

/**
 * Creates DATA_DIR (owner-only) if it is missing, and refuses one that others
 * may write to: they could swap the database or the keys under us.
 */
export async function prepareDataDir(dataDir: string) {
  await mkdir(dataDir, { recursive: true, mode: OWNER_ONLY_DIR });
  // Followed if it is a link: what matters is the directory we write into.
  const stats = await stat(dataDir);
  if (!stats.isDirectory()) throw new DataDirError(`DATA_DIR ${dataDir} is not a directory`);
  const mode = stats.mode & 0o777;
  if (mode & 0o022) {
    throw new DataDirError(
      `DATA_DIR ${dataDir} is writable by ${mode & 0o020 ? "its group" : "others"} (mode ${mode.toString(8).padStart(4, "0")}); ` +
        `it holds the database and keys, so the API will not start on it. Make it the API user's own: chmod 700 ${dataDir}`,
    );
  }
}

/**
 * Owner-only modes for everything under DATA_DIR (not DATA_DIR itself, which
 * an operator may share read-only). Symbolic links are left alone: their
 * targets are not ours to change.
 */
export async function restrictDataDir(dataDir: string) {
  const entries = await readdir(dataDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  for (const entry of entries) {
    const path = join(dataDir, entry);
    // Files come and go while the database runs (temporary files, WAL segments).
    const stats = await lstat(path).catch(() => null);
    if (!stats || stats.isSymbolicLink()) continue;
    const mode = stats.mode & 0o777;
    if (mode & 0o077) await chmod(path, mode & 0o700).catch(() => undefined);
  }
}

/** Files in DATA_DIR that others can read or write (for checks and tests). */
export async function filesOpenToOthers(dataDir: string): Promise<string[]> {
  const entries = await readdir(dataDir, { recursive: true });
  const open: string[] = [];
  for (const entry of entries) {
    const stats = await lstat(join(dataDir, entry)).catch(() => null);
    if (stats && !stats.isSymbolicLink() && stats.mode & 0o077) open.push(`${entry} ${(stats.mode & 0o777).toString(8)}`);
  }
  return open;
}

/** Re-applies owner-only modes every `intervalMs` until the returned function is called. */
export function keepDataDirRestricted(dataDir: string, onError: (error: unknown) => void, intervalMs = 60_000) {
  const timer = setInterval(() => void restrictDataDir(dataDir).catch(onError), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
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
