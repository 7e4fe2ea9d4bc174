import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { ulid } from "ulid";
import { describe, expect, inject, it } from "vitest";
import { freshEventStoreTable } from "../helpers/dynamo";
import { history } from "../helpers/fixtures";

async function readWholeStream(streams: DynamoDBStreamsClient, streamArn: string): Promise<_Record[]> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: _Record[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    // An open shard never ends; stop at the first empty page.
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []));
      if (!page.Records?.length) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

describe("the event table's DynamoDB Stream", () => {
  it("carries every appended event exactly once, as the outbox", async () => {
    const { client, tableName } = await freshEventStoreTable("stream");
    const store = createDynamoEventStore({ client, tableName });
    const paymentId = `pay_${ulid()}`;
    const metadata = { correlationId: "c", causationId: "c", source: "test" };
    await store.append({
      paymentId,
      expectedVersion: 0,
      events: history.initiated(),
      metadata,
      now: new Date(),
      newId: ulid,
    });
    await store.append({
      paymentId,
      expectedVersion: 1,
      events: history.captured().slice(1),
      metadata,
      unique: [{ kind: "orderId", value: `ord-${paymentId}` }],
      now: new Date(),
      newId: ulid,
    });

    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.StreamSpecification).toMatchObject({
      StreamEnabled: true,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    });
    const streams = new DynamoDBStreamsClient({
      endpoint: inject("dynamoEndpoint"),
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const records = await readWholeStream(streams, Table!.LatestStreamArn!);
    const images = records.map((r) => ({
      event: r.eventName,
      item: unmarshall(r.dynamodb!.NewImage as never),
    }));
    const events = images.filter((i) => i.item.__edb_e__ === "event");

    expect(events.every((i) => i.event === "INSERT")).toBe(true);
    expect(events.map((i) => [i.item.version, i.item.type])).toEqual([
      [1, "PaymentInitiated"],
      [2, "PaymentScreened"],
      [3, "PaymentIntentCreated"],
      [4, "PaymentAuthorized"],
      [5, "PaymentCaptured"],
    ]);
    expect(images.filter((i) => i.item.__edb_e__ === "unique")).toHaveLength(1);
    streams.destroy();
  });
});
