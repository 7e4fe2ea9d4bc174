import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { TableDefinition } from "@payments/topology";

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
              Projection: { ProjectionType: "ALL" },
            }))
          : undefined,
        StreamSpecification: table.stream ? { StreamEnabled: true, StreamViewType: table.stream } : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
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

/** The ARN of a table's stream, as a stream subscription needs it. */
export async function tableStreamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${tableName} has no stream`);
  return Table.LatestStreamArn;
}
