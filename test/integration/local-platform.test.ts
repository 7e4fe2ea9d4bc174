import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import type { UniqueClaim } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import {
  linkedEnvironment,
  type RunningDriver,
  startDynamoDbStreamDriver,
  startScheduleDriver,
  startSqsDriver,
} from "@payments/local";
import type { DynamoDBRecord, SQSRecord } from "aws-lambda";
import { Kafka, logLevel } from "kafkajs";
import Stripe from "stripe";
import { ulid } from "ulid";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { history } from "../helpers/fixtures";
import { freshQueues } from "../helpers/queues";
import { stackClients, testStack } from "../helpers/stack";

const stack = testStack();
const clients = stackClients();
const drivers: RunningDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
});
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

const fn = { name: "test-function", timeoutMs: 10_000 };
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const versionOf = (r: DynamoDBRecord) => Number(r.dynamodb?.NewImage?.version?.N);

/** The event table's stream, which the stream-driver tests read from its start. */
async function eventStreamArn(): Promise<string> {
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: stack.tables.events }));
  return Table!.LatestStreamArn!;
}

/** Appends a new payment's history to the stack's event table. */
function appendNewPayment(paymentId: string, events: PaymentEvent[], unique: UniqueClaim[] = []) {
  return store.append({
    paymentId,
    expectedVersion: 0,
    events,
    unique,
    metadata: { correlationId: "c", causationId: "c", source: "test" },
    now: new Date(),
    newId: ulid,
  });
}

describe("the DynamoDB Streams driver", () => {
  it("hands the event table's new items to a handler as DynamoDBStreamEvent batches, filtered by entity", async () => {
    const paymentId = `pay_${ulid()}`;
    const seen: DynamoDBRecord[] = [];
    const streamArn = await eventStreamArn();
    drivers.push(
      startDynamoDbStreamDriver({
        streams: clients.streams,
        streamArn,
        fn,
        startingPosition: "TRIM_HORIZON",
        filters: [{ dynamodb: { NewImage: { __edb_e__: { S: ["event"] } } } }],
        handler: async (event) => {
          seen.push(...event.Records.filter((r) => r.dynamodb?.Keys?.pk?.S === paymentId));
        },
      }),
    );
    await appendNewPayment(paymentId, history.screened(), [{ kind: "orderId", value: `ord-${paymentId}` }]);
    const records = await eventually(() => (seen.length >= 2 ? seen : undefined), {
      what: "two stream records",
    });
    expect(records.map((r) => r.eventName)).toEqual(["INSERT", "INSERT"]);
    expect(records.map((r) => unmarshall(r.dynamodb!.NewImage as never).type)).toEqual([
      "PaymentInitiated",
      "PaymentScreened",
    ]);
    expect(records[0]).toMatchObject({ eventSource: "aws:dynamodb", eventSourceARN: streamArn });
  });

  it("bisects a failing batch, retries a bounded number of times and sends the poison record to the on-failure destination", async () => {
    const paymentId = `pay_${ulid()}`;
    const streamArn = await eventStreamArn();
    const processed: number[] = [];
    const givenUp: number[] = [];
    drivers.push(
      startDynamoDbStreamDriver({
        streams: clients.streams,
        streamArn,
        fn,
        startingPosition: "TRIM_HORIZON",
        filters: [{ dynamodb: { Keys: { pk: { S: [paymentId] } } } }],
        bisectOnError: true,
        maxRetries: 3,
        onFailure: async (records) => {
          givenUp.push(...records.map(versionOf));
        },
        handler: async (event) => {
          if (event.Records.some((r) => versionOf(r) === 3)) throw new Error("poison");
          processed.push(...event.Records.map(versionOf));
        },
      }),
    );
    await appendNewPayment(paymentId, history.captured());
    await eventually(() => (givenUp.length > 0 && processed.length >= 4 ? true : undefined), {
      what: "the batch to settle",
    });
    expect(givenUp).toEqual([3]);
    expect([...new Set(processed)].sort()).toEqual([1, 2, 4, 5]);
  });
});

