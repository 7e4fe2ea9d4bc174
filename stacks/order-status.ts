import { functionHandlers, orderStatusSubscription } from "../packages/topology/src";
import { lambdaDefaults } from "./functions";
import { orderStatusQueue } from "./queues";
import { eventStore, orders } from "./storage";

/**
 * order-status (SPEC §5): the bus rule's queue → the outcome written on the order's item, guarded
 * by payment_version. It reads the payment's stream (the events after PaymentInitiated carry no
 * order id) and has GetItem/UpdateItem on the orders table, nothing more there.
 */
export const orderStatus = orderStatusQueue.subscribe(
  {
    ...lambdaDefaults,
    name: "OrderStatus",
    handler: functionHandlers.orderStatus,
    timeout: "30 seconds",
    memory: "512 MB",
    link: [eventStore, orders],
  },
  {
    batch: {
      size: orderStatusSubscription.batchSize,
      partialResponses: orderStatusSubscription.partialBatchResponse,
    },
  },
);
