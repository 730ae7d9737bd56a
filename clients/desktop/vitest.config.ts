import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The CLI tests start a process (tsx) per command.
    testTimeout: 30_000,
  },
});
