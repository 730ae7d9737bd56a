// Each tenant's audit events are hash-chained, so that an event altered or
// deleted in the database (by someone who can switch the append-only trigger
// off) shows. Events are chained after they commit, by whoever comes first:
// the housekeeping round, or a check asking for the chain; one tenant's chain
// is extended under a transaction-scoped advisory lock, so two instances never
// number one link twice, and no audited transaction waits for it.
//
//   hash = SHA-256( prevHash "\n" canonical JSON of [id, tenantId, actorId, actorLabel, action,
//                   targetType, targetId, data (keys sorted), ip, createdAt ISO 8601] ), hex
//   the first link's prevHash is 64 zeros; after a purge, the oldest remaining link's is taken as it is.
import { createHash } from "node:crypto";
import type { AuditEvent, Prisma } from "@latchkey/db";
import type { Services } from "../../context.ts";

export const CHAIN_START = "0".repeat(64);
/** Events chained per transaction: a long backlog is chained in several. */
const BATCH = 500;

type ChainStore = Pick<Services["db"], "$transaction" | "auditEvent" | "auditChainLink">;

/** JSON with every object's keys sorted, so the database's own key order does not matter. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function auditEventHash(prevHash: string, event: AuditEvent): string {
  const content = canonical([
    event.id,
    event.tenantId,
    event.actorId,
    event.actorLabel,
    event.action,
    event.targetType,
    event.targetId,
    event.data,
    event.ip,
    event.createdAt.toISOString(),
  ]);
  return createHash("sha256").update(`${prevHash}\n${content}`, "utf8").digest("hex");
}

/** Chains a tenant's events not chained yet, oldest first; returns how many. */
export async function extendAuditChain(db: ChainStore, tenantId: string): Promise<number> {
  let chained = 0;
  for (;;) {
    const count = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`latchkey-audit-chain:${tenantId}`}))`;
      const pending = await tx.auditEvent.findMany({
        where: { tenantId, chainLink: { is: null } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: BATCH,
      });
      if (pending.length === 0) return 0;
      const last = await tx.auditChainLink.findFirst({ where: { tenantId }, orderBy: { seq: "desc" } });
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? CHAIN_START;
      const links: Prisma.AuditChainLinkCreateManyInput[] = [];
      for (const event of pending) {
        const hash = auditEventHash(prevHash, event);
        links.push({ eventId: event.id, tenantId, seq: (seq += 1), prevHash, hash });
        prevHash = hash;
      }
      await tx.auditChainLink.createMany({ data: links });
      return links.length;
    });
    chained += count;
    if (count < BATCH) return chained;
  }
}

/** The housekeeping round: every tenant with events not chained yet. */
export async function extendAuditChains(services: Pick<Services, "db" | "log">) {
  const tenants = await services.db.auditEvent.findMany({ where: { chainLink: { is: null } }, distinct: ["tenantId"], select: { tenantId: true } });
  let chained = 0;
  for (const { tenantId } of tenants) chained += await extendAuditChain(services.db, tenantId);
  if (chained > 0) services.log.info("audit events chained", { chained, tenants: tenants.length });
}

export type AuditChainCheck = {
  intact: boolean;
  /** Links checked. */
  length: number;
  /** The first event that does not match its link, or the first link after a gap. */
  brokenAtEventId: string | null;
  problem: string | null;
};

/** Walks a tenant's chain from its oldest link: every event must match its link, and every link follow the one before. */
export async function checkAuditChain(db: ChainStore, tenantId: string): Promise<AuditChainCheck> {
  const links = await db.auditChainLink.findMany({ where: { tenantId }, orderBy: { seq: "asc" }, include: { event: true } });
  const broken = (eventId: string, problem: string, length: number): AuditChainCheck => ({ intact: false, length, brokenAtEventId: eventId, problem });
  for (const [index, link] of links.entries()) {
    const before = links[index - 1];
    if (before && link.seq !== before.seq + 1) return broken(link.eventId, `${link.seq - before.seq - 1} event(s) before this one were deleted`, index);
    if (before && link.prevHash !== before.hash) return broken(link.eventId, "this event's link does not follow the one before", index);
    if (!before && link.seq === 1 && link.prevHash !== CHAIN_START) return broken(link.eventId, "the first link does not start the chain", index);
    // Deleted with the database's own checks off, the event leaves its link behind.
    const event = link.event as AuditEvent | null;
    if (!event) return broken(link.eventId, "this event was deleted", index);
    if (auditEventHash(link.prevHash, event) !== link.hash) return broken(link.eventId, "this event was altered after it was recorded", index);
  }
  return { intact: true, length: links.length, brokenAtEventId: null, problem: null };
}
