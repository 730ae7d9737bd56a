// Prisma starts a cursor page at the cursor's row even when the `where` filter
// excludes that row, so a cursor naming another tenant's row would reveal that
// it exists and where it sorts. A page after a cursor outside the viewer's rows
// is therefore empty, exactly like a page after a cursor that names nothing.
import { isUuid } from "./validation.ts";

type CursorQuery = { cursor?: { id?: unknown } };

export async function cursorIsInside(query: CursorQuery, existsInside: (id: string) => Promise<boolean>): Promise<boolean> {
  const id = query.cursor?.id;
  if (id === undefined) return true;
  if (typeof id !== "string" || !isUuid(id)) return false;
  return existsInside(id);
}
