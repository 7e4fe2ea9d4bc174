import {
  eventStoreTable,
  idempotencyTable,
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
  globalIndexes: Object.fromEntries(
    Object.entries(readModelTable.indexes).map(([name, index]) => [
      name,
      { hashKey: index.partitionKey, rangeKey: index.sortKey },
    ]),
  ),
});

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
