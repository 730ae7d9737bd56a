// Runs the Prisma 6.19 CLI (the `prisma6` alias) with scripts/authoring.config.ts.
// It is called by path: its `prisma` bin and Prisma 7's share one name in
// node_modules/.bin. Its schemas are temporary copies of ours with the datasource
// url put back, which Prisma 6 requires and Prisma 7 refuses.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));
const cli = createRequire(import.meta.url).resolve("prisma6/build/index.js");
const config = fileURLToPath(new URL("authoring.config.ts", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "latchkey-schema-"));
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));

/** Writes `schema` (the text of a schema.prisma) where Prisma 6 can read it; returns its path. */
export function authoringSchema(name: string, schema: string): string {
  const path = join(workDir, `${name}.prisma`);
  const withUrl = schema.replace(/(datasource\s+\w+\s*\{)([^}]*)\}/, (block, open: string, body: string) =>
    /^\s*url\s*=/m.test(body) ? block : `${open}${body}  url = env("DATABASE_URL")\n}`,
  );
  writeFileSync(path, withUrl);
  return path;
}

/** Runs `prisma <args>` with Prisma 6; stdout is returned, stderr passes through. */
export function runAuthoringCli(args: string[]): { status: number; stdout: string } {
  const result = spawnSync(process.execPath, [cli, ...args, "--config", config], {
    cwd: packageDir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      ...process.env,
      // Read by the datasource block of the copies; no command here connects to it.
      DATABASE_URL: "postgresql://embedded/pglite",
      // Any existing file stops Prisma 6 downloading a query engine; the js engine never loads it.
      PRISMA_QUERY_ENGINE_LIBRARY: process.execPath,
      CHECKPOINT_DISABLE: "1",
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout };
}
