export { openDatabase, type Database, type DatabaseOptions } from "./database.ts";
export { applyMigrations } from "./migrate.ts";
export * from "../generated/client/client.ts";
