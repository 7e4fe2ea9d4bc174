import { functionHandlers, orderStatusSubscription } from "../packages/topology/src";
import { lambdaDefaults } from "./functions";
import { orderStatusQueue } from "./queues";
import { eventStore, orders } from "./storage";

/**
 * order-status (SPEC §5): the bus rule's queue → the outcome written on the order's item, guarded
 * by payment_version. It reads the payment's stream (the events after PaymentInitiated carry no
 * order id) and has GetItem/UpdateItem on the orders table, nothing more there. It updates only
 * orders that exist: a missing one is logged and counted (`OrderStatusOrderMissing`), never created.
 */
export const orderStatus = orderStatusQueue.subscribe(
  {
    ...lambdaDefaults,
    name: "OrderStatus",
    handler: functionHandlers.orderStatus,
    timeout: "30 seconds",
    memory: "512 MB",
    link: [eventStore, orders],
    // The order's own status attribute, by name, when the order service reads one (off by default).
    environment: process.env.ORDER_STATUS_ATTRIBUTE
      ? { ORDER_STATUS_ATTRIBUTE: process.env.ORDER_STATUS_ATTRIBUTE }
      : {},
  },
  {
    batch: {
      size: orderStatusSubscription.batchSize,
      partialResponses: orderStatusSubscription.partialBatchResponse,
    },
  },
);
