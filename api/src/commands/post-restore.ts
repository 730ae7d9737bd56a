// Run after PostgreSQL (or the embedded database) is restored from a backup,
// before the API instances start again:
//
//   DATABASE_URL=... npm run post-restore --workspace @latchkey/api [-- --journal <folder or file> ...]
//
// A backup knows nothing of what was revoked after it was taken: a signed-out
// session, a revoked API key or phone, a removed workstation would work again.
// Every instance also journals each revocation outside the database
// (REVOCATION_JOURNAL_DIR, DATA_DIR/revocations by default, one file per
// instance); this reads every journal file (of this instance's folder, or the
// folders and files given with --journal: give each instance's), and re-applies
// each revocation the restored database does not have, with its original time
// and an audit event saying so. What the database already has is left alone,
// so a second run changes nothing.
//
// Who held a customer's master key after the backup is unknown too (a phone
// revoked, an admin demoted or disabled since may be a holder again in the
// restored database), so every customer with the master key on is marked
// "rotation due" for its current epoch: the portal asks its admins to rotate,
// and the next rotation (a new epoch) clears the mark.
//
// With the embedded database, restore only DATA_DIR/pglite and keep
// DATA_DIR/revocations as it is; stop the API first: only one process may
// open the database.
import { openDatabase, type PrismaClient } from "@latchkey/db";
import { recordAudit, systemClock, type RevokedKind } from "@latchkey/schema";
import { loadConfig } from "../config.ts";
import { closeDatabase, runCommand } from "./command.ts";
import { DurableJobQueue } from "../jobs.ts";
import { readRevocationJournals, type RevocationEntry } from "../revocation-journal.ts";

/** Ids read from the database at a time. */
const BATCH = 500;

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
type Actor = Parameters<typeof recordAudit>[1];
type AuditEntry = Parameters<typeof recordAudit>[2];

/**
 * How each kind is re-applied: `rows` reads which of the ids the database has
 * and whether each is revoked already, `reapply` revokes one (conditionally, so
 * a second run racing this one cannot do it twice) and says what to audit.
 */
type Revocation = {
  label: string;
  done: string;
  rows(db: PrismaClient, ids: string[]): Promise<{ id: string; revoked: boolean }[]>;
  reapply(tx: Tx, entry: RevocationEntry): Promise<AuditEntry | "already" | null>;
};

const reapplied = (at: string) => ({ reappliedAfterRestore: true, revokedAt: at });

const REVOCATIONS: Record<RevokedKind, Revocation> = {
  session: {
    label: "sessions",
    done: "revoked again",
    async rows(db, ids) {
      const rows = await db.session.findMany({ where: { id: { in: ids } }, select: { id: true, revokedAt: true } });
      return rows.map((row) => ({ id: row.id, revoked: row.revokedAt !== null }));
    },
    async reapply(tx, { id, at }) {
      const { count } = await tx.session.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(at) } });
      if (count === 0) return "already";
      const session = await tx.session.findUniqueOrThrow({ where: { id }, select: { tenantId: true } });
      return { tenantId: session.tenantId, action: "session.revoked", targetType: "Session", targetId: id, data: reapplied(at) };
    },
  },
  apiKey: {
    label: "API keys",
    done: "revoked again",
    async rows(db, ids) {
      const rows = await db.apiKey.findMany({ where: { id: { in: ids } }, select: { id: true, revokedAt: true } });
      return rows.map((row) => ({ id: row.id, revoked: row.revokedAt !== null }));
    },
    async reapply(tx, { id, at }) {
      const { count } = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(at) } });
      if (count === 0) return "already";
      const key = await tx.apiKey.findUniqueOrThrow({ where: { id }, select: { tenantId: true, name: true } });
      return { tenantId: key.tenantId, action: "apiKey.revoked", targetType: "ApiKey", targetId: id, data: { name: key.name, ...reapplied(at) } };
    },
  },
  authenticator: {
    label: "phones",
    done: "revoked again",
    async rows(db, ids) {
      const rows = await db.authenticator.findMany({ where: { id: { in: ids } }, select: { id: true, revokedAt: true } });
      return rows.map((row) => ({ id: row.id, revoked: row.revokedAt !== null }));
    },
    async reapply(tx, { id, at }) {
      const { count } = await tx.authenticator.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(at) } });
      if (count === 0) return "already";
      const phone = await tx.authenticator.findUniqueOrThrow({ where: { id }, select: { tenantId: true } });
      // A phone never linked to a user belongs to no tenant's log (as when it was revoked).
      return phone.tenantId ? { tenantId: phone.tenantId, action: "authenticator.revoked", targetType: "Authenticator", targetId: id, data: reapplied(at) } : null;
    },
  },
  workstation: {
    label: "workstations",
    done: "removed again",
    async rows(db, ids) {
      const rows = await db.workstation.findMany({ where: { id: { in: ids } }, select: { id: true } });
      return rows.map((row) => ({ id: row.id, revoked: false }));
    },
    async reapply(tx, { id, at }) {
      const workstation = await tx.workstation.findUnique({ where: { id }, select: { tenantId: true, name: true, hostname: true } });
      if (!workstation) return "already";
      await tx.workstation.delete({ where: { id } });
      return {
        tenantId: workstation.tenantId,
        action: "workstation.removed",
        targetType: "Workstation",
        targetId: id,
        data: { name: workstation.name, hostname: workstation.hostname, reappliedAfterRestore: true, removedAt: at },
      };
    },
  },
};

