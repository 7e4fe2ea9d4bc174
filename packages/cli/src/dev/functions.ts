import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type LocalStack,
  type RunningDriver,
  startDynamoDbStreamDriver,
  startScheduleDriver,
  startSqsDriver,
  streamFailureMessage,
  tableStreamArn,
} from "@payments/local";
import {
  eventItemFilter,
  orderStatusSubscription,
  orderSubscription,
  schedules,
  streamSubscriptions,
} from "@payments/topology";
import type { DynamoDBRecord } from "aws-lambda";

export interface FunctionDriverOptions {
  /** The sweeper's period locally (its schedule is every minute on AWS); timing only. */
  readonly sweeperPeriodMs?: number;
  /** The reconciler's period locally (every 5 minutes on AWS; SPEC §6.1 says every 15 s in dev). */
  readonly reconcilerPeriodMs?: number;
  readonly orderBatchWindowMs?: number;
}

/**
 * Drives every Lambda of the service from the local stack the way AWS drives it: both order
 * queues → process-payment; the event table's stream → projector and outbox relay (event items
 * only, bisect, retries, on-failure queues); the bus rule's queue → order-status; schedules →
 * sweeper, cleanup and reconciler. The linked environment must be set before this is called.
 */
export async function startFunctionDrivers(
  stack: LocalStack,
  options: FunctionDriverOptions = {},
): Promise<RunningDriver[]> {
  const [processPayment, projector, relay, sweeper, cleanup, orderStatus, reconciler] = await Promise.all([
    import("@payments/functions/process-payment"),
    import("@payments/functions/projector"),
    import("@payments/functions/outbox-relay"),
    import("@payments/functions/outbox-relay/sweeper"),
    import("@payments/functions/outbox-relay/cleanup"),
    import("@payments/functions/order-status"),
    import("@payments/functions/reconciler"),
  ]);
  const sqs = new SQSClient({});
  const streams = new DynamoDBStreamsClient({});
  const streamArn = await tableStreamArn(new DynamoDBClient({}), stack.tables.events);
  /** Sends what Lambda sends to a stream subscription's on-failure queue. */
  const onFailureTo =
    (queueUrl: string, name: string) => async (records: DynamoDBRecord[], error: string, shardId: string) => {
      console.error(
        `[${name}] ${records.length} record(s) given up after retries (${error}); sent to the on-failure queue`,
      );
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(streamFailureMessage(records, shardId, streamArn, error)),
        }),
      );
    };
  const drivers: RunningDriver[] = [];
  for (const queue of [stack.queues.orders, stack.queues.ordersFifo]) {
    drivers.push(
      startSqsDriver({
        sqs,
        queue,
        handler: processPayment.handler,
        fn: { name: "process-payment" },
        batchSize: orderSubscription.batchSize,
        batchWindowMs: options.orderBatchWindowMs ?? 500,
      }),
    );
  }
  drivers.push(
    startDynamoDbStreamDriver({
      streams,
      streamArn,
      handler: projector.handler,
      fn: { name: "projector" },
      filters: [eventItemFilter],
      // From the oldest record kept: both subscribers are idempotent, and nothing written while dev
      // was stopping is missed after a restart.
      startingPosition: "TRIM_HORIZON",
      ...streamSubscriptions.projector,
      onFailure: onFailureTo(stack.queues.projectorFailures.url, "projector"),
    }),
    startDynamoDbStreamDriver({
      streams,
      streamArn,
      handler: relay.handler,
      fn: { name: "outbox-relay" },
      filters: [eventItemFilter],
      startingPosition: "TRIM_HORIZON",
      ...streamSubscriptions.relay,
      onFailure: onFailureTo(stack.queues.relayFailures.url, "outbox-relay"),
    }),
    startSqsDriver({
      sqs,
      queue: stack.queues.orderStatus,
      handler: orderStatus.handler,
      fn: { name: "order-status" },
      batchSize: orderStatusSubscription.batchSize,
      batchWindowMs: 200,
    }),
    startScheduleDriver({
      expression: schedules.sweeper.expression,
      periodMs: options.sweeperPeriodMs,
      handler: sweeper.handler,
      fn: { name: "outbox-sweeper", timeoutMs: 60_000 },
    }),
    startScheduleDriver({
      expression: schedules.cleanup.expression,
      handler: cleanup.handler,
      fn: { name: "outbox-cleanup", timeoutMs: 300_000 },
    }),
    startScheduleDriver({
      expression: schedules.reconciler.expression,
      periodMs: options.reconcilerPeriodMs,
      handler: reconciler.handler,
      fn: { name: "reconciler", timeoutMs: 240_000 },
    }),
  );
  return drivers;
}
