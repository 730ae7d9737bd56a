// `next start -p ${WEB_PORT:-3000}` (or `next dev` with the argument `dev`) without relying
// on a POSIX shell, so the scripts behave the same on Windows and in CI.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
const command = process.argv[2] === "dev" ? "dev" : "start";

const args = [nextBin, command, "-p", process.env.WEB_PORT ?? "3000"];
if (process.env.WEB_HOST) args.push("-H", process.env.WEB_HOST);

const next = spawn(process.execPath, args, {
  cwd: webDir,
  stdio: "inherit",
  env: { NEXT_TELEMETRY_DISABLED: "1", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => next.kill(signal));
}
next.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
