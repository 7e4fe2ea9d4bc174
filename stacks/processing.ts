import { functionHandlers, orderSubscription } from "../packages/topology/src";
import { stripe } from "./config";
import { fraudEnvironment, lambdaDefaults } from "./functions";
import { orderQueue, orderQueueFifo } from "./queues";
import { secrets } from "./secrets";
import { eventStore, readModels } from "./storage";

/** process-payment: the order queues' consumer (SPEC §4.1), batch 10 with partial responses. */
const processPayment = {
  ...lambdaDefaults,
  handler: functionHandlers.processPayment,
  // The queues keep messages invisible for 180 s: six times this, as AWS advises for SQS event sources.
  timeout: "30 seconds" as const,
  memory: "1024 MB" as const,
  link: [eventStore, readModels, secrets.StripeSecretKey, stripe],
  environment: fraudEnvironment,
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
