import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { LOCAL_REGION } from "../platform";
import type { QueueHandle } from "../resources/sqs-queues";
import { createLambdaContext, type FunctionConfig, logInvocation } from "./lambda-context";

// biome-ignore lint/suspicious/noConfusingVoidType: handlers with nothing to report return nothing, as Lambda allows.
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined | void>;

export interface SqsDriverOptions {
  readonly sqs: SQSClient;
  readonly queue: QueueHandle;
  readonly handler: SqsHandler;
  readonly fn: FunctionConfig;
  /** Records per invocation, at most 10 (SPEC §4.1: 10). */
  readonly batchSize?: number;
  /** How long to gather records before invoking with fewer than batchSize. */
  readonly batchWindowMs?: number;
}

export interface RunningDriver {
  /** Invocations so far. */
  readonly invocations: () => number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Turns an SQS message into the record Lambda hands a function. */
export function toSqsRecord(message: Message, queue: QueueHandle): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, v]) => [
        name,
        {
          stringValue: v.StringValue,
          binaryValue: v.BinaryValue?.toString(),
          dataType: v.DataType ?? "String",
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queue.arn,
    awsRegion: LOCAL_REGION,
  };
}

/**
 * Drives a function from a queue the way Lambda's SQS event source does: polls, gathers a batch
 * (batch size and window), invokes with a real SQSEvent, and deletes only the records that did not
 * fail (partial batch response). A failed record is left alone: it reappears after the visibility
 * timeout, and the queue's redrive policy moves it to the DLQ after maxReceiveCount receives.
 * A handler that throws fails the whole batch.
 */
export function startSqsDriver(options: SqsDriverOptions): RunningDriver {
  const batchSize = Math.min(10, options.batchSize ?? 10);
  const windowMs = options.batchWindowMs ?? 200;
  let running = true;
  let invocations = 0;

  const receive = async (max: number, waitSeconds: number) => {
    const { Messages } = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queue.url,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    return Messages ?? [];
  };

  const loop = async () => {
    while (running) {
      let messages: Message[];
      try {
        messages = await receive(batchSize, 1);
        const deadline = Date.now() + windowMs;
        while (running && messages.length > 0 && messages.length < batchSize && Date.now() < deadline) {
          const more = await receive(batchSize - messages.length, 0);
          if (more.length === 0) await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
          messages.push(...more);
        }
      } catch (error) {
        if (!running) break;
        console.error(`[${options.fn.name}] sqs receive failed: ${(error as Error).message}`);
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      try {
        await invoke(messages);
      } catch (error) {
        // The records not deleted come back after the visibility timeout, as on AWS.
        console.error(`[${options.fn.name}] could not settle a batch: ${(error as Error).message}`);
      }
    }
  };

  const invoke = async (messages: Message[]) => {
    const started = Date.now();
    invocations++;
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, options.queue)) };
    let failed: Set<string>;
    try {
      const response = await options.handler(event, createLambdaContext(options.fn));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      console.error(
        `[${options.fn.name}] invocation failed, the whole batch will be retried: ${(error as Error).message}`,
      );
      failed = new Set(messages.map((m) => m.MessageId!));
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (options.queue.name.endsWith(".fifo"))
      await keepFailedGroupsInOrder(messages.filter((m) => failed.has(m.MessageId!)));
    for (let i = 0; i < done.length; i += 10) {
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queue.url,
          Entries: done.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    logInvocation(options.fn, "sqs", `batch of ${messages.length}, ${failed.size} failed`, started);
  };

  /**
   * SQS redelivers a failed FIFO group in order once its messages become visible again. moto
   * does not when several messages of one group turn visible together: it hands out the last
   * first. So only the first failed message of each group is left in flight; the rest of the group
   * is made visible at once. moto then holds the whole group back (one of it is in flight) and
   * returns it in order when the first one comes back, as SQS would. Receive counts, and so
   * redrive to the DLQ, stay as on AWS: every message of the group is received once more.
   */
  const keepFailedGroupsInOrder = async (failedMessages: Message[]) => {
    const seenGroups = new Set<string>();
    const release: Message[] = [];
    for (const m of failedMessages) {
      const group = m.Attributes?.MessageGroupId ?? "";
      if (seenGroups.has(group)) release.push(m);
      else seenGroups.add(group);
    }
    for (let i = 0; i < release.length; i += 10) {
      await options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queue.url,
          Entries: release
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    }
  };

  const finished = loop();
  return {
    invocations: () => invocations,
    async stop() {
      running = false;
      await finished;
    },
  };
}
