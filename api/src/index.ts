export { buildApp, type App } from "./app.ts";
export { loadConfig, type Config } from "./config.ts";