describe("the DynamoDB Streams driver's partial batch responses", () => {
  it("resumes from the first record the handler reported failed, and redelivers none before it", async () => {
    const paymentId = `pay_${ulid()}`;
    const streamArn = await eventStreamArn();
    const deliveries: number[][] = [];
    let failedOnce = false;
    drivers.push(
      startDynamoDbStreamDriver({
        streams: clients.streams,
        streamArn,
        fn,
        startingPosition: "TRIM_HORIZON",
        filters: [{ dynamodb: { Keys: { pk: { S: [paymentId] } } } }],
        handler: async (event) => {
          deliveries.push(event.Records.map(versionOf));
          const third = event.Records.find((r) => versionOf(r) === 3);
          if (third && !failedOnce) {
            failedOnce = true;
            return { batchItemFailures: [{ itemIdentifier: third.dynamodb!.SequenceNumber! }] };
          }
          return { batchItemFailures: [] };
        },
      }),
    );
    await appendNewPayment(paymentId, history.captured());
    await eventually(
      () =>
        failedOnce && deliveries.flat().filter((v) => v === 3).length === 2 && deliveries.flat().includes(5)
          ? true
          : undefined,
      {
        what: "the retried tail of the batch",
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more should come
    // However the records are paged: nothing before the failed record comes again, the failed one
    // comes exactly twice, and the rest at least once, in order.
    const times = (v: number) => deliveries.flat().filter((x) => x === v).length;
    expect([times(1), times(2), times(3)]).toEqual([1, 1, 2]);
    expect(times(4)).toBeGreaterThanOrEqual(1);
    expect(deliveries.flat().filter((v, i, all) => all.indexOf(v) === i)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("the SQS driver", () => {
  it("deletes only the records that did not fail (partial batch response)", async () => {
    const queues = await freshQueues(clients.sqs);
    const receives = new Map<string, number>();
    const succeeded: string[] = [];
    drivers.push(
      startSqsDriver({
        sqs: clients.sqs,
        queue: queues.main,
        fn,
        batchWindowMs: 300,
        handler: async (event) => {
          const failures: { itemIdentifier: string }[] = [];
          for (const record of event.Records) {
            const count = (receives.get(record.body) ?? 0) + 1;
            receives.set(record.body, count);
            if (record.body.startsWith("flaky") && count === 1)
              failures.push({ itemIdentifier: record.messageId });
            else succeeded.push(record.body);
          }
          return { batchItemFailures: failures };
        },
      }),
    );
    const bodies = ["ok-1", "flaky-1", "ok-2", "flaky-2", "ok-3"];
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.main.url,
        Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
    await eventually(() => (succeeded.length === 5 ? true : undefined), { what: "all five to succeed" });
    expect([...succeeded].sort()).toEqual([...bodies].sort());
    expect(Object.fromEntries(receives)).toEqual({
      "ok-1": 1,
      "ok-2": 1,
      "ok-3": 1,
      "flaky-1": 2,
      "flaky-2": 2,
    });
  });

  it("lets a message that always fails reach the DLQ after 3 receives", async () => {
    const queues = await freshQueues(clients.sqs);
    const receiveCounts: string[] = [];
    drivers.push(
      startSqsDriver({
        sqs: clients.sqs,
        queue: queues.main,
        fn,
        handler: async (event) => {
          receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
          return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
        },
      }),
    );
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.main.url, MessageBody: "always fails" }),
    );
    const dead = await eventually(
      async () => {
        const { Messages } = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queues.dlq.url, WaitTimeSeconds: 1 }),
        );
        return Messages?.[0];
      },
      { timeoutMs: 30_000, what: "the message in the DLQ" },
    );
    expect(dead.Body).toBe("always fails");
    expect(receiveCounts).toEqual(["1", "2", "3"]);
  });

  it("keeps order within each FIFO message group", async () => {
    const queues = await freshQueues(clients.sqs, { fifo: true });
    const processed: Record<string, number[]> = { a: [], b: [] };
    let failedOnce = false;
    drivers.push(
      startSqsDriver({
        sqs: clients.sqs,
        queue: queues.main,
        fn,
        handler: async (event) => {
          // As Powertools' SqsFifoPartialProcessor with skipGroupOnError: after a failure, the rest
          // of that group in the batch is failed too.
          const failures: { itemIdentifier: string }[] = [];
          const failedGroups = new Set<string>();
          for (const record of event.Records as SQSRecord[]) {
            const { group, seq } = JSON.parse(record.body) as { group: string; seq: number };
            if (failedGroups.has(group) || (group === "a" && seq === 2 && !failedOnce)) {
              failedOnce = true;
              failedGroups.add(group);
              failures.push({ itemIdentifier: record.messageId });
              continue;
            }
            processed[group]!.push(seq);
          }
          return { batchItemFailures: failures };
        },
      }),
    );
    const messages = [1, 2, 3, 4, 5].flatMap((seq) => ["a", "b"].map((group) => ({ group, seq })));
    for (const m of messages) {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.main.url,
          MessageBody: JSON.stringify(m),
          MessageGroupId: m.group,
        }),
      );
    }
    await eventually(() => (processed.a!.length === 5 && processed.b!.length === 5 ? true : undefined), {
      timeoutMs: 30_000,
      what: "both groups to finish",
    });
    expect(processed).toEqual({ a: [1, 2, 3, 4, 5], b: [1, 2, 3, 4, 5] });
    expect(failedOnce).toBe(true);
  });
});

