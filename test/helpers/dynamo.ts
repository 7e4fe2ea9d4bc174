import { randomUUID } from "node:crypto";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { ensureTable, localDynamoClient } from "@payments/local";
import { eventStoreTable } from "@payments/topology";
import { inject } from "vitest";

/** A client for the run's DynamoDB Local, started by the global setup. */
export function testDynamoClient() {
  return localDynamoClient(inject("dynamoEndpoint"));
}

/** A fresh event-store table, so that test files never see each other's streams. */
export async function freshEventStoreTable(prefix = "events") {
  const client = testDynamoClient();
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, eventStoreTable, tableName);
  return { client, tableName };
}

/** Writes an item as an older version of this code would have, bypassing the store. */
export async function putRawItem(
  client: ReturnType<typeof testDynamoClient>,
  tableName: string,
  item: Record<string, unknown>,
) {
  await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: tableName, Item: item }));
}
