// The tenants whose own addresses (`<slug>.<BASE_DOMAIN>`) may use the API from a
// browser. The origin check runs on every request and WebSocket upgrade and
// cannot wait for the database, so this instance keeps the slugs in memory: read
// at start, refreshed every 30 s (another instance's new customer is admitted
// within that), and at once for a tenant this instance is asked about and does
// not know (at most one lookup per slug a minute, so a page cannot make it query
// at will).
import type { PrismaClient } from "@latchkey/db";
import type { Logger } from "@latchkey/schema";

const REFRESH_MS = 30_000;
const MISS_RETRY_MS = 60_000;

export class TenantAddresses {
  private slugs = new Set<string>();
  private readonly misses = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Pick<PrismaClient, "tenant">,
    private readonly log: Logger,
  ) {}

  async start() {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((error) => this.log.warn("could not refresh tenant addresses", { error: String(error) })), REFRESH_MS);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async refresh() {
    const rows = await this.db.tenant.findMany({ select: { slug: true } });
    this.slugs = new Set(rows.map((row) => row.slug));
    this.misses.clear();
  }

  /** Whether `slug` names a tenant, as of the last refresh; an unknown one is looked up in the background. */
  has(slug: string): boolean {
    if (this.slugs.has(slug)) return true;
    const last = this.misses.get(slug) ?? 0;
    if (Date.now() - last > MISS_RETRY_MS && this.misses.size < 10_000) {
      this.misses.set(slug, Date.now());
      void this.db.tenant
        .findUnique({ where: { slug }, select: { slug: true } })
        .then((found) => found && this.slugs.add(found.slug))
        .catch(() => {});
    }
    return false;
  }
}
