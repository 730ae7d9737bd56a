// The Relay `Node` interface over the ids objects already have: UUIDs, unique
// across every type and never re-encoded (phone signatures and sealed
// instructions bind them). Only `node(id:)` / `nodes(ids:)` answer it as an
// interface; they tag each row with its type, which `resolveType` reads.
import { builder } from "./builder.ts";

const NODE_TYPE = Symbol("node type");

/** The row `node`/`nodes` found, marked as a `typeName`. */
export function asNode<Row extends object>(row: Row, typeName: string): Row {
  return Object.defineProperty(row, NODE_TYPE, { value: typeName, enumerable: false });
}

export const NodeInterface = builder.interfaceRef<{ id: string }>("Node").implement({
  description: "An object with an id of its own: a UUID, unique across every type, that `node(id:)` fetches again.",
  resolveType: (row) => (row as { [NODE_TYPE]?: string })[NODE_TYPE] ?? null,
  fields: (t) => ({
    id: t.exposeID("id", { description: "The object's id: a UUID, unique across every type." }),
  }),
});
