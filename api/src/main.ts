import { loadConfig, type Config } from "./config.ts";
import { buildApp, type App } from "./app.ts";
import { DataDirError } from "./data-dir.ts";
import { shutdownTracing } from "./observability/tracing.ts";
import { SecretMismatchError } from "./secret-fingerprints.ts";

let config: Config;
let app: App;
try {
  config = loadConfig();
  app = await buildApp(config);
} catch (error) {
  // A refusal (a missing key, secrets that are not the deployment's, DATA_DIR
  // open to others) says what to do in its message; its stack adds nothing.
  const refusal =
    error instanceof SecretMismatchError || error instanceof DataDirError || (error instanceof Error && error.message.startsWith("Invalid configuration"));
  console.error(refusal ? (error as Error).message : error);
  process.exit(1);
}
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
