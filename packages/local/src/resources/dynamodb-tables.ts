import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type Projection,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { KeySchema, TableDefinition } from "@payments/topology";

/**
 * Creates a table from its topology definition, idempotently (an existing table is left as it is).
 * Every key attribute is a string, as the entities write them.
 */
export async function ensureTable(
  client: DynamoDBClient,
  table: TableDefinition,
  tableName: string,
): Promise<void> {
  const keyNames = new Set([table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])]);
  for (const index of Object.values(table.indexes)) {
    keyNames.add(index.partitionKey);
    keyNames.add(index.sortKey);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [...keyNames].map((name) => ({ AttributeName: name, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: "HASH" as const },
          ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: "RANGE" as const }] : []),
        ],
        GlobalSecondaryIndexes: Object.entries(table.indexes).length
          ? Object.entries(table.indexes).map(([name, index]) => ({
              IndexName: name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: "HASH" },
                { AttributeName: index.sortKey, KeyType: "RANGE" },
              ],
              Projection: projectionOf(index),
            }))
          : undefined,
        StreamSpecification: table.stream ? { StreamEnabled: true, StreamViewType: table.stream } : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  await addMissingIndexes(client, table, tableName);
  if (table.ttlAttribute) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute },
        }),
      );
    } catch (error) {
      // Already enabled on a table that survived a restart.
      if (!/already enabled/i.test((error as Error).message)) throw error;
    }
  }
}

function projectionOf(index: KeySchema): Projection {
  const projection = index.projection ?? "all";
  if (projection === "all") return { ProjectionType: "ALL" };
  if (projection === "keys-only") return { ProjectionType: "KEYS_ONLY" };
  return { ProjectionType: "INCLUDE", NonKeyAttributes: [...projection] };
}

/**
 * A table kept in `.dev/` from before an index was added to its definition gets the index, as a
 * deploy would add it on AWS: one UpdateTable per missing index (DynamoDB adds one at a time).
 */
async function addMissingIndexes(client: DynamoDBClient, table: TableDefinition, tableName: string) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  for (const [name, index] of Object.entries(table.indexes)) {
    if (present.has(name)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [index.partitionKey, index.sortKey].map((attribute) => ({
          AttributeName: attribute,
          AttributeType: "S",
        })),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: "HASH" },
                { AttributeName: index.sortKey, KeyType: "RANGE" },
              ],
              Projection: projectionOf(index),
            },
          },
        ],
      }),
    );
  }
}

/** The ARN of a table's stream, as a stream subscription needs it. */
export async function tableStreamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${tableName} has no stream`);
  return Table.LatestStreamArn;
}
