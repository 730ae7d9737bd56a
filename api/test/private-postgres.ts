// A PostgreSQL cluster of a test's own: made with initdb in a temporary
// directory, listening on a free loopback port only (no Unix socket), started
// and stopped with pg_ctl, so a fault test can stop "the database" without
// touching the machine's shared PostgreSQL service. initdb refuses to run as
// root, so under root (as CI runs) the cluster belongs to an unprivileged user
// (`postgres`, or `nobody`) and its commands run through runuser.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./api-process.ts";

/** The newest PostgreSQL server binaries on this machine (Debian keeps them per major), or null. */
export function postgresBinDir(): string | null {
  const candidates: string[] = [];
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => join(debian, major, "bin")));
  }
  const fromPgConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  if (fromPgConfig.status === 0) candidates.push(fromPgConfig.stdout.trim());
  return candidates.find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")) && existsSync(join(dir, "postgres"))) ?? null;
}

/** Under root: the unprivileged account that owns the cluster (initdb refuses root). */
function clusterOwner(): { name: string; uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const entry = spawnSync("getent", ["passwd", name], { encoding: "utf8" });
    if (entry.status !== 0) continue;
    const [, , uid, gid] = entry.stdout.trim().split(":");
    return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody account exists to own a private PostgreSQL cluster");
}

const live = new Set<PrivatePostgres>();
process.on("exit", () => {
  // A test that failed half-way must not leave a postmaster behind.
  for (const cluster of live) cluster.stopNow();
});

export class PrivatePostgres {
  private running = false;

  private constructor(
    private readonly bin: string,
    private readonly owner: { name: string; uid: number; gid: number } | null,
    /** The temporary directory holding the cluster (`data/`) and its log (`postgres.log`). */
    readonly dir: string,
    readonly port: number,
  ) {}

  get dataDir() {
    return join(this.dir, "data");
  }

  get logFile() {
    return join(this.dir, "postgres.log");
  }

  /** The cluster's superuser on its `latchkey` database (trust authentication, loopback only). */
  get url() {
    return `postgresql://latchkey@127.0.0.1:${this.port}/latchkey`;
  }

  /** initdb, start, and a `latchkey` database in it. */
  static async create(bin: string): Promise<PrivatePostgres> {
    const owner = clusterOwner();
    const dir = await mkdtemp(join(tmpdir(), "latchkey-pg-"));
    await chmod(dir, 0o700);
    if (owner) await chown(dir, owner.uid, owner.gid);
    const cluster = new PrivatePostgres(bin, owner, dir, await freePort());
    live.add(cluster);
    try {
      await cluster.run("initdb", ["-D", cluster.dataDir, "-U", "latchkey", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]);
      await cluster.start();
      const client = new pg.Client({ connectionString: cluster.url.replace(/\/latchkey$/, "/postgres") });
      await client.connect();
      try {
        await client.query("CREATE DATABASE latchkey");
      } finally {
        await client.end();
      }
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Runs one of the cluster's binaries as its owner, in its directory (without blocking the event loop). */
  private run(program: string, args: string[]): Promise<string> {
    const path = join(this.bin, program);
    const [command, argv] = this.owner ? ["runuser", ["-u", this.owner.name, "--", path, ...args]] : [path, args];
    return new Promise((resolve, reject) => {
      execFile(command, argv, { cwd: this.dir, encoding: "utf8", timeout: 120_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${program} ${args.join(" ")} failed: ${stderr || stdout || String(error)}\n${this.logTail()}`));
        else resolve(stdout);
      });
    });
  }

  /** Starts the postmaster and waits until it accepts connections. */
  async start() {
    await this.run("pg_ctl", [
      "-D", this.dataDir, "-l", this.logFile, "-w", "-t", "90",
      "-o", `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=50`,
      "start",
    ]);
    this.running = true;
  }

  /** Stops the postmaster: "fast" ends sessions and shuts down cleanly; "immediate" is a crash, recovered at the next start. */
  async stop(mode: "fast" | "immediate" = "fast") {
    await this.run("pg_ctl", ["-D", this.dataDir, "-m", mode, "-w", "-t", "90", "stop"]);
    this.running = false;
  }

  /** Best effort, synchronous: for process exit. */
  stopNow() {
    if (!this.running) return;
    this.running = false;
    const path = join(this.bin, "pg_ctl");
    const args = ["-D", this.dataDir, "-m", "immediate", "-w", "stop"];
    if (this.owner) spawnSync("runuser", ["-u", this.owner.name, "--", path, ...args], { cwd: this.dir, stdio: "ignore", timeout: 30_000 });
    else spawnSync(path, args, { cwd: this.dir, stdio: "ignore", timeout: 30_000 });
  }

  logTail(lines = 30) {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no postgres log)";
    }
  }

  async destroy() {
    this.stopNow();
    live.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }
}
