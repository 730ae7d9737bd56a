// Where browser tests save their screenshots: an ignored folder on every run,
// so `npm test` leaves the working tree as it found it; the README's pictures
// in tests/screenshots/ only when `npm run screenshots` asks for them.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function screenshotPath(name: string): Promise<string> {
  const dir = process.env.LATCHKEY_README_SCREENSHOTS === "1" ? join(webDir, "tests", "screenshots") : join(webDir, "test-results", "screenshots");
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}
