import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createDynamoEventStore, createOutboxDeliveries } from "@payments/adapters/dynamodb";
import { createEventBridgePublisher, createKafkaPublisher, type Publisher } from "@payments/adapters/outbox";
import type { RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { loadSample } from "@payments/events/samples";
import { createRelay } from "@payments/functions/outbox-relay/relay";
import {
  ensureQueues,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalStack,
  startDynamoDbStreamDriver,
  tableStreamArn,
} from "@payments/local";
import { eventItemFilter, streamSubscriptions } from "@payments/topology";
import { Kafka, logLevel } from "kafkajs";
import { ulid } from "ulid";
import { percentile } from "./measure";

export interface RelayBenchResult {
  readonly backlogEvents: number;
  readonly seconds: number;
  readonly eventsPerSecond: Record<string, number>;
  readonly putEventsCallsPerEvent: number;
  readonly kafkaSendsPerEvent: number;
  /** Seconds spent inside each sink's publish during the drain. */
  readonly busySeconds: Record<string, number>;
  readonly latencySamples: number;
  readonly kafkaLatency: { p50: number; p99: number };
  readonly eventBridgeLatency: { p50: number; p99: number };
}

/** Counts what a publisher did, and when it last acknowledged. */
function counted(publisher: Publisher) {
  const stats = { calls: 0, delivered: 0, lastAt: 0, busyMs: 0 };
  const wrapped: Publisher = {
    ...publisher,
    sink: publisher.sink,
    ready: () => publisher.ready(),
    close: () => publisher.close(),
    async publish(events) {
      const t0 = Date.now();
      const result = await publisher.publish(events);
      stats.busyMs += Date.now() - t0;
      stats.calls += result.calls;
      stats.delivered += result.delivered.size;
      if (result.delivered.size > 0) stats.lastAt = Date.now();
      return result;
    },
  };
  return { publisher: wrapped, stats };
}

/**
 * The outbox relay on the local stack (SPEC §9): a backlog of `events` appended while the relay
 * is stopped, then drained through the stream driver into the relay (its batch of 100): events/s
 * to each sink and PutEvents calls per event. Then `samples` single appends, one at a time: the
 * time from the append to the event's arrival at a Kafka consumer and at the example rule's kind
 * of target (an SQS queue, SentTimestamp), p50/p99.
 */
export async function runRelayBench(
  stack: LocalStack,
  { events, samples, log }: { events: number; samples: number; log: (line: string) => void },
): Promise<RelayBenchResult> {
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    PAYMENTS_LOCAL_QUIET: "1",
  });
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: stack.dynamoEndpoint });
  const streams = new DynamoDBStreamsClient({ ...common, endpoint: stack.dynamoEndpoint });
  const sqs = new SQSClient({ ...common, endpoint: stack.awsEndpoint });
  const eventBridge = new EventBridgeClient({ ...common, endpoint: stack.awsEndpoint });
  const store = createDynamoEventStore({ client: dynamodb, tableName: stack.tables.events });
  const run = randomUUID().slice(0, 8);
  const prefix = `pay_relaybench${run}_`;

  // Where EventBridge delivers every event of this run: a queue behind a rule on the stack's bus.
  const { target } = await ensureQueues(
    sqs,
    { target: { name: `RelayBench${run}`, fifo: false, visibilityTimeoutSeconds: 30 } },
    { stage: "bench" },
  );
  await eventBridge.send(
    new PutRuleCommand({
      Name: `relay-bench-${run}`,
      EventBusName: stack.bus.name,
      EventPattern: JSON.stringify({ source: ["payments"] }),
    }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: `relay-bench-${run}`,
      EventBusName: stack.bus.name,
      Targets: [{ Id: "q", Arn: target.arn }],
    }),
  );

  const eb = counted(
    createEventBridgePublisher({ client: eventBridge, busName: stack.bus.name, source: "payments" }),
  );
  const kafka = counted(
    createKafkaPublisher({ connection: { brokers: stack.kafka.brokers }, topic: stack.kafka.topic }),
  );
  const deliveries = createOutboxDeliveries({ client: dynamodb, tableName: stack.tables.outbox });
  const relay = createRelay({
    store,
    deliveries,
    publishers: [eb.publisher, kafka.publisher],
    maxRetries: 3,
  });
  const { createRelayHandler } = await import("@payments/functions/outbox-relay/handler");
  const handler = createRelayHandler({ relay: () => relay });

  // The backlog: payments of 5 events, appended in two steps each.
  const history = (
    [
      "PaymentInitiated",
      "PaymentScreened",
      "PaymentIntentCreated",
      "PaymentAuthorized",
      "PaymentCaptured",
    ] as const
  ).map((type) => {
    const { data } = loadSample<{ data: unknown }>("envelopes", type);
    return { type, data } as PaymentEvent;
  });
  const payments = Math.ceil(events / history.length);
  log(`relay bench: appending a backlog of ${payments * history.length} events…`);
  const metadata = { correlationId: "bench", causationId: "bench", source: "bench" };
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < payments) {
        const paymentId = `${prefix}${next++}`;
        const first = await store.append({
          paymentId,
          expectedVersion: 0,
          events: history.slice(0, 2),
          metadata,
          now: new Date(),
          newId: ulid,
        });
        await store.append({
          paymentId,
          expectedVersion: first.length,
          events: history.slice(2),
          metadata,
          now: new Date(),
          newId: ulid,
        });
      }
    }),
  );
  const backlog = payments * history.length;
  log("relay bench: draining the backlog through the relay…");
  const started = Date.now();
  const driver = startDynamoDbStreamDriver({
    streams,
    streamArn: await tableStreamArn(dynamodb, stack.tables.events),
    handler,
    fn: { name: "outbox-relay" },
    startingPosition: "TRIM_HORIZON",
    filters: [{ ...eventItemFilter, dynamodb: { NewImage: { pk: { S: [{ prefix }] } } } }],
    ...streamSubscriptions.relay,
    pollIntervalMs: 50,
  });
  while (eb.stats.delivered < backlog || kafka.stats.delivered < backlog) {
    await new Promise((r) => setTimeout(r, 100));
    if (Date.now() - started > 600_000)
      throw new Error(
        `relay bench: the backlog did not drain in 10 minutes (eventbridge ${eb.stats.delivered}, kafka ${kafka.stats.delivered} of ${backlog})`,
      );
  }
  const seconds = (Date.now() - started) / 1000;
  const busySeconds = { eventbridge: eb.stats.busyMs / 1000, kafka: kafka.stats.busyMs / 1000 };
  log(
    `relay bench: drained in ${seconds.toFixed(1)} s; time inside PutEvents ${(eb.stats.busyMs / 1000).toFixed(1)} s, inside Kafka sends ${(kafka.stats.busyMs / 1000).toFixed(1)} s`,
  );
  const rate = (stats: { lastAt: number }) => backlog / ((stats.lastAt - started) / 1000);
  const putEventsCallsPerEvent = eb.stats.calls / eb.stats.delivered;
  const kafkaSendsPerEvent = kafka.stats.calls / kafka.stats.delivered;
  // Drop the backlog's EventBridge deliveries before the latency samples.
  await drain(sqs, target.url, () => undefined, 2);

  log(`relay bench: ${samples} single appends for latency…`);
  const appendedAt = new Map<string, number>();
  const kafkaAt = new Map<string, number>();
  const ebAt = new Map<string, number>();
  const consumer = new Kafka({ brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-${run}`,
    maxWaitTimeInMs: 50,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: stack.kafka.topic, fromBeginning: false });
  let assigned: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => {
    assigned = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => assigned());
  await consumer.run({
    eachMessage: async ({ message }) => {
      const envelope = JSON.parse(message.value!.toString()) as RecordedEvent;
      if (envelope.paymentId.startsWith(`${prefix}lat`) && !kafkaAt.has(envelope.id))
        kafkaAt.set(envelope.id, Date.now());
    },
  });
  await joined;
  const draining = { on: true };
  const ebReader = (async () => {
    while (draining.on) {
      await drain(
        sqs,
        target.url,
        (body, sentAt) => {
          const envelope = JSON.parse(body).detail as RecordedEvent;
          if (!ebAt.has(envelope.id)) ebAt.set(envelope.id, sentAt);
        },
        1,
      );
    }
  })();
  for (let i = 0; i < samples; i++) {
    const t0 = Date.now();
    const [event] = await store.append({
      paymentId: `${prefix}lat${i}`,
      expectedVersion: 0,
      events: history.slice(0, 1),
      metadata,
      now: new Date(),
      newId: ulid,
    });
    appendedAt.set(event!.id, t0);
    await new Promise((r) => setTimeout(r, 50));
  }
  const deadline = Date.now() + 120_000;
  while ((kafkaAt.size < samples || ebAt.size < samples) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  draining.on = false;
  await ebReader;
  await consumer.disconnect();
  await driver.stop();
  await Promise.all([eb.publisher.close(), kafka.publisher.close()]);
  for (const client of [dynamodb, streams, sqs, eventBridge]) client.destroy();
  const latencies = (arrivals: Map<string, number>) => {
    const ms = [...appendedAt]
      .flatMap(([id, t]) => (arrivals.has(id) ? [arrivals.get(id)! - t] : []))
      .sort((a, b) => a - b);
    if (ms.length < samples) log(`relay bench: only ${ms.length} of ${samples} latency samples arrived`);
    return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  };
  return {
    backlogEvents: backlog,
    seconds,
    eventsPerSecond: { eventbridge: rate(eb.stats), kafka: rate(kafka.stats) },
    putEventsCallsPerEvent,
    kafkaSendsPerEvent,
    busySeconds,
    latencySamples: samples,
    kafkaLatency: latencies(kafkaAt),
    eventBridgeLatency: latencies(ebAt),
  };
}

/** Receives and deletes what the queue has, with each message's SentTimestamp. */
async function drain(
  sqs: SQSClient,
  url: string,
  each: (body: string, sentAt: number) => void,
  idleRounds: number,
) {
  for (let idle = 0; idle < idleRounds; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["SentTimestamp"],
      }),
    );
    if (Messages.length === 0) {
      idle++;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    idle = 0;
    for (const m of Messages) each(m.Body ?? "", Number(m.Attributes?.SentTimestamp ?? Date.now()));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}
