import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "events/**/*.test.ts", "test/**/*.test.ts"],
    // Starts the real local servers once per run and stops what it started.
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
