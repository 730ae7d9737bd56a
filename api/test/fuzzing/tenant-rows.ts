// Every database row that belongs to some tenants, hashed, so a run can tell
// whether anything another tenant did wrote to them. Found from the tables as
// they are (information_schema), not from a list kept by hand: a row is theirs
// when any id column (uuid, uuid[], or a text column named like an id) holds one
// of their ids, and their ids are the tenants' and, transitively, every row's
// found that way. A table with no such column must be classified below, or the
// snapshot refuses to run.
import { createHash } from "node:crypto";

type Db = { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> };

export type Row = { table: string; key: string; hash: string; json: string };

/** Tables whose rows name no tenant, user or other row, and how they are checked. */
const UNOWNED_TABLES: Record<string, { why: string; check: "whole" | "skip" | "emailKey" }> = {
  Deployment: { why: "the deployment's OPAQUE identity: one row nobody may change", check: "whole" },
  EmailVerification: { why: "codes emailed to an address: the victim's are those sent to its users' addresses", check: "emailKey" },
  _prisma_migrations: { why: "migration bookkeeping, written only at start-up", check: "skip" },
};

/**
 * Logs and short-lived sign-in state: their rows are found through the tenant
 * they name, and nothing else names them, so their ids are not followed (which
 * keeps the queries small as the caller's audit log grows).
 */
const NOT_FOLLOWED = new Set(["AuditEvent", "AuditChainLink", "LoginEvent", "WebhookDelivery", "PasswordLogin", "EmailVerification"]);

