// The revocation journal: every revocation this instance makes (a session, an
// API key, a removed workstation, a revoked phone) is also appended, once its
// transaction has committed, to a JSON-lines file outside the database, so
// that after PostgreSQL is restored from a backup `npm run post-restore` can
// re-apply the revocations the backup does not have. Each instance writes a
// file of its own (two instances never interleave), each batch of lines
// fsync'd before the next; entries hold ids and times only, never a token.
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, stat, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Logger, RevocationJournal, RevokedKind } from "@latchkey/schema";

export type RevocationEntry = { at: string; kind: RevokedKind; id: string };

const KINDS: readonly RevokedKind[] = ["session", "apiKey", "workstation", "authenticator"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class RevocationJournalFile implements RevocationJournal {
  private waiting: string[] = [];
  private writing: Promise<void> | null = null;

  private constructor(
    private readonly handle: FileHandle,
    /** The file this instance appends to. */
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Opens a new file for this instance in `dir` (made owner-only if missing). */
  static async open(dir: string, log: Logger): Promise<RevocationJournalFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Named so a listing sorts by start time and says which machine and process wrote it.
    const started = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const host = hostname().replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64) || "host";
    const path = join(dir, `revocations-${started}-${host}-${process.pid}-${randomBytes(3).toString("hex")}.jsonl`);
    return new RevocationJournalFile(await open(path, "a", 0o600), path, log);
  }

  record(kind: RevokedKind, ids: readonly string[]) {
    const at = new Date().toISOString();
    if (ids.length === 0) return;
    for (const id of ids) this.waiting.push(`${JSON.stringify({ at, kind, id } satisfies RevocationEntry)}\n`);
    this.writing ??= this.writeWaiting();
  }

  /** Appends what is waiting, then what came meanwhile, each batch fsync'd. */
  private async writeWaiting() {
    // Only ever started with lines waiting: the first append yields before `writing` is set,
    // so the `finally` below never runs before the caller stores this promise.
    try {
      while (this.waiting.length > 0) {
        const lines = this.waiting.splice(0);
        try {
          await this.handle.appendFile(lines.join(""));
          await this.handle.datasync();
        } catch (error) {
          // The revocations themselves stand; only a restore from an older backup would miss them.
          this.log.error("revocation journal write failed: post-restore will not know of these revocations", {
            error: String(error),
            entries: lines.length,
            file: this.path,
          });
        }
      }
    } finally {
      this.writing = null;
    }
  }

  /** Resolves once everything recorded so far is on disk. */
  async flush() {
    while (this.writing) await this.writing;
  }

  async close() {
    await this.flush();
    await this.handle.close();
  }
}

export type JournalRead = {
  files: string[];
  entries: RevocationEntry[];
  /** Lines that are not an entry (a line cut short by a crash, say). */
  unreadable: number;
};

/** Every entry of the journal files at `paths` (files, or folders whose `*.jsonl` files are read). */
export async function readRevocationJournals(paths: string[]): Promise<JournalRead> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      for (const name of (await readdir(path)).sort()) if (name.endsWith(".jsonl")) files.push(join(path, name));
    } else {
      files.push(path);
    }
  }
  const entries: RevocationEntry[] = [];
  let unreadable = 0;
  for (const file of files) {
    for (const line of (await readFile(file, "utf8")).split("\n")) {
      if (line.trim() === "") continue;
      const entry = parseEntry(line);
      if (entry) entries.push(entry);
      else unreadable += 1;
    }
  }
  return { files, entries, unreadable };
}

function parseEntry(line: string): RevocationEntry | null {
  try {
    const value = JSON.parse(line) as Partial<RevocationEntry>;
    if (typeof value.id !== "string" || !UUID.test(value.id)) return null;
    if (!KINDS.includes(value.kind as RevokedKind)) return null;
    if (typeof value.at !== "string" || Number.isNaN(Date.parse(value.at))) return null;
    return { at: value.at, kind: value.kind as RevokedKind, id: value.id };
  } catch {
    return null;
  }
}
