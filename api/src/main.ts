import { loadConfig } from "./config.ts";
import { buildApp } from "./app.ts";
import { shutdownTracing } from "./observability/tracing.ts";

const config = loadConfig();
const app = await buildApp(config);
const url = await app.start();
app.services.log.info("api listening", { url: `${url}/graphql`, database: config.databaseUrl ? "postgresql" : "embedded", pubsub: config.redis ? (config.redis.clusterNodes ? "redis cluster" : config.redis.sentinels ? "redis sentinel" : "redis") : "in-process" });

// SIGTERM (what an orchestrator sends) and SIGINT drain: no new connections,
// /readyz answers 503, WebSocket clients are told to reconnect elsewhere, and
// in-flight requests get SHUTDOWN_GRACE_SECONDS to finish. A second signal
// exits at once.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    app.services.log.info("stopping", { signal });
    app.drain().then(
      () => shutdownTracing().then(() => process.exit(0)),
      (error: unknown) => {
        app.services.log.error("stop failed", { error: String(error) });
        process.exit(1);
      },
    );
  });
}
