import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBSingleTableEventStorageAdapter } from "@castore/event-storage-adapter-dynamodb";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { type RecordedEvent, toRecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { monotonicFactory } from "ulid";

export type ScenarioName =
  | "raw PutItem"
  | "raw PutItem (control)"
  | "store: single event"
  | "Castore pushEvent"
  | "raw TransactWriteItems"
  | "store: transaction";

// One id factory for every scenario: ulid() draws fresh randomness per call (~27 µs here); a monotonic
// factory per process gives the same sortable ids for well under a microsecond.
export const ulid = monotonicFactory();
export const metadata = { correlationId: "bench", causationId: "bench", source: "bench" };
export const initiated: PaymentEvent = {
  type: "PaymentInitiated",
  data: {
    orderId: "ord-bench",
    customerId: "cus-bench",
    amount: 2599,
    currency: "usd",
    paymentMethod: { type: "card", token: "pm_card_visa" },
    captureMethod: "automatic",
    source: "queue",
    provider: "stripe",
    billingAddress: { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" },
  },
};
export const screened: PaymentEvent = {
  type: "PaymentScreened",
  data: { score: 5, decision: "approve", reasons: ["billing_address_missing"] },
};

/** The item our store writes for an event, built by hand as a raw-SDK store would. */
function rawItem(event: RecordedEvent) {
  return {
    pk: event.paymentId,
    sk: String(event.version).padStart(10, "0"),
    paymentId: event.paymentId,
    version: event.version,
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    data: event.data,
    metadata: event.metadata,
    __edb_e__: "event",
    __edb_v__: "1",
  };
}

export const recorded = (event: PaymentEvent, paymentId: string, version: number) =>
  toRecordedEvent(event, { paymentId, version, id: ulid(), occurredAt: new Date().toISOString(), metadata });

/**
 * The append scenarios the benches compare, each one operation: the store, the same writes with the
 * bare document client, and Castore's adapter. Raw and store scenarios write to `table`.
 */
export function appendScenarios(options: {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  table: string;
  castoreTable: string;
  run: string;
}): Record<ScenarioName, () => Promise<unknown>> {
  const { client, doc, table, castoreTable, run } = options;
  const store = createDynamoEventStore({ client: doc, tableName: table });
  const castore = new DynamoDBSingleTableEventStorageAdapter({
    tableName: castoreTable,
    dynamoDBClient: client,
  });
  const ids = new Map<ScenarioName, number>();
  const nextId = (scenario: ScenarioName) => {
    const n = (ids.get(scenario) ?? 0) + 1;
    ids.set(scenario, n);
    return `pay_${run}${scenario.length}${String(n).padStart(8, "0")}`;
  };

  /** One event to a new stream as a raw-SDK store would write it: a conditional PutItem. */
  const rawPut = (scenario: ScenarioName) => () =>
    doc.send(
      new PutCommand({
        TableName: table,
        Item: rawItem(recorded(initiated, nextId(scenario), 1)),
        ConditionExpression: "attribute_not_exists(#pk) AND attribute_not_exists(#sk)",
        ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
      }),
    );

  const scenarios: Record<ScenarioName, () => Promise<unknown>> = {
    "raw PutItem": rawPut("raw PutItem"),
    // The same code as "raw PutItem" on the same table: how far apart two identical scenarios come out
    // in this run, the resolution every other ratio is read against.
    "raw PutItem (control)": rawPut("raw PutItem (control)"),
    "store: single event": () =>
      store.append({
        paymentId: nextId("store: single event"),
        expectedVersion: 0,
        events: [initiated],
        metadata,
        now: new Date(),
        newId: ulid,
      }),
    "Castore pushEvent": () =>
      castore.pushEvent(
        {
          aggregateId: nextId("Castore pushEvent"),
          version: 1,
          type: initiated.type,
          payload: initiated.data,
          metadata,
        },
        { eventStoreId: "payments" },
      ),
    "raw TransactWriteItems": () => {
      const paymentId = nextId("raw TransactWriteItems");
      const condition = {
        ConditionExpression: "attribute_not_exists(#pk) AND attribute_not_exists(#sk)",
        ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
      };
      return doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: rawItem(recorded(initiated, paymentId, 1)), ...condition } },
            { Put: { TableName: table, Item: rawItem(recorded(screened, paymentId, 2)), ...condition } },
            {
              Put: {
                TableName: table,
                Item: {
                  pk: `unique#orderId#${paymentId}`,
                  sk: "unique",
                  kind: "orderId",
                  value: paymentId,
                  paymentId,
                  createdAt: new Date().toISOString(),
                  __edb_e__: "unique",
                  __edb_v__: "1",
                },
                ...condition,
              },
            },
          ],
        }),
      );
    },
    "store: transaction": () => {
      const paymentId = nextId("store: transaction");
      return store.append({
        paymentId,
        expectedVersion: 0,
        events: [initiated, screened],
        unique: [{ kind: "orderId", value: paymentId }],
        metadata,
        now: new Date(),
        newId: ulid,
      });
    },
  };

  return scenarios;
}
