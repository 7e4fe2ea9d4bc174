import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startDynamoDbLocal } from "@payments/local";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/**
 * Starts the local servers the integration tests need, once per run, on free loopback ports.
 * A server that cannot start fails the run: nothing is skipped.
 */
export default async function setup(project: TestProject) {
  const logDir = mkdtempSync(join(tmpdir(), "payments-test-logs-"));
  const dynamo = await startDynamoDbLocal({ port: await freePort(), logDir });
  project.provide("dynamoEndpoint", dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
