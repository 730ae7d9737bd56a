import { Prisma } from "@latchkey/db";

/**
 * Names the unique constraint a write violated, or null for any other error.
 * Both adapters raise Prisma's P2002: adapter-pg names the constraint's index
 * (`User_tenantId_emailKey_key`), the PGlite adapter its columns (`tenantId,emailKey`).
 */
export function violatedUniqueConstraint(error: unknown): string | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2002") return null;
  const meta = error.meta as { driverAdapterError?: { cause?: { constraint?: { index?: string; fields?: string[] } } } } | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  return constraint?.index ?? constraint?.fields?.join(",") ?? "unique";
}
