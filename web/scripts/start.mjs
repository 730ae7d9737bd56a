// The portal's front server: `next start` (or `next dev` with the argument `dev`)
// behind one port, WEB_PORT, that also serves the API same-origin. Each tenant's
// portal answers at `<slug>.<BASE_DOMAIN>`, and a cookie the API sets there
// belongs to that host only, so the API must be reachable under the same host:
// `/graphql` (HTTP and WebSocket, the audit exports under it) and `/branding/`
// go to the API at API_INTERNAL_URL, everything else to Next.js. In production
// the reverse proxy does the same (see README); Node runs this without a POSIX
// shell, so the scripts behave the same on Windows and in CI.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { createServer as createNetServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createProxyServer } from "http-proxy-3";

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
const command = process.argv[2] === "dev" ? "dev" : "start";
const port = Number(process.env.WEB_PORT ?? "3000");
const host = process.env.WEB_HOST;
const apiTarget = process.env.API_INTERNAL_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? "4000"}`;

/** Paths the API answers, under every tenant's host. */
const API_PATH = /^\/(graphql|branding)(\/|\?|$)/;

/** A free loopback port for Next.js itself, which only this server talks to. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address();
      probe.close(() => resolvePort(free));
    });
  });
}

const nextPort = await freePort();
const next = spawn(process.execPath, [nextBin, command, "-p", String(nextPort), "-H", "127.0.0.1"], {
  cwd: webDir,
  stdio: "inherit",
  // Without API_URL the browser talks to the API through this server, same-origin.
  env: { NEXT_TELEMETRY_DISABLED: "1", API_URL: "/graphql", ...process.env },
});

// The Host header is kept (the API judges a request's origin by it, and sets its cookies
// for it); X-Forwarded-For/-Proto tell it who asked, believed only with TRUSTED_PROXIES.
const api = createProxyServer({ target: apiTarget, xfwd: true, ws: true });
const portal = createProxyServer({ target: `http://127.0.0.1:${nextPort}`, xfwd: true, ws: true });
for (const proxy of [api, portal]) {
  proxy.on("error", (error, _req, res) => {
    // A response not yet begun gets a plain 502; a WebSocket is simply closed.
    if (res && "writeHead" in res && !res.headersSent) {
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
      res.end(proxy === api ? "The Latchkey API is not answering." : "The portal is starting; try again in a moment.");
    } else {
      res?.destroy?.();
    }
    if (error.code !== "ECONNREFUSED") console.error(`front server: ${error.message}`);
  });
}

const server = createServer((req, res) => (API_PATH.test(req.url ?? "/") ? api : portal).web(req, res));
server.on("upgrade", (req, socket, head) => (API_PATH.test(req.url ?? "/") ? api : portal).ws(req, socket, head));
server.listen(port, host, () => console.log(`portal on http://${host ?? "localhost"}:${port} (API same-origin at /graphql, from ${apiTarget})`));

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    next.kill(signal);
  });
}
next.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