describe("the schedule driver", () => {
  it("invokes a function with Scheduled Events, one at a time", async () => {
    const times: string[] = [];
    const events: unknown[] = [];
    let overlapping = 0;
    let running = 0;
    drivers.push(
      startScheduleDriver({
        expression: "rate(1 minute)",
        periodMs: 50,
        fn,
        handler: async (event) => {
          running++;
          overlapping = Math.max(overlapping, running);
          times.push(event.time);
          events.push(event);
          await new Promise((resolve) => setTimeout(resolve, 120));
          running--;
        },
      }),
    );
    await eventually(() => (times.length >= 3 ? true : undefined), { what: "three scheduled runs" });
    expect(overlapping).toBe(1);
    // Checked here, not inside the handler: the driver logs a handler's error and goes on, as EventBridge would.
    for (const event of events)
      expect(event).toMatchObject({ source: "aws.events", "detail-type": "Scheduled Event" });
  });
});

describe("the event bus", () => {
  it("routes an event matching the downstream rule to its SQS target, and not one that does not match", async () => {
    const marker = randomUUID();
    const entry = (type: string) => ({
      EventBusName: stack.bus.name,
      Source: "payments",
      DetailType: type,
      Detail: JSON.stringify({ marker, type }),
    });
    const { FailedEntryCount } = await clients.eventBridge.send(
      new PutEventsCommand({ Entries: [entry("PaymentRefunded"), entry("PaymentCaptured")] }),
    );
    expect(FailedEntryCount).toBe(0);
    const received: Array<{ "detail-type": string; source: string; detail: { marker: string } }> = [];
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const { Messages } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.downstream.url,
          WaitTimeSeconds: 1,
          MaxNumberOfMessages: 10,
        }),
      );
      for (const message of Messages ?? []) {
        // Delete what was read, or it comes back after the visibility timeout and counts twice.
        await clients.sqs.send(
          new DeleteMessageCommand({
            QueueUrl: stack.queues.downstream.url,
            ReceiptHandle: message.ReceiptHandle!,
          }),
        );
        const event = JSON.parse(message.Body!);
        if (event.detail?.marker === marker) received.push(event);
      }
    }
    expect(received.map((e) => e["detail-type"])).toEqual(["PaymentCaptured"]);
    expect(received[0]).toMatchObject({
      source: "payments",
      "detail-type": "PaymentCaptured",
      detail: { marker },
    });
  });
});

describe("the Kafka broker", () => {
  it("keeps each key's messages in order from producer to consumer", async () => {
    const topic = `test-${randomUUID().slice(0, 8)}`;
    const kafka = new Kafka({ brokers: stack.kafka.brokers, clientId: "test", logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const keys = ["pay_a", "pay_b", "pay_c"];
    for (let version = 1; version <= 10; version++) {
      await producer.send({
        topic,
        acks: -1,
        messages: keys.map((key) => ({ key, value: String(version) })),
      });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    const seen: Record<string, number[]> = {};
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        seen[key] = [...(seen[key] ?? []), Number(message.value!.toString())];
      },
    });
    await eventually(() => (Object.values(seen).flat().length === 30 ? true : undefined), {
      what: "30 messages",
    });
    await consumer.disconnect();
    const inOrder = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(seen).toEqual({ pay_a: inOrder, pay_b: inOrder, pay_c: inOrder });
  });
});

describe("stripe-mock", () => {
  it("answers stripe-node: a PaymentIntent is created", async () => {
    const url = new URL(stack.stripeMockUrl);
    const stripe = new Stripe("sk_test_local", {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
    });
    const intent = await stripe.paymentIntents.create({
      amount: 2599,
      currency: "usd",
      metadata: { paymentId: "pay_1" },
    });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.object).toBe("payment_intent");
  });
});

describe("linked resources", () => {
  it("let handler code find the stack through Resource from sst and plain SDK clients", () => {
    const script = `
      import { Resource } from "sst";
      import { DynamoDBClient, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
      import { SQSClient, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
      const table = await new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: Resource.EventStore.name }));
      const queue = await new SQSClient({}).send(new GetQueueAttributesCommand({ QueueUrl: Resource.OrderQueue.url, AttributeNames: ["RedrivePolicy"] }));
      console.log(JSON.stringify({ table: table.Table.TableName, redrive: JSON.parse(queue.Attributes.RedrivePolicy), secret: Resource.JwtSecret.value }));
    `;
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...linkedEnvironment(stack),
    };
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      env,
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({
      table: stack.tables.events,
      redrive: { deadLetterTargetArn: stack.queues.ordersDlq.arn, maxReceiveCount: 3 },
      secret: stack.secretValues.JwtSecret,
    });
  });
});
