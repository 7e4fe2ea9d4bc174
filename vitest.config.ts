import { defineConfig } from "vitest/config";

// The SDK warns on every process that Node 20 support ends in 2027; the warning is known, and noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "events/**/*.test.ts", "test/**/*.test.ts"],
    // Starts the real local servers once per run and stops what it started.
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
