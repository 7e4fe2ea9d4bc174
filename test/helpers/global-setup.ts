import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type LocalStack,
  linkedEnvironment,
  provisionLocalStack,
  requireLambdaNode,
  startLocalPlatform,
} from "@payments/local";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    stack: LocalStack;
    platformStartupSeconds: Record<string, number>;
  }
}

/** Visibility timeout of the test stack's queues: a retry takes seconds; redrive is unchanged. */
export const TEST_VISIBILITY_TIMEOUT_SECONDS = 2;

/**
 * Starts the real local servers once per run, on free loopback ports, and creates the stack's
 * resources on them. A server that cannot start fails the whole run: nothing is skipped.
 * The linked environment (SST_RESOURCE_*, AWS_ENDPOINT_URL_*) is set before the test workers
 * start, so handler code finds the stack the way it finds AWS.
 */
export default async function setup(project: TestProject) {
  // The tests run on Lambda's Node, not the machine's: npm test puts the pinned node first on the PATH.
  requireLambdaNode();
  const logDir = mkdtempSync(join(tmpdir(), "payments-test-"));
  const started = Date.now();
  const platform = await startLocalPlatform({ logDir });
  const stack = await provisionLocalStack(platform, {
    stage: "test",
    visibilityTimeoutSeconds: TEST_VISIBILITY_TIMEOUT_SECONDS,
  });
  Object.assign(process.env, linkedEnvironment(stack));
  console.log(
    `local platform ready in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(${Object.entries(platform.startupSeconds)
        .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
        .join(", ")}); logs in ${logDir}`,
  );
  project.provide("dynamoEndpoint", platform.dynamoEndpoint);
  project.provide("stack", stack);
  project.provide("platformStartupSeconds", platform.startupSeconds);
  return async () => {
    await platform.stop();
  };
}
