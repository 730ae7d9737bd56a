import { Prisma } from "@latchkey/db";

/**
 * Names the unique constraint a write violated, or null for any other error.
 * PostgreSQL (adapter-pg) surfaces it as Prisma's P2002; the PGlite adapter
 * passes the driver's error through with SQLSTATE 23505.
 */
export function violatedUniqueConstraint(error: unknown): string | null {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
    const meta = error.meta as { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } } | undefined;
    const fields = meta?.driverAdapterError?.cause?.constraint?.fields;
    return String(meta?.target ?? fields?.join(",") ?? "unique");
  }
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code === "23505") return cause.message ?? "unique";
  return null;
}
