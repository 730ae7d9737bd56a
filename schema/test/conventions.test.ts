// The public API's conventions (STYLE.md) that graphql-eslint's presets do not
// check, read off the committed SDL as integrators see it.
import { readFileSync } from "node:fs";
import {
  buildSchema,
  getNamedType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLOutputType,
} from "graphql";
import { describe, expect, it } from "vitest";

const schema = buildSchema(readFileSync(new URL("../schema.graphql", import.meta.url), "utf8"));
const node = schema.getType("Node");
const objectTypes = Object.values(schema.getTypeMap()).filter(isObjectType).filter((type) => !type.name.startsWith("__"));
const fields = objectTypes.flatMap((type) => Object.values(type.getFields()).map((field) => ({ coordinate: `${type.name}.${field.name}`, field })));

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

const implementsNode = (field: GraphQLField<unknown, unknown>) => {
  const named = getNamedType(field.type);
  return isObjectType(named) && isInterfaceType(node) && named.getInterfaces().includes(node);
};

describe("the public API's conventions", () => {
  it("pages every list of objects with an id of their own through a connection", () => {
    const plainLists = fields
      .filter(({ field }) => isList(field.type) && implementsNode(field) && !field.deprecationReason)
      .map(({ coordinate }) => coordinate);
    // Small, bounded lists the viewer holds about themselves or a workstation's agent asks for.
    expect(plainLists).toEqual([]);
  });

  it("has one connection type per node type, named for it", () => {
    const connections = fields.filter(({ field }) => getNamedType(field.type).name.endsWith("Connection"));
    for (const { coordinate, field } of connections) {
      const edges = (getNamedType(field.type) as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields().edges!;
      const nodeType = getNamedType((getNamedType(edges.type) as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields().node!.type);
      expect(getNamedType(field.type).name, coordinate).toBe(`${nodeType.name}Connection`);
    }
    expect(connections.length).toBeGreaterThan(10);
  });

  it("gives every deprecation a removal date", () => {
    for (const { coordinate, field } of fields.filter(({ field }) => field.deprecationReason)) {
      expect(field.deprecationReason ?? "", coordinate).toMatch(/removed after \d{4}-\d{2}-\d{2}/i);
    }
  });
});
