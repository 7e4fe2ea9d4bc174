import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger, metrics, traced, withColdStartMetric } from "../shared/observability";
import { logSpan, traceIdOf } from "../shared/trace";
import { createOrderStatusWriter } from "./order-status";

const writer = lazy(() => {
  const client = traced(new DynamoDBClient({}));
  return createOrderStatusWriter({
    store: createDynamoEventStore({ client, tableName: Resource.EventStore.name }),
    client,
    ordersTable: process.env.ORDERS_TABLE || Resource.Orders.name,
    statusAttribute: process.env.ORDER_STATUS_ATTRIBUTE || undefined,
  });
});
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  const started = Date.now();
  const message = JSON.parse(record.body);
  const outcome = await writer()(message);
  logSpan("order-status", message?.detail?.metadata?.traceparent, started, {
    type: message?.["detail-type"],
    outcome: outcome.outcome,
  });
  // The trace the event was appended in (SPEC §5): one line per outcome carries its id.
  const fields = {
    messageId: record.messageId,
    traceId: traceIdOf(message?.detail?.metadata?.traceparent),
    ...outcome,
  };
  if (outcome.outcome === "order_missing") {
    // Never created, never retried: the order service has no such order (an unmatched payment's
    // order id, or an order deleted there). Logged and counted for a person.
    logger.warn("order status: no such order; nothing written", fields);
    metrics.addMetric("OrderStatusOrderMissing", MetricUnit.Count, 1);
  } else logger.info("order status", fields);
}

/**
 * order-status (SPEC §5): the bus rule's queue, batch 10, partial batch responses. A message that
 * fails goes back to the queue and, after its receives, to the DLQ.
 */
export const handler = withColdStartMetric(async (event: SQSEvent, context: Context) => {
  try {
    return await processPartialResponse(event, recordHandler, processor, { context });
  } finally {
    metrics.publishStoredMetrics();
  }
});
