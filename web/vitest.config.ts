import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Each test file starts a real API, a production portal and Chromium: one at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    // Covers a `next build` when the portal has not been built yet.
    hookTimeout: 300_000,
  },
});
