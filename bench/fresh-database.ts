// A PostgreSQL database of its own for one bench run, on the server (and with
// the credentials) of the caller's DATABASE_URL, so rows of earlier runs never
// skew a measurement; dropped when the run ends.
import { randomBytes } from "node:crypto";
import pg from "pg";

export type FreshDatabase = { name: string; url: string; drop(): Promise<void> };

export async function createFreshDatabase(baseUrl: string, label: string): Promise<FreshDatabase> {
  const base = new URL(baseUrl);
  const baseName = decodeURIComponent(base.pathname.slice(1)) || "latchkey";
  const name = `${baseName.replace(/[^a-z0-9_]/gi, "_").slice(0, 40)}_${label}_${randomBytes(4).toString("hex")}`.toLowerCase();
  await withClient(baseUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE ends connections a killed server may have left behind (PostgreSQL 13+).
      await withClient(baseUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same connection string with an application_name, by which pg_stat_activity tells clients apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const named = new URL(url);
  named.searchParams.set("application_name", applicationName);
  return named.toString();
}

/** Whether the database server runs on this machine, so its backends' CPU can be read from /proc. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || host.startsWith("127.") || host === "";
}
