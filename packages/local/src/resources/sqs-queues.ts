import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { physicalName, type QueueDefinition } from "@payments/topology";

export interface QueueHandle {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface QueueOptions {
  readonly stage: string;
  /**
   * A shorter visibility timeout for local runs, so that a retry or a DLQ test takes seconds.
   * It changes timing only: redrive still happens after maxReceiveCount receives.
   */
  readonly visibilityTimeoutSeconds?: number;
}

/**
 * Creates queues (dead-letter queues first) from their definitions, idempotently: creating an
 * existing queue with the same attributes returns it.
 */
export async function ensureQueues<K extends string>(
  sqs: SQSClient,
  definitions: Readonly<Record<K, QueueDefinition>>,
  options: QueueOptions,
): Promise<Record<K, QueueHandle>> {
  const byName = new Map<string, QueueHandle>();
  const entries = Object.entries(definitions) as Array<[K, QueueDefinition]>;
  // Queues that others redrive into come first.
  entries.sort(([, a], [, b]) => Number(Boolean(a.deadLetter)) - Number(Boolean(b.deadLetter)));
  const out = {} as Record<K, QueueHandle>;
  for (const [key, def] of entries) {
    const name = physicalName(options.stage, def.name, { fifo: def.fifo });
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? def.visibilityTimeoutSeconds),
    };
    if (def.fifo) attributes.FifoQueue = "true";
    if (def.contentBasedDeduplication) attributes.ContentBasedDeduplication = "true";
    if (def.deadLetter) {
      const dlq = byName.get(def.deadLetter.queue);
      if (!dlq)
        throw new Error(`queue ${def.name} redrives into ${def.deadLetter.queue}, which is not defined`);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: def.deadLetter.maxReceiveCount,
      });
    }
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const handle = { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
    byName.set(def.name, handle);
    out[key] = handle;
  }
  return out;
}