type Column = { name: string; kind: "uuid" | "uuid[]" | "textId" | "other" };
type Table = { name: string; columns: Column[]; key: string[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function literal(value: string) {
  return `'${value.replaceAll("'", "''")}'`;
}

export class TenantRows {
  private constructor(
    private readonly db: Db,
    private readonly tables: Table[],
    /** The tenants' ids and every row's of theirs found when this was made. */
    readonly ids: Set<string>,
    private readonly emailKeys: string[],
    private readonly exclude: Set<string>,
  ) {}

  /**
   * Reads the tables and finds the tenants' ids, starting from the tenants and
   * following every row that names one, until nothing new turns up. Ids in
   * `exclude` are never followed (rows naming only them are not counted).
   */
  static async of(db: Db, tenants: { tenantIds: string[]; emails?: string[]; exclude?: string[] }): Promise<TenantRows> {
    const columns = await db.$queryRawUnsafe<{ table_name: string; column_name: string; data_type: string; udt_name: string }[]>(
      `SELECT c.table_name, c.column_name, c.data_type, c.udt_name FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`,
    );
    const keys = await db.$queryRawUnsafe<{ table_name: string; column_name: string }[]>(
      `SELECT k.table_name, k.column_name FROM information_schema.table_constraints c
        JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema AND k.table_name = c.table_name
        WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() ORDER BY k.table_name, k.ordinal_position`,
    );
    const tables = new Map<string, Table>();
    for (const column of columns) {
      const table = tables.get(column.table_name) ?? { name: column.table_name, columns: [], key: [] };
      tables.set(column.table_name, table);
      const kind: Column["kind"] =
        column.data_type === "uuid"
          ? "uuid"
          : column.udt_name === "_uuid"
            ? "uuid[]"
            : column.data_type === "text" && (/Id$/.test(column.column_name) || column.column_name === "tenant")
              ? "textId"
              : "other";
      table.columns.push({ name: column.column_name, kind });
    }
    for (const key of keys) tables.get(key.table_name)?.key.push(key.column_name);
    const unclassified = [...tables.values()].filter((t) => !t.columns.some((c) => c.kind !== "other") && !UNOWNED_TABLES[t.name]);
    if (unclassified.length) {
      throw new Error(`tables naming no tenant, user or row: ${unclassified.map((t) => t.name).join(", ")}; say in UNOWNED_TABLES how their victim rows are found`);
    }
    const exclude = new Set(tenants.exclude ?? []);
    const emails = (tenants.emails ?? []).map((email) => email.toLowerCase());
    const rows = new TenantRows(db, [...tables.values()], new Set(tenants.tenantIds), emails, exclude);
    await rows.follow();
    return rows;
  }

  /** Adds the ids of every row found now (the tenants' new rows, for a pool of ids to act on). */
  async follow() {
    for (let grown = true; grown; ) {
      const before = this.ids.size;
      for (const row of (await this.snapshot()).values()) {
        if (NOT_FOLLOWED.has(row.table)) continue;
        const parsed = JSON.parse(row.json) as Record<string, unknown>;
        if (typeof parsed.id === "string" && UUID.test(parsed.id) && !this.exclude.has(parsed.id)) this.ids.add(parsed.id);
      }
      grown = this.ids.size > before;
    }
  }

  /** The ids of the rows found, by kind: the table's name as a field would say it (`apiKey`, `user`). */
  async idsByKind(): Promise<Map<string, string[]>> {
    const byKind = new Map<string, string[]>();
    for (const row of (await this.snapshot()).values()) {
      const parsed = JSON.parse(row.json) as Record<string, unknown>;
      if (typeof parsed.id !== "string" || !UUID.test(parsed.id) || this.exclude.has(parsed.id)) continue;
      const kind = row.table[0]!.toLowerCase() + row.table.slice(1);
      byKind.set(kind, [...(byKind.get(kind) ?? []), parsed.id]);
    }
    for (const ids of byKind.values()) ids.sort();
    return byKind;
  }

  /** The tables checked and how, for the report. */
  describe(): string[] {
    return this.tables.map((table) => {
      const unowned = UNOWNED_TABLES[table.name];
      if (unowned) return `${table.name}: ${unowned.check} (${unowned.why})`;
      return `${table.name}: rows naming one of the ids in ${table.columns.filter((c) => c.kind !== "other").map((c) => c.name).join(", ")}`;
    });
  }

  /** The tenants' rows now, by table and primary key. */
  async snapshot(): Promise<Map<string, Row>> {
    const ids = [...this.ids].filter((id) => UUID.test(id) && !this.exclude.has(id));
    const uuidList = ids.map(literal).join(", ");
    const rows = new Map<string, Row>();
    for (const table of this.tables) {
      const unowned = UNOWNED_TABLES[table.name];
      if (unowned?.check === "skip") continue;
      let where: string;
      if (unowned?.check === "whole") where = "TRUE";
      else if (unowned?.check === "emailKey") where = this.emailKeys.length ? `"emailKey" IN (${this.emailKeys.map(literal).join(", ")})` : "FALSE";
      else {
        where = table.columns
          .map((c) =>
            c.kind === "uuid"
              ? `t."${c.name}" IN (${uuidList})`
              : c.kind === "uuid[]"
                ? `t."${c.name}" && ARRAY[${uuidList}]::uuid[]`
                : c.kind === "textId"
                  ? `t."${c.name}" IN (${uuidList})`
                  : null,
          )
          .filter(Boolean)
          .join(" OR ");
      }
      const found = await this.db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${table.name}" t WHERE ${where}`);
      for (const { row } of found) {
        const parsed = JSON.parse(row) as Record<string, unknown>;
        const key = `${table.name}:${(table.key.length ? table.key : Object.keys(parsed)).map((column) => String(parsed[column])).join("/")}`;
        rows.set(key, { table: table.name, key, json: row, hash: createHash("sha256").update(row).digest("hex") });
      }
    }
    return rows;
  }
}

export type RowChange = { kind: "added" | "removed" | "changed"; table: string; key: string; before?: string; after?: string; columns?: string[] };

/** What differs between two snapshots; for a changed row, which columns. */
export function changesBetween(before: Map<string, Row>, after: Map<string, Row>): RowChange[] {
  const changes: RowChange[] = [];
  for (const [key, row] of before) {
    const now = after.get(key);
    if (!now) changes.push({ kind: "removed", table: row.table, key, before: row.json });
    else if (now.hash !== row.hash) {
      const old = JSON.parse(row.json) as Record<string, unknown>;
      const neu = JSON.parse(now.json) as Record<string, unknown>;
      const columns = [...new Set([...Object.keys(old), ...Object.keys(neu)])].filter((c) => JSON.stringify(old[c]) !== JSON.stringify(neu[c]));
      changes.push({ kind: "changed", table: row.table, key, before: row.json, after: now.json, columns });
    }
  }
  for (const [key, row] of after) if (!before.has(key)) changes.push({ kind: "added", table: row.table, key, after: row.json });
  return changes;
}
