import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  NumberValue,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  createDynamoEventStore,
  createReadModelStore,
  transactionLogItem,
} from "@payments/adapters/dynamodb";
import { envelopesFor, foldPaymentView, parseRecordedEvent, type RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { createProjector, createProjectorHandler } from "@payments/functions/projector/project";
import { listPaymentIds, replayProjections } from "@payments/functions/projector/replay";
import {
  ensureTable,
  type LocalStack,
  localDynamoClient,
  startDynamoDbStreamDriver,
  tableStreamArn,
} from "@payments/local";
import {
  electro,
  eventItemFilter,
  eventStoreTable,
  readModelTable,
  transactionLogTable,
} from "@payments/topology";
import { ulid } from "ulid";
import { percentile } from "./measure";

export interface ReplayBenchResult {
  readonly events: number;
  readonly payments: number;
  readonly concurrency: number;
  readonly rounds: ReadonlyArray<{ ours: number; raw: number }>;
  readonly lag: { count: number; p50: number; p99: number };
}

const metadata = { correlationId: "bench", causationId: "bench", source: "bench" };
const history = (i: number): PaymentEvent[] => [
  {
    type: "PaymentInitiated",
    data: {
      orderId: `ord-${i}`,
      customerId: `cus-${i % 1000}`,
      amount: 2599,
      currency: "usd",
      paymentMethod: { type: "card", token: "pm_card_visa" },
      captureMethod: "automatic",
      source: "queue",
      provider: "stripe",
    },
  },
  { type: "PaymentScreened", data: { score: 5, decision: "approve", reasons: ["billing_address_missing"] } },
  { type: "PaymentIntentCreated", data: { gateway: "stripe", gatewayPaymentId: `pi_${i}` } },
  {
    type: "PaymentAuthorized",
    data: { gateway: "stripe", gatewayPaymentId: `pi_${i}`, amountAuthorized: 2599 },
  },
  { type: "PaymentCaptured", data: { amount: 2599, totalCaptured: 2599, gatewayPaymentId: `pi_${i}` } },
];

/**
 * Replay against the raw SDK doing the same reads and conditional writes (SPEC §9: ≥ 0.80×), on
 * `events` events the bench writes itself; and the projector's lag from append to a readable view.
 */
export async function runReplayBench(
  stack: LocalStack,
  options: {
    events: number;
    rounds: number;
    concurrency: number;
    lagSamples: number;
    log: (line: string) => void;
  },
): Promise<ReplayBenchResult> {
  const client = localDynamoClient(stack.dynamoEndpoint);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const suffix = randomUUID().slice(0, 8);
  const eventsTable = `bench-replay-events-${suffix}`;
  await ensureTable(client, eventStoreTable, eventsTable);
  const store = createDynamoEventStore({ client, tableName: eventsTable });

  // Seeded with batch writes of the store's own items: the seeding is not what is measured.
  const payments = Math.ceil(options.events / 5);
  options.log(`replay bench: writing ${payments * 5} events of ${payments} payments…`);
  const items: Record<string, unknown>[] = [];
  const now = new Date();
  for (let i = 0; i < payments; i++) {
    const paymentId = `pay_${ulid()}`;
    for (const event of envelopesFor({
      paymentId,
      expectedVersion: 0,
      events: history(i),
      metadata,
      now,
      newId: ulid,
    })) {
      items.push({
        ...event,
        [eventStoreTable.partitionKey]: paymentId,
        [eventStoreTable.sortKey]: String(event.version).padStart(10, "0"),
        [electro.entityAttribute]: electro.entities.event,
        __edb_v__: "1",
      });
    }
  }
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let nextBatch = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (nextBatch < batches.length) {
        const batch = batches[nextBatch++]!;
        let pending = { [eventsTable]: batch.map((Item) => ({ PutRequest: { Item } })) };
        while (Object.keys(pending).length > 0) {
          const { UnprocessedItems } = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
          pending = (UnprocessedItems ?? {}) as typeof pending;
        }
      }
    }),
  );

  const ids = await listPaymentIds(client, eventsTable, { segments: 4 });
  const rounds: Array<{ ours: number; raw: number }> = [];
  for (let round = 0; round < options.rounds; round++) {
    const fresh = async () => {
      const s = randomUUID().slice(0, 8);
      const tables = { readModels: `bench-rm-${s}`, transactionLog: `bench-txlog-${s}` };
      await ensureTable(client, readModelTable, tables.readModels);
      await ensureTable(client, transactionLogTable, tables.transactionLog);
      return tables;
    };
    const oursTables = await fresh();
    const rawTables = await fresh();
    const runOurs = async () => {
      const result = await replayProjections(
        {
          client,
          eventsTable,
          store,
          readModels: createReadModelStore({
            client,
            tableName: oursTables.readModels,
            transactionLogTableName: oursTables.transactionLog,
          }),
        },
        { concurrency: options.concurrency, segments: 4 },
      );
      return result.events / result.seconds;
    };
    const runRaw = async () => {
      const started = Date.now();
      const rawIds = await listPaymentIds(client, eventsTable, { segments: 4 });
      let next = 0;
      let events = 0;
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < rawIds.length) {
            const paymentId = rawIds[next++]!;
            const { Items = [] } = await doc.send(
              new QueryCommand({
                TableName: eventsTable,
                KeyConditionExpression: "#pk = :pk",
                ExpressionAttributeNames: { "#pk": eventStoreTable.partitionKey },
                ExpressionAttributeValues: { ":pk": paymentId },
                ConsistentRead: true,
              }),
            );
            const stream: RecordedEvent[] = Items.map(
              ({ id, type, schemaVersion, version, occurredAt, data, metadata: m }) =>
                parseRecordedEvent({
                  id,
                  type,
                  schemaVersion,
                  paymentId,
                  version,
                  occurredAt,
                  data,
                  metadata: m,
                }),
            );
            events += stream.length;
            const view = foldPaymentView(stream)!;
            const put = async (TableName: string, Item: Record<string, unknown>, attribute: string) => {
              try {
                await doc.send(
                  new PutCommand({
                    TableName,
                    Item,
                    ConditionExpression: "attribute_not_exists(#v) OR #v <= :v",
                    ExpressionAttributeNames: { "#v": attribute },
                    ExpressionAttributeValues: { ":v": view.version },
                  }),
                );
              } catch (error) {
                if (!(error instanceof ConditionalCheckFailedException)) throw error;
              }
            };
            await put(
              rawTables.readModels,
              { pk: `payment#${paymentId}`, sk: "view", view, version: view.version },
              "version",
            );
            const log = transactionLogItem(view);
            await put(
              rawTables.transactionLog,
              { ...log, amount: NumberValue.from(log.amount) },
              "payment_version",
            );
          }
        }),
      );
      return events / ((Date.now() - started) / 1000);
    };
    const [first, second] = round % 2 === 0 ? [runOurs, runRaw] : [runRaw, runOurs];
    const a = await first();
    const b = await second();
    const ours = round % 2 === 0 ? a : b;
    const raw = round % 2 === 0 ? b : a;
    rounds.push({ ours, raw });
    options.log(
      `replay bench round ${round + 1}/${options.rounds}: replay ${ours.toFixed(0)} events/s, raw ${raw.toFixed(0)} events/s`,
    );
  }

  // Projector lag: append → the view at that version readable, through the stream driver.
  options.log(`projector lag: ${options.lagSamples} appends…`);
  const lagTables = {
    readModels: `bench-rm-lag-${suffix}`,
    transactionLog: `bench-txlog-lag-${suffix}`,
  };
  await ensureTable(client, readModelTable, lagTables.readModels);
  await ensureTable(client, transactionLogTable, lagTables.transactionLog);
  const readModels = createReadModelStore({
    client,
    tableName: lagTables.readModels,
    transactionLogTableName: lagTables.transactionLog,
  });
  const driver = startDynamoDbStreamDriver({
    streams: new DynamoDBStreamsClient({
      region: stack.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      endpoint: stack.dynamoEndpoint,
    }),
    streamArn: await tableStreamArn(client, eventsTable),
    handler: createProjectorHandler({
      projector: createProjector({ store, readModels }),
      logger: new Logger({ serviceName: "bench", logLevel: "SILENT" }),
    }),
    fn: { name: "projector" },
    filters: [eventItemFilter],
    startingPosition: "LATEST",
    batchSize: 100,
    pollIntervalMs: 50,
  });
  const lags: number[] = [];
  const quiet = process.env.PAYMENTS_LOCAL_QUIET;
  process.env.PAYMENTS_LOCAL_QUIET = "1";
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (let i = 0; i < options.lagSamples; i++) {
      const paymentId = `pay_${ulid()}`;
      const t0 = Date.now();
      await store.append({
        paymentId,
        expectedVersion: 0,
        events: history(payments + i).slice(0, 1),
        metadata,
        now: new Date(),
        newId: ulid,
      });
      const deadline = t0 + 30_000;
      while (Date.now() < deadline && !(await readModels.getView(paymentId)))
        await new Promise((resolve) => setTimeout(resolve, 10));
      lags.push(Date.now() - t0);
    }
  } finally {
    await driver.stop();
    client.destroy();
    if (quiet === undefined) delete process.env.PAYMENTS_LOCAL_QUIET;
    else process.env.PAYMENTS_LOCAL_QUIET = quiet;
  }
  const sorted = [...lags].sort((a, b) => a - b);
  return {
    events: payments * 5,
    payments: ids.length,
    concurrency: options.concurrency,
    rounds,
    lag: { count: lags.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
  };
}
