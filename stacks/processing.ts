import { orderSubscription } from "../packages/topology/src";
import { stripe } from "./config";
import { orderQueue, orderQueueFifo } from "./queues";
import { secrets } from "./secrets";
import { eventStore, readModels } from "./storage";

/** process-payment: the order queues' consumer (SPEC §4.1), batch 10 with partial responses. */
const processPayment = {
  handler: "packages/functions/src/process-payment/handler.handler",
  runtime: "nodejs20.x" as const,
  architecture: "arm64" as const,
  // The queues keep messages invisible for 180 s: six times this, as AWS advises for SQS event sources.
  timeout: "30 seconds" as const,
  memory: "1024 MB" as const,
  link: [eventStore, readModels, secrets.StripeSecretKey, stripe],
  environment: { DEFAULT_CURRENCY: "usd", FRAUD_REVIEW_AT: "60", FRAUD_REJECT_AT: "85" },
  nodejs: { format: "esm" as const, minify: true },
};

const batch = {
  size: orderSubscription.batchSize,
  window: `${orderSubscription.maxBatchingWindowSeconds} second` as const,
  partialResponses: orderSubscription.partialBatchResponse,
};

export const subscribers = [
  orderQueue.subscribe({ ...processPayment, name: "ProcessPayment" }, { batch }),
  orderQueueFifo.subscribe({ ...processPayment, name: "ProcessPaymentFifo" }, { batch }),
];
