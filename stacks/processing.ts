import { functionHandlers, orderSubscription } from "../packages/topology/src";
import { stripe } from "./config";
import { fraudEnvironment, lambdaDefaults } from "./functions";
import { orderQueue, orderQueueFifo } from "./queues";
import { secrets } from "./secrets";
import { eventStore, readModels } from "./storage";

/** process-payment: the order queues' consumer (SPEC §4.1), batch 10 with partial responses. */
/** Seed 000 capped Stripe load at 10: reserved concurrency and the event source's cap (SPEC §8). */
const concurrency = Number(process.env.PROCESS_PAYMENT_CONCURRENCY ?? orderSubscription.reservedConcurrency);

const processPayment = {
  ...lambdaDefaults,
  concurrency: { reserved: concurrency },
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

/** SQS's own cap on the invocations it starts (at least 2), so that it never throttles on the reserve. */
const scaling = {
  transform: {
    eventSourceMapping: {
      scalingConfig: {
        maximumConcurrency: Math.max(2, Math.min(concurrency, orderSubscription.maximumConcurrency)),
      },
    },
  },
};

export const subscribers = [
  orderQueue.subscribe({ ...processPayment, name: "ProcessPayment" }, { batch, ...scaling }),
  orderQueueFifo.subscribe({ ...processPayment, name: "ProcessPaymentFifo" }, { batch, ...scaling }),
];
