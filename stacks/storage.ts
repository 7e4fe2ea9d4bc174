import {
  eventStoreTable,
  idempotencyTable,
  type KeySchema,
  ordersTable,
  outboxTable,
  readModelTable,
  transactionLogTable,
} from "../packages/topology/src";

/** The event streams: one item per event; its stream feeds the projector and the outbox relay. */
export const eventStore = new sst.aws.Dynamo(eventStoreTable.name, {
  fields: { [eventStoreTable.partitionKey]: "string", [eventStoreTable.sortKey]: "string" },
  primaryIndex: { hashKey: eventStoreTable.partitionKey, rangeKey: eventStoreTable.sortKey },
  stream: "new-and-old-images",
});

/** Read models, with lookups by order id and by customer id. */
export const readModels = new sst.aws.Dynamo(readModelTable.name, {
  fields: Object.fromEntries(
    [
      readModelTable.partitionKey,
      readModelTable.sortKey,
      ...Object.values(readModelTable.indexes).flatMap((i) => [i.partitionKey, i.sortKey]),
    ].map((name) => [name, "string" as const]),
  ),
  primaryIndex: { hashKey: readModelTable.partitionKey, rangeKey: readModelTable.sortKey },
  ttl: readModelTable.ttlAttribute,
  globalIndexes: Object.fromEntries(
    Object.entries(readModelTable.indexes).map(([name, index]) => [
      name,
      {
        hashKey: index.partitionKey,
        rangeKey: index.sortKey,
        projection: projectionOf(index),
      },
    ]),
  ),
});

/** An index's projection in SST's words: everything unless the topology says otherwise. */
function projectionOf(index: KeySchema): "all" | "keys-only" | string[] {
  const projection = index.projection ?? "all";
  return typeof projection === "string" ? projection : [...projection];
}

/** The REST API's Idempotency-Key records, expired by DynamoDB's TTL after 24 h. */
export const idempotencyKeys = new sst.aws.Dynamo(idempotencyTable.name, {
  fields: { [idempotencyTable.partitionKey]: "string" },
  primaryIndex: { hashKey: idempotencyTable.partitionKey },
  ttl: idempotencyTable.ttlAttribute,
});

/** The CloudCafe transaction log: built from the events by the projector and by replay (SPEC §3). */
export const transactionLog = new sst.aws.Dynamo(transactionLogTable.name, {
  fields: { [transactionLogTable.partitionKey]: "string" },
  primaryIndex: { hashKey: transactionLogTable.partitionKey },
});

/** The relay's delivery cursors and failure records, with the sparse `byState` index (SPEC §5). */
export const outboxDeliveries = new sst.aws.Dynamo(outboxTable.name, {
  fields: Object.fromEntries(
    [
      outboxTable.partitionKey,
      outboxTable.sortKey,
      ...Object.values(outboxTable.indexes).flatMap((i) => [i.partitionKey, i.sortKey]),
    ].map((name) => [name, "string" as const]),
  ),
  primaryIndex: { hashKey: outboxTable.partitionKey, rangeKey: outboxTable.sortKey },
  globalIndexes: Object.fromEntries(
    Object.entries(outboxTable.indexes).map(([name, index]) => [
      name,
      { hashKey: index.partitionKey, rangeKey: index.sortKey },
    ]),
  ),
});

/**
 * The order service's existing table (SPEC §5), linked by name (ORDERS_TABLE at deploy time), with
 * the only two permissions order-status has on it.
 */
const ordersTableName = process.env.ORDERS_TABLE ?? `${$app.name}-${$app.stage}-${ordersTable.name}`;
export const orders = new sst.Linkable(ordersTable.name, {
  properties: { name: ordersTableName },
  include: [
    sst.aws.permission({
      actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      resources: [
        $interpolate`arn:aws:dynamodb:${aws.getRegionOutput().name}:${aws.getCallerIdentityOutput().accountId}:table/${ordersTableName}`,
      ],
    }),
  ],
});
