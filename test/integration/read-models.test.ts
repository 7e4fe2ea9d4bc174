import { randomUUID } from "node:crypto";
import { PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { createdKeyOf, createReadModelStore } from "@payments/adapters/dynamodb";
import type { PaymentView } from "@payments/core";
import { ensureTable } from "@payments/local";
import { createdPaymentShards, readModelTable, transactionLogTable } from "@payments/topology";
import { ulid } from "ulid";
import { afterAll, describe, expect, it } from "vitest";
import { testDynamoClient } from "../helpers/dynamo";

/**
 * The by-creation index on DynamoDB Local: a day's payments of one provider spread over
 * `createdPaymentShards` partitions (one partition takes ~1,000 writes a second), and read back
 * whole by a window, and newest first by the console.
 */
const client = testDynamoClient();
afterAll(() => client.destroy());

const view = (paymentId: string, createdAt: string, provider: PaymentView["provider"] = "stripe") =>
  ({
    paymentId,
    orderId: `ord-${paymentId}`,
    status: "captured",
    amount: 1_000,
    currency: "usd",
    amountCaptured: 1_000,
    amountRefunded: 0,
    provider,
    flags: [],
    version: 5,
    createdAt,
    updatedAt: createdAt,
  }) as unknown as PaymentView;

describe("the by-creation index", () => {
  it("spreads a day over its shards, and gives every payment of a window back, the unsharded ones of before included", async () => {
    const suffix = randomUUID().slice(0, 8);
    const tables = { readModels: `rm-created-${suffix}`, transactionLog: `txlog-created-${suffix}` };
    await ensureTable(client, readModelTable, tables.readModels);
    await ensureTable(client, transactionLogTable, tables.transactionLog);
    const readModels = createReadModelStore({
      client,
      tableName: tables.readModels,
      transactionLogTableName: tables.transactionLog,
    });
    const at = (i: number) => new Date(Date.UTC(2026, 11, 6, 10, 0, i)).toISOString();
    const ids = Array.from({ length: 64 }, () => `pay_${ulid()}`);
    for (const [i, id] of ids.entries()) await readModels.putView(view(id, at(i)));
    // One written before the index was spread: its key has no shard.
    const legacy = `pay_${ulid()}`;
    await client.send(
      new PutItemCommand({
        TableName: tables.readModels,
        Item: marshall({
          pk: `payment#${legacy}`,
          sk: "view",
          version: 5,
          view: view(legacy, at(70)),
          [readModelTable.indexes.byCreated.partitionKey]: "created#stripe#2026-12-06",
          [readModelTable.indexes.byCreated.sortKey]: `${at(70)}#${legacy}`,
        }),
      }),
    );

    const keys = new Set(ids.map((id) => createdKeyOf(view(id, at(0)))));
    expect(keys.size).toBeGreaterThan(createdPaymentShards / 2);
    for (const key of keys) expect(key).toMatch(/^created#stripe#2026-12-06#\d+$/);
    // What the index holds under one shard's key is that shard's payments only.
    const [someKey] = keys;
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: tables.readModels,
        IndexName: "byCreated",
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": readModelTable.indexes.byCreated.partitionKey },
        ExpressionAttributeValues: { ":pk": { S: someKey! } },
      }),
    );
    expect(Items.length).toBe(ids.filter((id) => createdKeyOf(view(id, at(0))) === someKey).length);

    const all = await readModels.paymentsCreated({
      provider: "stripe",
      since: new Date(at(0)),
      until: new Date(Date.UTC(2026, 11, 6, 11)),
    });
    expect([...all].sort()).toEqual([...ids, legacy].sort());
    // A window of the first 10 seconds: the first 10 payments.
    const first = await readModels.paymentsCreated({
      provider: "stripe",
      since: new Date(at(0)),
      until: new Date(at(10)),
    });
    expect([...first].sort()).toEqual(ids.slice(0, 10).sort());
    // The newest 25, newest first: the legacy one (70 s), then the last 24 of the run.
    const recent = await readModels.recentPaymentIds(25, new Date(Date.UTC(2026, 11, 6, 12)));
    expect(recent).toEqual([legacy, ...ids.slice(-24).reverse()]);
  });
});
