import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ensureQueues } from "@payments/local";
import type { QueueDefinition } from "@payments/topology";
import { TEST_VISIBILITY_TIMEOUT_SECONDS } from "./global-setup";

/**
 * A queue and its DLQ (redrive after 3 receives, or `maxReceiveCount`) of a test's own, so that
 * tests never share messages.
 */
export async function freshQueues(sqs: SQSClient, { fifo = false, maxReceiveCount = 3 } = {}) {
  const suffix = randomUUID().slice(0, 8);
  const definitions: Record<"main" | "dlq", QueueDefinition> = {
    dlq: { name: `Dlq${suffix}`, fifo, contentBasedDeduplication: fifo, visibilityTimeoutSeconds: 30 },
    main: {
      name: `Main${suffix}`,
      fifo,
      contentBasedDeduplication: fifo,
      visibilityTimeoutSeconds: 30,
      deadLetter: { queue: `Dlq${suffix}`, maxReceiveCount },
    },
  };
  return ensureQueues(sqs, definitions, {
    stage: "test",
    visibilityTimeoutSeconds: TEST_VISIBILITY_TIMEOUT_SECONDS,
  });
}
