import {
  type AttributeValue,
  CreateTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { DynamoDBSingleTableEventStorageAdapter } from "@castore/event-storage-adapter-dynamodb";
import {
  compileClaimPut,
  compileEventPut,
  eventEntity,
  eventItem,
  uniqueEntity,
} from "@payments/adapters/dynamodb";
import { ensureTable } from "@payments/local";
import { eventStoreTable } from "@payments/topology";
import {
  appendScenarios,
  initiated,
  metadata,
  recorded,
  type ScenarioName,
  screened,
  ulid,
} from "./append-scenarios";
import { type Figures, joinRuns, measure, type Run, shuffled, summarize } from "./measure";
import { writeUnits } from "./write-units";

export type { ScenarioName } from "./append-scenarios";

export interface AppendBenchOptions {
  readonly client: DynamoDBClient;
  readonly total: number;
  readonly concurrency: number;
  readonly rounds: number;
  readonly log: (line: string) => void;
}

export interface AppendBenchResult {
  readonly figures: Record<ScenarioName, Figures>;
  /** Each round's throughput per scenario, in round order, for ratios paired by round. */
  readonly roundOpsPerSecond: Record<ScenarioName, number[]>;
  readonly writeUnitsPerEvent: Record<ScenarioName, WriteUnits>;
  /** Operations a scenario runs in one turn before the next scenario's turn. */
  readonly slice: number;
}

async function createCastoreTable(client: DynamoDBClient, tableName: string) {
  // The table Castore's README prescribes for the single-table adapter, with the same stream as
  // ours, so that the server does the same work per write.
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      StreamSpecification: { StreamEnabled: true, StreamViewType: eventStoreTable.stream },
      AttributeDefinitions: [
        { AttributeName: "aggregateId", AttributeType: "S" },
        { AttributeName: "version", AttributeType: "N" },
        { AttributeName: "eventStoreId", AttributeType: "S" },
        { AttributeName: "timestamp", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "aggregateId", KeyType: "HASH" },
        { AttributeName: "version", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "initialEvents",
          KeySchema: [
            { AttributeName: "eventStoreId", KeyType: "HASH" },
            { AttributeName: "timestamp", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
    }),
  );
}

/**
 * Append throughput and latency of the event store against the raw SDK and Castore, in one run
 * on one DynamoDB Local at one concurrency. Rounds alternate the scenarios so that drift of the
 * server (JIT, GC) is shared fairly.
 */
export async function runAppendBench(options: AppendBenchOptions): Promise<AppendBenchResult> {
  const { client, total, concurrency, rounds, log } = options;
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const run = ulid().slice(-6);
  // Every scenario but Castore's writes to the store's own table: on DynamoDB Local, two tables of one
  // definition were not equally fast (raw PutItem's code came out 0.9× itself, operation by
  // operation, on the table that took twice the writes).
  const table = `bench-events-${run}`;
  const castoreTable = `bench-castore-${run}`;
  await ensureTable(client, eventStoreTable, table);
  await createCastoreTable(client, castoreTable);

  const scenarios = appendScenarios({ client, doc, table, castoreTable, run });

  const names = Object.keys(scenarios) as ScenarioName[];
  log(`warming up (${Math.min(500, total)} operations per scenario)…`);
  for (const name of names) await measure(Math.min(500, total), concurrency, scenarios[name]);

  // Scenarios are compared within their group, in slices that take turns: a slice is one operation
  // when one is in flight, eight waves of operations otherwise. The speed of the machines here
  // swings by up to 2× from one second to the next: run back to back in blocks of a few hundred
  // operations, scenarios met different machines, and one scenario's code against itself came out
  // 0.5–1.07 by round. Slices this short meet the same machine. Each cycle of slices runs in a fresh
  // random order, so that no scenario always follows the same one.
  const groups: ScenarioName[][] = [
    ["raw PutItem", "raw PutItem (control)", "store: single event", "Castore pushEvent"],
    ["raw TransactWriteItems", "store: transaction"],
  ];
  const slice = concurrency === 1 ? 1 : concurrency * 8;
  const results = new Map<ScenarioName, Run[]>();
  const perRound = Math.ceil(total / rounds);
  for (const group of groups) {
    for (let round = 0; round < rounds; round++) {
      const slices = new Map<ScenarioName, Run[]>(group.map((name) => [name, []]));
      for (let done = 0; done < perRound; done += slice) {
        const size = Math.min(slice, perRound - done);
        for (const name of shuffled(group)) {
          slices.get(name)!.push(await measure(size, concurrency, scenarios[name]));
        }
      }
      for (const name of group) {
        const r = joinRuns(slices.get(name)!);
        results.set(name, [...(results.get(name) ?? []), r]);
        log(`round ${round + 1}/${rounds} ${name}: ${(r.latenciesMs.length / r.seconds).toFixed(0)} ops/s`);
      }
    }
  }

  const figures = Object.fromEntries(names.map((n) => [n, summarize(results.get(n)!)])) as Record<
    ScenarioName,
    Figures
  >;
  const roundOpsPerSecond = Object.fromEntries(
    names.map((n) => [n, results.get(n)!.map((r) => r.latenciesMs.length / r.seconds)]),
  ) as Record<ScenarioName, number[]>;
  return {
    figures,
    roundOpsPerSecond,
    slice,
    writeUnitsPerEvent: await measureWriteUnits(client, { table, castoreTable, run }),
  };
}

/**
 * Write units per event for the same writes: as DynamoDB's published rules price them (from the
 * marshalled items), and as DynamoDB Local reports them (ReturnConsumedCapacity), which does not
 * charge transactions double.
 */
async function measureWriteUnits(
  client: DynamoDBClient,
  t: { table: string; castoreTable: string; run: string },
): Promise<Record<ScenarioName, WriteUnits>> {
  const doc = DynamoDBDocumentClient.from(client);
  const paymentId = `pay_wcu${t.run}`;
  const eventPut = compileEventPut(eventEntity(doc, t.table));
  const claimPut = compileClaimPut(uniqueEntity(doc, t.table));
  const units = (r: { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }) =>
    [r.ConsumedCapacity ?? []].flat().reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);

  const single = marshallParams(eventPut(eventItem(recorded(initiated, `${paymentId}a`, 1))));
  const txItems = [
    marshallParams(eventPut(eventItem(recorded(initiated, `${paymentId}b`, 1)))),
    marshallParams(eventPut(eventItem(recorded(screened, `${paymentId}b`, 2)))),
    marshallParams(
      claimPut({
        kind: "orderId",
        value: `${paymentId}b`,
        paymentId: `${paymentId}b`,
        createdAt: new Date().toISOString(),
      }),
    ),
  ];
  const castoreAdapter = new DynamoDBSingleTableEventStorageAdapter({
    tableName: t.castoreTable,
    dynamoDBClient: client,
  });
  const castoreInput = castoreAdapter.getPushEventInput(
    {
      aggregateId: `${paymentId}c`,
      version: 1,
      type: initiated.type,
      payload: initiated.data,
      metadata,
      timestamp: new Date().toISOString(),
    },
    { eventStoreId: "payments" },
  );

  const singleLocal = units(
    await client.send(new PutItemCommand({ ...single, ReturnConsumedCapacity: "TOTAL" })),
  );
  const txLocal =
    units(
      await client.send(
        new TransactWriteItemsCommand({
          ReturnConsumedCapacity: "TOTAL",
          TransactItems: txItems.map((Put) => ({ Put })),
        }),
      ),
    ) / 2;
  const castoreLocal = units(
    await client.send(new PutItemCommand({ ...castoreInput, ReturnConsumedCapacity: "TOTAL" })),
  );

  const singleRule = writeUnits(single.Item);
  const txRule = txItems.reduce((s, i) => s + writeUnits(i.Item, { transactional: true }), 0) / 2;
  // Castore writes a version-1 event to its initialEvents index too: one more unit for the index item.
  const castoreRule = writeUnits(castoreInput.Item as Record<string, AttributeValue>) + 1;
  return {
    "raw PutItem": { rule: singleRule, local: singleLocal },
    "raw PutItem (control)": { rule: singleRule, local: singleLocal },
    "store: single event": { rule: singleRule, local: singleLocal },
    "Castore pushEvent": { rule: castoreRule, local: castoreLocal },
    "raw TransactWriteItems": { rule: txRule, local: txLocal },
    "store: transaction": { rule: txRule, local: txLocal },
  };
}

export interface WriteUnits {
  /** By DynamoDB's published pricing rules. */
  readonly rule: number;
  /** As DynamoDB Local reported it. */
  readonly local: number;
}

function marshallParams(params: object): { TableName: string; Item: Record<string, AttributeValue> } {
  const { Item, ...rest } = params as { Item: Record<string, unknown>; TableName: string };
  return { ...rest, Item: marshall(Item, { removeUndefinedValues: true }) } as never;
}
