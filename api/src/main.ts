import { loadConfig } from "./config.ts";
import { buildApp } from "./app.ts";

const config = loadConfig();
const app = await buildApp(config);
const url = await app.start();
app.services.log.info("api listening", { url: `${url}/graphql`, database: config.databaseUrl ? "postgresql" : "embedded", pubsub: config.redisUrl ? "redis" : "in-process" });

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
