// `npm run screenshots`: runs the browser tests and keeps their screenshots as
// the README's pictures (web/tests/screenshots/), which plain test runs leave alone.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// vitest exports no path to its command; its package.json is exported, and the command sits beside it.
const vitest = resolve(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
const child = spawn(process.execPath, [vitest, "run", ...process.argv.slice(2)], {
  cwd: webDir,
  stdio: "inherit",
  env: { ...process.env, LATCHKEY_README_SCREENSHOTS: "1" },
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
