// `prisma generate` with the Prisma 7 CLI, offline. Every Prisma 7 command first
// downloads its native schema engine unless PRISMA_SCHEMA_ENGINE_BINARY names an
// existing file; generate never runs that engine, so node's own executable will do.
// The CLI is called by path: the authoring CLI (prisma6) installs a `prisma` bin too.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
const { status, error } = spawnSync(process.execPath, [cli, "generate", ...process.argv.slice(2)], {
  cwd: fileURLToPath(new URL("..", import.meta.url)),
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
    CHECKPOINT_DISABLE: "1",
  },
});
if (error) throw error;
process.exit(status ?? 1);
