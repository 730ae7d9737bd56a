// Prisma starts a cursor page at the cursor's row even when the `where` filter
// excludes that row, so a cursor naming another tenant's row would reveal that
// it exists and where it sorts. A page after a cursor outside the viewer's rows
// is therefore empty, exactly like a page after a cursor that names nothing.
import { ValidationError } from "./errors.ts";
import { isUuid } from "./validation.ts";

type CursorQuery = { cursor?: { id?: unknown } };

export async function cursorIsInside(query: CursorQuery, existsInside: (id: string) => Promise<boolean>): Promise<boolean> {
  const id = query.cursor?.id;
  if (id === undefined) return true;
  if (typeof id !== "string" || !isUuid(id)) return false;
  return existsInside(id);
}

/** Rows a page holds when neither `first` nor `last` is given. */
export const DEFAULT_PAGE_SIZE = 20;
/** The most rows one page holds; asking for more is refused, not cut. */
export const MAX_PAGE_SIZE = 100;

/** Refuses `first`/`last` above MAX_PAGE_SIZE (or below zero) with a VALIDATION error naming the argument. */
export function refuseOversizedPage(args: { first?: number | null; last?: number | null }) {
  for (const name of ["first", "last"] as const) {
    const size = args[name];
    if (size != null && (size < 0 || size > MAX_PAGE_SIZE)) {
      throw ValidationError.field(name, `Ask for between 0 and ${MAX_PAGE_SIZE} rows a page`);
    }
  }
}
