// DataLoaders that live as long as one request: a field resolved for every row
// of a page asks once for the whole page. Keyed by the request's context, so
// nothing outlives the request or crosses between viewers.
import DataLoader from "dataloader";
import type { Context } from "./context.ts";

const loaders = new WeakMap<Context, Map<string, DataLoader<string, unknown>>>();

/** The request's loader named `name`, made with `batch` on first use. */
export function requestLoader<V>(
  ctx: Context,
  name: string,
  batch: (keys: readonly string[]) => Promise<V[]>,
  options?: DataLoader.Options<string, V>,
): DataLoader<string, V> {
  let byName = loaders.get(ctx);
  if (!byName) {
    byName = new Map();
    loaders.set(ctx, byName);
  }
  let loader = byName.get(name) as DataLoader<string, V> | undefined;
  if (!loader) {
    loader = new DataLoader(batch, options);
    byName.set(name, loader as DataLoader<string, unknown>);
  }
  return loader;
}
