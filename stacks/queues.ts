import { queues } from "../packages/topology/src";

const seconds = (n: number) => `${n} seconds` as const;

export const orderDlq = new sst.aws.Queue(queues.ordersDlq.name);

/** The order queue: payment requests; three receives, then the DLQ (SPEC §4.1). */
export const orderQueue = new sst.aws.Queue(queues.orders.name, {
  visibilityTimeout: seconds(queues.orders.visibilityTimeoutSeconds),
  dlq: { queue: orderDlq.arn, retry: queues.orders.deadLetter.maxReceiveCount },
});

export const orderDlqFifo = new sst.aws.Queue(queues.ordersFifoDlq.name, { fifo: true });

/** The FIFO variant: one payment's messages in order, a failure stops only its group. */
export const orderQueueFifo = new sst.aws.Queue(queues.ordersFifo.name, {
  fifo: { contentBasedDeduplication: queues.ordersFifo.contentBasedDeduplication },
  visibilityTimeout: seconds(queues.ordersFifo.visibilityTimeoutSeconds),
  dlq: { queue: orderDlqFifo.arn, retry: queues.ordersFifo.deadLetter.maxReceiveCount },
});

/** Receives the example downstream rule's events unchanged. */
export const downstreamQueue = new sst.aws.Queue(queues.downstream.name);

/** Where the projector's stream subscription sends the records it gave up on. */
export const projectorFailures = new sst.aws.Queue(queues.projectorFailures.name);

/** Where the relay's stream subscription sends the batches it gave up on; the sweeper drains it. */
export const relayFailures = new sst.aws.Queue(queues.relayFailures.name, {
  visibilityTimeout: seconds(queues.relayFailures.visibilityTimeoutSeconds),
});

export const orderStatusDlq = new sst.aws.Queue(queues.orderStatusDlq.name);

/** The order-status rule's target: payment outcomes, three receives, then the DLQ (SPEC §5). */
export const orderStatusQueue = new sst.aws.Queue(queues.orderStatus.name, {
  visibilityTimeout: seconds(queues.orderStatus.visibilityTimeoutSeconds),
  dlq: { queue: orderStatusDlq.arn, retry: queues.orderStatus.deadLetter.maxReceiveCount },
});
