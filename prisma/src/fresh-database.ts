// A PostgreSQL database of its own for one test or bench run, on the server
// (and with the credentials) of a given URL, so rows of other runs never meet
// it; dropped at the end. Not used by the API itself.
import { randomBytes } from "node:crypto";
import pg from "pg";

export class FreshDatabase {
  private dropped = false;
  private constructor(
    private readonly baseUrl: string,
    readonly name: string,
    readonly url: string,
  ) {}

  /** Creates `<database of baseUrl>_<label>_<random>` next to the database `baseUrl` names. */
  static async create(baseUrl: string, label: string) {
    const base = new URL(baseUrl);
    const baseName = decodeURIComponent(base.pathname.slice(1)) || "latchkey";
    const name = `${baseName.replace(/[^a-z0-9_]/gi, "_").slice(0, 30)}_${label}_${randomBytes(4).toString("hex")}`.toLowerCase();
    await withClient(baseUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return new FreshDatabase(baseUrl, name, url.toString());
  }

  query<T extends Record<string, unknown> = Record<string, any>>(text: string, values: unknown[] = []): Promise<T[]> {
    return withClient(this.url, async (client) => (await client.query(text, values)).rows as T[]);
  }

  async drop() {
    if (this.dropped) return;
    this.dropped = true;
    // FORCE ends the connections a killed server left behind (PostgreSQL 13+).
    await withClient(this.baseUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`));
  }
}

/** Runs `work` with a client of its own connected to `url`, and closes it. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
