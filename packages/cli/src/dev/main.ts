/**
 * `npm run dev [-- --fresh]`: the service offline on one machine, against real local servers
 * (SPEC §7). Data lives in .dev/ and survives a restart; --fresh wipes it. Ctrl-C stops everything.
 */

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  linkedEnvironment,
  MissingPrerequisiteError,
  provisionLocalStack,
  type RunningDriver,
  startLocalPlatform,
  startSqsDriver,
  startStripeProxy,
} from "@payments/local";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { values } = parseArgs({ options: { fresh: { type: "boolean", default: false } } });
const root = process.cwd();
const devDir = join(root, ".dev");
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main() {
  if (values.fresh) rmSync(devDir, { recursive: true, force: true });
  mkdirSync(devDir, { recursive: true });
  const started = Date.now();
  console.log("dev: starting DynamoDB Local, moto, Kafka and stripe-mock (installed on first use)…");
  const platform = await startLocalPlatform({
    ports: {
      dynamodb: port("DEV_DYNAMODB_PORT", 8000),
      moto: port("DEV_AWS_PORT", 4566),
      kafka: port("DEV_KAFKA_PORT", 9092),
      stripeMock: port("DEV_STRIPE_MOCK_PORT", 12111),
    },
    dataDir: devDir,
    logDir: join(devDir, "logs"),
  });
  const running: RunningDriver[] = [];
  const proxy = await startStripeProxy({
    stripeMockUrl: platform.stripeMockUrl,
    port: port("DEV_STRIPE_PORT", 12110),
  });
  const stop = async () => {
    console.log("\ndev: stopping…");
    await Promise.all(running.map((d) => d.stop()));
    await proxy.stop();
    await platform.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  // Local runs shorten the visibility timeout so that a retry takes seconds; redrive stays at 3 receives.
  const stack = await provisionLocalStack(platform, { stage: "dev", visibilityTimeoutSeconds: 20 });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }));
  const { handler } = await import("@payments/functions/process-payment");
  const sqs = new SQSClient({});
  for (const queue of [stack.queues.orders, stack.queues.ordersFifo]) {
    running.push(
      startSqsDriver({
        sqs,
        queue,
        handler,
        fn: { name: "process-payment" },
        batchSize: 10,
        batchWindowMs: 500,
      }),
    );
  }

  const description = {
    apiUrl: null,
    token: null,
    awsEndpoint: stack.awsEndpoint,
    region: stack.region,
    tables: stack.tables,
    queues: {
      orders: stack.queues.orders.url,
      ordersDlq: stack.queues.ordersDlq.url,
      ordersFifo: stack.queues.ordersFifo.url,
      downstream: stack.queues.downstream.url,
    },
    bus: stack.bus.name,
    kafka: { brokers: stack.kafka.brokers, topic: stack.kafka.topic },
    stripeUrl: proxy.url,
    dynamoEndpoint: stack.dynamoEndpoint,
  };
  writeFileSync(join(devDir, "stack.json"), `${JSON.stringify(description, null, 2)}\n`);
  console.log(`
dev: ready in ${((Date.now() - started) / 1000).toFixed(1)} s — .dev/stack.json describes it all
  DynamoDB Local     ${stack.dynamoEndpoint}   tables ${stack.tables.events}, ${stack.tables.readModels}
  SQS, EventBridge   ${stack.awsEndpoint}   (moto: also Secrets Manager, SSM)
  order queue        ${stack.queues.orders.url}
  order queue (FIFO) ${stack.queues.ordersFifo.url}
  Kafka              ${stack.kafka.brokers.join(",")}   topic ${stack.kafka.topic}
  Stripe API         ${proxy.url}   (our proxy in front of stripe-mock ${stack.stripeMockUrl})
  process-payment    polling both order queues, batch 10, partial batch responses
  REST API           not yet: it arrives with the API work (apiUrl and token in stack.json are null until then)
  secrets            from the environment, else the dev defaults: ${Object.entries(stack.secretValues)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}
Try: aws --endpoint-url ${stack.awsEndpoint} sqs send-message --queue-url ${stack.queues.orders.url} \\
       --message-body '{"order_id":"ord-1","amount":"25.99","payment_method_id":"pm_card_visa"}'
Ctrl-C stops everything; data stays in .dev/ (npm run dev -- --fresh wipes it).`);
}

main().catch((error) => {
  if (error instanceof MissingPrerequisiteError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
