import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  ensureQueues,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalStack,
  linkedEnvironment,
  startSqsDriver,
  startStripeProxy,
} from "@payments/local";
import { percentile } from "./measure";

export interface ProcessorBenchResult {
  readonly messages: number;
  readonly pollers: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly outcomes: Record<string, number>;
}

/**
 * End-to-end throughput of process-payment: messages sent to a real (moto) queue, driven by the
 * SQS driver into the real handler, which writes to DynamoDB Local and charges through the proxy
 * in front of stripe-mock. Latency is from SentTimestamp to the end of the message's batch.
 */
export async function runProcessorBench(
  stack: LocalStack,
  { messages, pollers, log }: { messages: number; pollers: number; log: (line: string) => void },
): Promise<ProcessorBenchResult> {
  const proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    PAYMENTS_LOCAL_QUIET: "1",
  });
  const { handler } = await import("@payments/functions/process-payment");
  const sqs = new SQSClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: stack.awsEndpoint,
  });
  const run = Date.now().toString(36);
  const queues = await ensureQueues(
    sqs,
    {
      dlq: { name: `BenchDlq${run}`, fifo: false, visibilityTimeoutSeconds: 30 },
      main: {
        name: `Bench${run}`,
        fifo: false,
        visibilityTimeoutSeconds: 30,
        deadLetter: { queue: `BenchDlq${run}`, maxReceiveCount: 3 },
      },
    },
    { stage: "bench" },
  );

  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let done = 0;
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const drivers = Array.from({ length: pollers }, () =>
    startSqsDriver({
      sqs,
      queue: queues.main,
      fn: { name: "process-payment" },
      batchWindowMs: 50,
      handler: async (event, context) => {
        const response = await handler(event, context);
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        const now = Date.now();
        for (const record of event.Records) {
          if (failed.has(record.messageId)) continue;
          latencies.push(now - Number(record.attributes.SentTimestamp));
          done++;
        }
        outcomes.processed = done;
        outcomes.retried = (outcomes.retried ?? 0) + failed.size;
        if (done >= messages) finished();
        return response;
      },
    }),
  );

  log(`processor bench: sending ${messages} messages, ${pollers} pollers…`);
  const started = Date.now();
  for (let i = 0; i < messages; i += 10) {
    const entries = Array.from({ length: Math.min(10, messages - i) }, (_, j) => ({
      Id: String(j),
      MessageBody: JSON.stringify({
        order_id: `bench-${run}-${i + j}`,
        customer_id: `cus-${run}-${(i + j) % 500}`,
        amount: "25.99",
        payment_method_id: "pm_card_visa",
      }),
    }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queues.main.url, Entries: entries }));
  }
  await allDone;
  const seconds = (Date.now() - started) / 1000;
  await Promise.all(drivers.map((d) => d.stop()));
  await proxy.stop();
  sqs.destroy();
  latencies.sort((a, b) => a - b);
  return {
    messages,
    pollers,
    seconds,
    messagesPerSecond: messages / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    outcomes,
  };
}
