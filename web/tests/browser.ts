// Debian's Chromium, driven by playwright-core, as every browser test launches it.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A fresh machine may not have Chromium (`apt-get install chromium`); CI installs it and always runs these. */
export const browserMissing = !existsSync(chromiumPath) && !process.env.CI;

/** `extraArgs`, e.g. host-resolver rules that send tenants' addresses to loopback. */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
