// Writes schema/schema.graphql, the committed contract codegen and reviewers read.
import { writeFileSync } from "node:fs";
import { printSchema, lexicographicSortSchema } from "graphql";
import { schema } from "./index.ts";

const target = new URL("../schema.graphql", import.meta.url);
writeFileSync(target, `${printSchema(lexicographicSortSchema(schema))}\n`);
console.log(`wrote ${target.pathname}`);
