// The versions of schema.graphql that git knows. History is read along first parents: the main
// line as it was published, where a merge is one change (its side branch's states never shipped).
// A handful of git processes read every version, however long the history.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";

export interface Commit {
  hash: string;
  /** The committer date: the day the change reached the line it is on. */
  committedAt: Date;
  subject: string;
}

/** One change to the SDL, made by `commit` (null: not committed yet) on top of `base`. */
export interface SdlChange {
  commit: Commit | null;
  /** null: `after` is the SDL's first version. */
  base: Commit | null;
  before: string | null;
  after: string | null;
}

export type SdlRepository =
  | { available: false; why: string }
  | {
      available: true;
      /** Fetched with --depth: the oldest fetched commit's parent, and what it changed, are unknown. */
      shallow: boolean;
      /** Every change to the SDL along first parents, oldest first, then the working copy's if it differs from HEAD's. */
      changes(): SdlChange[];
      /** The SDL at the commit where `ref` and HEAD diverged, e.g. a pull request's base branch. */
      atMergeBase(ref: string): { commit: Commit; sdl: string | null };
    };

export function openSdlRepository(sdlFile: string): SdlRepository {
  const cwd = dirname(sdlFile);
  const git = (args: string[], input?: string) => {
    try {
      return execFileSync("git", args, { cwd, input, maxBuffer: 1 << 30, stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: Buffer };
      throw new GitError(code === "ENOENT" ? "git is not installed" : `git ${args[0]}: ${stderr?.toString().trim() ?? code}`, code);
    }
  };
  let prefix: string;
  try {
    prefix = git(["rev-parse", "--show-prefix"]).toString().trim();
  } catch (error) {
    const why = (error as GitError).code === "ENOENT" ? "git is not installed" : `${cwd} is not in a git work tree`;
    return { available: false, why };
  }
  const path = `${prefix}${basename(sdlFile)}`;
  const shallow = git(["rev-parse", "--is-shallow-repository"]).toString().trim() === "true";
  const shallowFile = resolve(cwd, git(["rev-parse", "--git-path", "shallow"]).toString().trim());
  const cutOff = new Set(shallow && existsSync(shallowFile) ? readFileSync(shallowFile, "utf8").split("\n").filter(Boolean) : []);
  const hasHead = (() => {
    try {
      git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
      return true;
    } catch {
      return false;
    }
  })();

  const commitsOf = (args: string[]): Commit[] =>
    git(["log", "--format=%H%x1f%ct%x1f%s%x1e", ...args])
      .toString()
      .split("\x1e")
      .map((record) => record.trim())
      .filter(Boolean)
      .map((record) => {
        const [hash = "", seconds = "0", subject = ""] = record.split("\x1f");
        return { hash, committedAt: new Date(Number(seconds) * 1000), subject };
      });

  /** The SDL's blob id at each commit, or null where it did not exist: one git process for all. */
  const blobsAt = (commits: Commit[]): (string | null)[] => {
    if (commits.length === 0) return [];
    const lines = git(["cat-file", "--batch-check=%(objectname) %(objecttype)"], commits.map((c) => `${c.hash}:${path}\n`).join(""))
      .toString()
      .trimEnd()
      .split("\n");
    return lines.map((line) => (line.endsWith(" blob") ? line.slice(0, line.indexOf(" ")) : null));
  };

  /** Blob contents by id: `git cat-file --batch` answers "<id> blob <size>\n<bytes>\n" for each. */
  const readBlobs = (ids: string[]): Map<string, string> => {
    const unique = [...new Set(ids)];
    const contents = new Map<string, string>();
    if (unique.length === 0) return contents;
    const output = git(["cat-file", "--batch"], unique.map((id) => `${id}\n`).join(""));
    let offset = 0;
    for (const id of unique) {
      const headerEnd = output.indexOf(10, offset);
      const size = Number(output.subarray(offset, headerEnd).toString().split(" ")[2]);
      contents.set(id, output.subarray(headerEnd + 1, headerEnd + 1 + size).toString("utf8"));
      offset = headerEnd + 1 + size + 1;
    }
    return contents;
  };

  return {
    available: true,
    shallow,
    changes() {
      const working = existsSync(sdlFile) ? readFileSync(sdlFile, "utf8") : null;
      const commits = hasHead ? commitsOf(["--first-parent", "--reverse", "HEAD"]) : [];
      const blobs = blobsAt(commits);
      const found: { commit: Commit; base: Commit | null; before: string | null; after: string | null }[] = [];
      commits.forEach((commit, i) => {
        const blob = blobs[i] ?? null;
        if (i === 0) {
          // At a shallow clone's cut the parent is missing, not absent: nothing is known to have changed.
          if (blob !== null && !cutOff.has(commit.hash)) found.push({ commit, base: null, before: null, after: blob });
        } else if (blob !== blobs[i - 1]) {
          found.push({ commit, base: commits[i - 1]!, before: blobs[i - 1] ?? null, after: blob });
        }
      });
      const head = commits.at(-1);
      const headBlob = blobs.at(-1) ?? null;
      const contents = readBlobs([...found.flatMap((c) => [c.before, c.after]), headBlob].filter((id) => id !== null));
      const text = (id: string | null) => (id === null ? null : contents.get(id)!);

      const changes: SdlChange[] = found.map((c) => ({ ...c, before: text(c.before), after: text(c.after) }));
      if (working !== text(headBlob)) {
        changes.push({ commit: null, base: head ?? null, before: text(headBlob), after: working });
      }
      return changes;
    },
    atMergeBase(ref) {
      const hash = git(["merge-base", ref, "HEAD"]).toString().trim();
      const [commit] = commitsOf(["-1", hash]);
      const [blob] = blobsAt([commit!]);
      return { commit: commit!, sdl: blob ? readBlobs([blob]).get(blob)! : null };
    },
  };
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function describeCommit(commit: Commit): string {
  return `${commit.hash.slice(0, 10)} (${utcDay(commit.committedAt)}, "${commit.subject}")`;
}

export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
