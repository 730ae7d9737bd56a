// axe-core run inside the page under test: the portal issue asks for keyboard and
// screen-reader friendly pages. The script is read from node_modules, so no network.
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = require.resolve("axe-core/axe.min.js");

/**
 * WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices, which hold the heading
 * order, landmark and region rules a screen-reader user navigates by.
 */
const RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/**
 * Fails with every violation axe finds on the page as it is shown now: rule id, impact, the
 * elements' selectors and what to do about it. Call it once the page has settled.
 */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // After a client-side navigation Next.js sets the new page's title a moment after its
  // content: the page has not settled until it has one.
  await page.waitForFunction(() => document.title !== "");
  // A full navigation replaces the window, and axe with it.
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: axeSource });
  const violations = await page.evaluate(async (tags) => {
    const { axe } = window as unknown as { axe: typeof import("axe-core") };
    const results = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? "unknown",
      help: violation.help,
      helpUrl: violation.helpUrl,
      targets: violation.nodes.map((node) => node.target.join(" ")),
    }));
  }, RULE_TAGS);
  if (violations.length === 0) return;
  const report = violations
    .map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join("\n    ")}\n    ${v.helpUrl}`)
    .join("\n");
  throw new Error(`axe found ${violations.length} accessibility violation(s) on ${where}:\n${report}`);
}
