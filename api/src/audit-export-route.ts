// Audit log exports, `GET /graphql/audit-events.csv` and `.json`, for a tenant
// or MSP-wide, with the same filters as the `auditEvents` query. The rows are
// read in keyset pages and written as each page arrives, honouring the
// client's pace, so an export of any size starts at once and holds one page in
// memory. Under /graphql so that the portal's session cookie (scoped there)
// comes with a download link; a Bearer token works too. No CORS headers: a
// page on another origin may start a download but never read it.
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditEvent } from "@latchkey/db";
import {
  Access,
  AUDIT_EXPORT_PAGE,
  auditEventPages,
  auditTenants,
  auditWhere,
  authenticate,
  publishAudit,
  recordAudit,
  type ErrorCode,
  type Services,
} from "@latchkey/schema";
import { bearerFrom, cookieFrom } from "./context.ts";

const EXPORT_PATH = /^\/graphql\/audit-events\.(csv|json)$/;

const HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function isAuditExportRequest(req: IncomingMessage) {
  return EXPORT_PATH.test((req.url ?? "").split("?")[0]!);
}

function refuse(res: ServerResponse, status: number, code: ErrorCode, message: string) {
  res.writeHead(status, { ...HEADERS, "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

const COLUMNS = ["createdAt", "tenant", "action", "actorId", "actorLabel", "targetType", "targetId", "ip", "data"] as const;

/**
 * One CSV field (RFC 4180). A cell a spreadsheet would read as a formula
 * (starting with = + - @ or a control character) is prefixed with a quote, so
 * opening an export runs nothing an attacker typed into a name.
 */
function csvField(value: string | null): string {
  if (value === null) return "";
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function row(event: AuditEvent, slugOf: Map<string, string>) {
  return {
    id: event.id,
    createdAt: event.createdAt.toISOString(),
    tenant: slugOf.get(event.tenantId) ?? event.tenantId,
    action: event.action,
    actorId: event.actorId,
    actorLabel: event.actorLabel,
    targetType: event.targetType,
    targetId: event.targetId,
    ip: event.ip,
    data: event.data,
  };
}

/** Writes, waiting while the client's buffer is full. */
async function write(res: ServerResponse, chunk: string) {
  if (!res.write(chunk)) await once(res, "drain");
}

export async function serveAuditExport(
  req: IncomingMessage,
  res: ServerResponse,
  services: Services,
  options: {
    clientIp: (req: IncomingMessage) => string;
    pageSize?: number;
    /** Awaited before each page after the first is read (tests hold the export there). */
    beforeNextPage?: (pagesSent: number) => Promise<void>;
  },
) {
  if (req.method !== "GET") {
    res.writeHead(405, { ...HEADERS, allow: "GET", "content-type": "text/plain; charset=utf-8" }).end("Method not allowed");
    return;
  }
  const url = new URL(req.url ?? "/", "http://api");
  const format = EXPORT_PATH.exec(url.pathname)![1] as "csv" | "json";
  const token = bearerFrom(req.headers.authorization) ?? cookieFrom(req.headers.cookie);
  const viewer = token ? await authenticate(services, token) : null;
  if (!viewer) return refuse(res, 401, "UNAUTHENTICATED", "Sign in to continue");

  const params = url.searchParams;
  const date = (name: string) => {
    const value = params.get(name);
    if (!value) return null;
    const parsed = new Date(value);
    return Number.isNaN(parsed.getTime()) ? undefined : parsed;
  };
  const since = date("since");
  const until = date("until");
  if (since === undefined || until === undefined) return refuse(res, 400, "VALIDATION", "since and until are ISO 8601 times");

  const ctx = { db: services.db, viewer, access: new Access(services.db, viewer) };
  let tenantIds: string[];
  try {
    tenantIds = await auditTenants(ctx, params.get("tenantId") ?? "", params.get("includeCustomers") === "true");
  } catch {
    return refuse(res, 404, "NOT_FOUND", "Tenant not found");
  }
  const where = auditWhere(tenantIds, {
    actorId: params.get("actorId"),
    action: params.get("action"),
    targetId: params.get("targetId"),
    since,
    until,
  });
  const tenants = await services.db.tenant.findMany({ where: { id: { in: tenantIds } }, select: { id: true, slug: true } });
  const slugOf = new Map(tenants.map((tenant) => [tenant.id, tenant.slug]));
  const named = slugOf.get(params.get("tenantId") ?? "") ?? "audit";

  // Exporting the log is itself in the log.
  const exported = await services.db.$transaction((tx) =>
    recordAudit(
      tx,
      { viewer, request: { ip: options.clientIp(req), userAgent: req.headers["user-agent"] ?? null }, jobs: services.jobs, clock: services.clock },
      {
        tenantId: params.get("tenantId")!,
        action: "audit.exported",
        data: { format, includeCustomers: params.get("includeCustomers") === "true", filter: Object.fromEntries(params) },
      },
    ),
  );
  publishAudit(services, [exported]);

  res.writeHead(200, {
    ...HEADERS,
    "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
    "content-disposition": `attachment; filename="audit-${named}-${new Date().toISOString().slice(0, 10)}.${format}"`,
  });
  const opening = format === "csv" ? `${COLUMNS.join(",")}\r\n` : "[";
  let first = true;
  let sent = 0;
  try {
    const pages = auditEventPages(services.db, where, options.pageSize ?? AUDIT_EXPORT_PAGE);
    for (; ; sent += 1) {
      if (sent > 0) await options.beforeNextPage?.(sent);
      const next = await pages.next();
      if (next.done) break;
      if (res.destroyed) return;
      // The opening goes out with the first page, so the client's first bytes carry rows.
      let chunk = sent === 0 ? opening : "";
      for (const event of next.value) {
        const values = row(event, slugOf);
        if (format === "csv") {
          chunk += `${COLUMNS.map((column) => csvField(column === "data" ? JSON.stringify(values.data) : values[column])).join(",")}\r\n`;
        } else {
          chunk += `${first ? "\n" : ",\n"}${JSON.stringify(values)}`;
          first = false;
        }
      }
      await write(res, chunk);
    }
    // Nothing matched: the opening alone.
    if (sent === 0) await write(res, opening);
    res.end(format === "csv" ? "" : "\n]\n");
  } catch (error) {
    // Headers are gone: the only honest signal left is a cut connection.
    services.log.error("audit export failed", { error: String(error) });
    res.destroy();
  }
}