function journalPaths(args: string[]): string[] | null {
  const paths: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] !== "--journal" || !args[i + 1]) throw new Error("usage: post-restore [--journal <folder or file> ...]");
    paths.push(args[(i += 1)]!);
  }
  return paths.length ? paths : null;
}

/** Each (kind, id) once, at its earliest time: the first revocation is the one that counts. */
function firstRevocations(entries: RevocationEntry[]): RevocationEntry[] {
  const first = new Map<string, RevocationEntry>();
  for (const entry of entries) {
    const key = `${entry.kind}:${entry.id}`;
    const seen = first.get(key);
    if (!seen || Date.parse(entry.at) < Date.parse(seen.at)) first.set(key, entry);
  }
  return [...first.values()];
}

async function reapplyKind(db: PrismaClient, actor: Actor, revocation: Revocation, entries: RevocationEntry[]) {
  const counts = { reapplied: 0, already: 0, absent: 0 };
  for (let start = 0; start < entries.length; start += BATCH) {
    const batch = entries.slice(start, start + BATCH);
    const rows = new Map((await revocation.rows(db, batch.map((entry) => entry.id))).map((row) => [row.id, row.revoked]));
    for (const entry of batch) {
      const revoked = rows.get(entry.id);
      // Not in the database: made after the backup (so never restored), or deleted since.
      if (revoked === undefined) counts.absent += 1;
      else if (revoked) counts.already += 1;
      else {
        const outcome = await db.$transaction(async (tx) => {
          const result = await revocation.reapply(tx, entry);
          if (result !== "already" && result !== null) await recordAudit(tx, actor, result, null);
          return result;
        });
        if (outcome === "already") counts.already += 1;
        else counts.reapplied += 1;
      }
    }
  }
  return counts;
}

async function main() {
  const config = loadConfig();
  const paths = journalPaths(process.argv.slice(2)) ?? [config.revocationJournalDir];
  const journal = await readRevocationJournals(paths).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new Error(`no revocation journal at ${error.path ?? paths.join(", ")}: give each instance's with --journal`);
    throw error;
  });
  const entries = firstRevocations(journal.entries);
  console.log(`journal: ${journal.files.length} file(s), ${journal.entries.length} entries${journal.unreadable ? `, ${journal.unreadable} unreadable line(s) skipped` : ""}`);

  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir, poolSize: 2 });
  const log = { info: () => undefined, warn: (message: string) => console.error(message), error: (message: string) => console.error(message) };
  // Audit events may have webhook deliveries: they go on the deployment's queue, sent once the instances run.
  const jobs = await DurableJobQueue.start({ database: db, prisma: db.prisma, schema: config.jobQueueSchema, log });
  try {
    const newest = await db.prisma.auditEvent.findFirst({ orderBy: { createdAt: "desc" }, select: { createdAt: true } });
    if (newest) {
      const after = entries.filter((entry) => Date.parse(entry.at) > newest.createdAt.getTime()).length;
      console.log(`the database's newest audit event: ${newest.createdAt.toISOString()}; ${after} revocation(s) journaled after it`);
    }
    const actor: Actor = { viewer: null, request: { ip: "", userAgent: null }, jobs, clock: systemClock };
    for (const [kind, revocation] of Object.entries(REVOCATIONS) as [RevokedKind, Revocation][]) {
      const counts = await reapplyKind(db.prisma, actor, revocation, entries.filter((entry) => entry.kind === kind));
      console.log(`${revocation.label}: ${counts.reapplied} ${revocation.done}, ${counts.already} already so, ${counts.absent} not in the database`);
    }
    const masterKeys = await db.prisma.tenantKeyPair.findMany({ where: { custody: "MASTER_KEY" }, select: { tenantId: true, epoch: true } });
    const marked = await db.prisma.tenantKeyRotationDue.createMany({
      data: masterKeys.map((key) => ({ ...key, reason: "RESTORED_FROM_BACKUP" })),
      skipDuplicates: true,
    });
    console.log(`master keys: ${marked.count} marked rotation due, ${masterKeys.length - marked.count} already marked`);
    return 0;
  } finally {
    await jobs.stop();
    await closeDatabase(db, config);
  }
}

runCommand(main);
