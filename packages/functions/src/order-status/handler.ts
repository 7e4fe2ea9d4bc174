import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger } from "../shared/observability";
import { createOrderStatusWriter } from "./order-status";

const writer = lazy(() => {
  const client = new DynamoDBClient({});
  return createOrderStatusWriter({
    store: createDynamoEventStore({ client, tableName: Resource.EventStore.name }),
    client,
    ordersTable: process.env.ORDERS_TABLE || Resource.Orders.name,
  });
});
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  const outcome = await writer()(JSON.parse(record.body));
  logger.debug("order status", { messageId: record.messageId, ...outcome });
}

/**
 * order-status (SPEC §5): the bus rule's queue, batch 10, partial batch responses. A message that
 * fails goes back to the queue and, after its receives, to the DLQ.
 */
export const handler = (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });
