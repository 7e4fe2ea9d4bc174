import { randomUUID } from "node:crypto";
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { createDynamoEventStore, createOutboxDeliveries } from "@payments/adapters/dynamodb";
import { createEventBridgePublisher, type Publisher } from "@payments/adapters/outbox";
import type { RecordedEvent } from "@payments/core";
import { cleanupResolvedFailures } from "@payments/functions/outbox-relay/cleanup-job";
import { createRelay } from "@payments/functions/outbox-relay/relay";
import { drainStreamFailures } from "@payments/functions/outbox-relay/stream-failures";
import {
  ensureQueues,
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  streamFailureMessage,
  tableStreamArn,
} from "@payments/local";
import { outboxTable } from "@payments/topology";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { history } from "../helpers/fixtures";
import { stackClients, testStack } from "../helpers/stack";

const stack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const tableName = `outbox-${randomUUID().slice(0, 8)}`;
const deliveries = createOutboxDeliveries({ client: clients.dynamodb, tableName });
const metadata = { correlationId: "c", causationId: "c", source: "test" };

/** A sink the test switches off and on; it records what reached it, in order. */
function switchableSink(): Publisher & { down: boolean; received: RecordedEvent[] } {
  const sink = {
    sink: "kafka" as const,
    down: false,
    received: [] as RecordedEvent[],
    async ready() {},
    async close() {},
    async publish(events: readonly RecordedEvent[]) {
      if (sink.down) return { delivered: new Set<string>(), calls: 1, error: "sink down" };
      sink.received.push(...events);
      return { delivered: new Set(events.map((e) => e.id)), calls: 1 };
    },
  };
  return sink;
}

async function appendPayment(steps = 2): Promise<RecordedEvent[]> {
  const paymentId = `pay_${ulid()}`;
  const events = history.captured();
  const recorded: RecordedEvent[] = [];
  const size = Math.ceil(events.length / steps);
  for (let i = 0; i < events.length; i += size) {
    recorded.push(
      ...(await store.append({
        paymentId,
        expectedVersion: recorded.length,
        events: events.slice(i, i + size),
        metadata,
        now: new Date(),
        newId: ulid,
      })),
    );
  }
  return recorded;
}

beforeAll(async () => {
  await ensureTable(clients.dynamodb, outboxTable, tableName);
});
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

describe("outbox deliveries", () => {
  it("reads a gap from the event store and publishes in version order, whatever order the records came in", async () => {
    const sink = switchableSink();
    const relay = createRelay({ store, deliveries, publishers: [sink], maxRetries: 3 });
    const events = await appendPayment();
    // The last event alone, then the first: versions 2..n-1 are read from the store.
    await relay.deliver([events.at(-1)!, events[0]!]);
    expect(sink.received.map((e) => e.version)).toEqual(events.map((e) => e.version));
    await relay.deliver(events);
    expect(sink.received).toHaveLength(events.length);
  });

  it("marks a payment lagging, then failed after OUTBOX_MAX_RETRIES sweeps; a redrive delivers it and resolves the failure; cleanup removes it after the retention", async () => {
    const sink = switchableSink();
    const relay = createRelay({ store, deliveries, publishers: [sink], maxRetries: 3 });
    const events = await appendPayment();
    const paymentId = events[0]!.paymentId;
    sink.down = true;
    const first = await relay.deliver(events);
    expect(first.behind).toEqual([{ paymentId, sink: "kafka", error: "sink down" }]);
    const mine = async (state: "lagging" | "failed") =>
      (await deliveries.listByState(state, "kafka", { limit: 1000 })).items.filter(
        (c) => c.paymentId === paymentId,
      );
    expect(await mine("lagging")).toHaveLength(1);
    for (let sweep = 1; sweep <= 3; sweep++) await relay.sweep({ batchSize: 50 });
    expect(await mine("lagging")).toEqual([]);
    const [failed] = await mine("failed");
    expect(failed).toMatchObject({
      state: "failed",
      sweeps: 3,
      delivered: 0,
      latest: events.length,
      lastError: "sink down",
    });
    const open = (await deliveries.listFailures("open")).filter((f) => f.paymentId === paymentId);
    expect(open).toHaveLength(1);
    // A failed delivery is left alone by the sweeper…
    await relay.sweep({ batchSize: 50 });
    expect(sink.received).toEqual([]);
    // …until it is redriven.
    sink.down = false;
    expect(await relay.requeueFailed()).toBeGreaterThanOrEqual(1);
    await relay.sweep({ batchSize: 50 });
    expect(sink.received.map((e) => e.version)).toEqual(events.map((e) => e.version));
    expect(await mine("failed")).toEqual([]);
    const resolved = (await deliveries.listFailures("resolved")).filter((f) => f.paymentId === paymentId);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.resolvedAt).toBeDefined();

    const inADay = await cleanupResolvedFailures({
      deliveries,
      retentionDays: 7,
      now: new Date(Date.now() + 86_400_000),
    });
    expect((await deliveries.listFailures("resolved")).filter((f) => f.paymentId === paymentId)).toHaveLength(
      1,
    );
    expect(inADay.deleted).toBe(0);
    const inEightDays = await cleanupResolvedFailures({
      deliveries,
      retentionDays: 7,
      now: new Date(Date.now() + 8 * 86_400_000),
    });
    expect(inEightDays.deleted).toBeGreaterThanOrEqual(1);
    expect((await deliveries.listFailures("resolved")).filter((f) => f.paymentId === paymentId)).toEqual([]);
  });

  it("refuses to publish to a bus that does not exist, instead of dropping the events", async () => {
    const eventBridge = new EventBridgeClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.awsEndpoint,
    });
    const publisher = createEventBridgePublisher({
      client: eventBridge,
      busName: `missing-${ulid()}`,
      source: "payments",
    });
    const relay = createRelay({ store, deliveries, publishers: [publisher], maxRetries: 3 });
    const events = await appendPayment();
    await expect(relay.deliver(events)).rejects.toThrow(/cannot be described.*nothing is published/);
    expect(await deliveries.getCursors([{ paymentId: events[0]!.paymentId, sink: "eventbridge" }])).toEqual(
      new Map(),
    );
    eventBridge.destroy();
  });

  it("marks the payments of a batch the stream subscription gave up on lagging, from the on-failure message", async () => {
    const sink = switchableSink();
    const relay = createRelay({ store, deliveries, publishers: [sink], maxRetries: 3 });
    const events = await appendPayment(1);
    const streamArn = await tableStreamArn(clients.dynamodb, stack.tables.events);
    // Find the payment's records in the stream, as the subscription had them.
    const { StreamDescription } = await clients.streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    let found: { shardId: string; records: Array<{ dynamodb?: { SequenceNumber?: string } }> } | undefined;
    for (const shard of StreamDescription?.Shards ?? []) {
      let { ShardIterator } = await clients.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId!,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      );
      const mine = [];
      for (let page = 0; ShardIterator && page < 500; page++) {
        const out = await clients.streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
        mine.push(...(out.Records ?? []).filter((r) => r.dynamodb?.Keys?.pk?.S === events[0]!.paymentId));
        if ((out.Records ?? []).length === 0) break;
        ShardIterator = out.NextShardIterator;
      }
      if (mine.length > 0) found = { shardId: shard.ShardId!, records: mine };
    }
    expect(found).toBeDefined();
    const { failures } = await ensureQueues(
      clients.sqs,
      { failures: { name: `RelayFailures${ulid()}`, fifo: false, visibilityTimeoutSeconds: 30 } },
      { stage: "test" },
    );
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: failures.url,
        MessageBody: JSON.stringify(
          streamFailureMessage(found!.records as never, found!.shardId, streamArn, "gave up"),
        ),
      }),
    );
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: failures.url, MessageBody: "not a batch info" }),
    );
    const report = await drainStreamFailures({
      sqs: clients.sqs,
      queueUrl: failures.url,
      streams: clients.streams,
      relay,
    });
    expect(report).toMatchObject({ messages: 2, paymentsMarked: 1, unreadable: 1, expired: [] });
    const lagging = (await deliveries.listByState("lagging", "kafka", { limit: 1000 })).items;
    expect(lagging.find((c) => c.paymentId === events[0]!.paymentId)).toMatchObject({
      delivered: 0,
      latest: events.length,
    });
    await relay.sweep({ batchSize: 50 });
    expect(sink.received.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });
});
