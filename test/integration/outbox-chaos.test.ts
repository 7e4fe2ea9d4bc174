import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoEventStore,
  createOutboxDeliveries,
  type OutboxDeliveries,
} from "@payments/adapters/dynamodb";
import { createEventBridgePublisher, createKafkaPublisher, type Publisher } from "@payments/adapters/outbox";
import type { RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { createOrderStatusWriter } from "@payments/functions/order-status/order-status";
import { createRelay } from "@payments/functions/outbox-relay/relay";
import { drainStreamFailures } from "@payments/functions/outbox-relay/stream-failures";
import {
  ensureKafkaTopic,
  ensureQueues,
  ensureTable,
  freePort,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type RunningDriver,
  startDynamoDbStreamDriver,
  startEventBridgeFaultProxy,
  startKafka,
  startScheduleDriver,
  streamFailureMessage,
  tableStreamArn,
} from "@payments/local";
import {
  eventItemFilter,
  ordersTable,
  outboxSinks,
  outboxTable,
  streamSubscriptions,
} from "@payments/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { sampleEvent } from "../helpers/fixtures";
import { silenceConsole } from "../helpers/output";
import {
  appendInSteps,
  consumeTopic,
  drainQueue,
  firstArrivals,
  outcomeTypes,
  SPEC_PUBLIC_EVENTS,
} from "../helpers/relay";
import { stackClients, testStack } from "../helpers/stack";

/**
 * The relay under faults (SPEC §5, §10), over a few thousand events: the Kafka broker stopped
 * mid-run and started again, EventBridge failing entries and whole requests (a proxy in front of
 * the emulator), the relay crashing between publishing and advancing its cursor, and order-status
 * fed late, repeated and reordered events. This file has its own broker, bus, queues and tables.
 */

const PAYMENTS = 500;
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
/** mulberry32: a seeded random, so a failing run can be replayed with FC_SEED. */
function seeded(s: number) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(seed);

const stack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const doc = DynamoDBDocumentClient.from(clients.dynamodb);
const suffix = randomUUID().slice(0, 8);
const prefix = `pay_chaos${suffix}_`;
const drivers: RunningDriver[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
let restoreConsole: () => void;
let kafka: { brokers: string[]; stop: () => Promise<void> };
let startBroker: () => Promise<{ brokers: string[]; stop: () => Promise<void> }>;
let proxy: Awaited<ReturnType<typeof startEventBridgeFaultProxy>>;
let deliveries: OutboxDeliveries;
let crashes = 0;
/** Kafka publishes that delivered less than they were given, while the broker was down. */
let kafkaFailedDuringOutage = 0;
let kafkaDown = false;
let crashRate = 0.05;
const tables = { outbox: `outbox-${suffix}`, orders: `orders-${suffix}` };
let queues: Awaited<ReturnType<typeof chaosQueues>>;
let busName: string;

const chaosQueues = () =>
  ensureQueues(
    clients.sqs,
    {
      all: { name: `ChaosAll${suffix}`, fifo: false, visibilityTimeoutSeconds: 30 },
      failures: { name: `ChaosRelayFailures${suffix}`, fifo: false, visibilityTimeoutSeconds: 30 },
    },
    { stage: "test" },
  );

beforeAll(async () => {
  // Powertools writes through the console (which the test silences) only with POWERTOOLS_DEV set
  // before its modules load.
  process.env.POWERTOOLS_DEV = "true";
  const { createRelayHandler } = await import("@payments/functions/outbox-relay/handler");
  const { createSweeperHandler } = await import("@payments/functions/outbox-relay/sweeper");
  restoreConsole = silenceConsole();
  const dir = mkdtempSync(join(tmpdir(), "outbox-chaos-"));
  const ports = { port: await freePort(), controllerPort: await freePort() };
  startBroker = () => startKafka({ ...ports, dataDir: join(dir, "kafka"), logDir: dir });
  [kafka, proxy] = await Promise.all([
    startBroker(),
    startEventBridgeFaultProxy({
      target: stack.awsEndpoint,
      faults: { entryFailureRate: 0.15, requestFailureRate: 0.05 },
      random,
    }),
  ]);
  await ensureKafkaTopic(kafka.brokers, "payments.events", 3);
  await ensureTable(clients.dynamodb, outboxTable, tables.outbox);
  await ensureTable(clients.dynamodb, ordersTable, tables.orders);
  queues = await chaosQueues();
  busName = `chaos-${suffix}`;
  await clients.eventBridge.send(new CreateEventBusCommand({ Name: busName }));
  await clients.eventBridge.send(
    new PutRuleCommand({
      Name: `all-${suffix}`,
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: ["payments"] }),
    }),
  );
  await clients.eventBridge.send(
    new PutTargetsCommand({
      Rule: `all-${suffix}`,
      EventBusName: busName,
      Targets: [{ Id: "q", Arn: queues.all.arn }],
    }),
  );

  const real = createOutboxDeliveries({ client: clients.dynamodb, tableName: tables.outbox });
  deliveries = real;
  // The relay "crashes" after its sinks acknowledged and before the cursor moves.
  const crashing: OutboxDeliveries = {
    ...real,
    async saveCursor(...args) {
      if (random() < crashRate) {
        crashes++;
        throw new Error("injected crash between publishing and advancing the cursor");
      }
      return real.saveCursor(...args);
    },
  };
  const eventBridge = new EventBridgeClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: proxy.url,
  });
  const publishers = [
    createEventBridgePublisher({ client: eventBridge, busName, source: "payments", backoffMs: 20 }),
    countingOutageFailures(
      createKafkaPublisher({
        connection: { brokers: kafka.brokers },
        topic: "payments.events",
        cooldownMs: 1000,
      }),
    ),
  ];
  cleanups.push(
    () => Promise.all(publishers.map((p) => p.close())),
    async () => eventBridge.destroy(),
  );
  // Self-healing is what is measured here: no delivery is given up on (failed after N sweeps has its own test).
  const relay = createRelay({ store, deliveries: crashing, publishers, maxRetries: 1_000_000 });
  const streamArn = await tableStreamArn(clients.dynamodb, stack.tables.events);
  drivers.push(
    startDynamoDbStreamDriver({
      streams: clients.streams,
      streamArn,
      handler: createRelayHandler({ relay: () => relay }),
      fn: { name: "outbox-relay" },
      filters: [{ ...eventItemFilter, dynamodb: { NewImage: { pk: { S: [{ prefix }] } } } }],
      ...streamSubscriptions.relay,
      onFailure: async (records, error, shardId) => {
        await clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: queues.failures.url,
            MessageBody: JSON.stringify(streamFailureMessage(records, shardId, streamArn, error)),
          }),
        );
      },
    }),
    startScheduleDriver({
      expression: "rate(1 minute)",
      periodMs: 1000,
      fn: { name: "outbox-sweeper", timeoutMs: 20_000 },
      handler: createSweeperHandler({
        relay: () => relay,
        batchSize: 50,
        drain: () =>
          drainStreamFailures({
            sqs: clients.sqs,
            queueUrl: queues.failures.url,
            streams: clients.streams,
            relay,
          }),
      }),
    }),
  );
  await new Promise((r) => setTimeout(r, 1500));
}, 180_000);

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.stop()));
  for (const cleanup of cleanups) await cleanup();
  await kafka?.stop();
  await proxy?.stop();
  restoreConsole();
  for (const client of Object.values(clients)) client.destroy();
});

/** The Kafka publisher, counting the publishes that fell short while the broker was down. */
function countingOutageFailures(publisher: Publisher): Publisher {
  return {
    ...publisher,
    sink: publisher.sink,
    ready: () => publisher.ready(),
    close: () => publisher.close(),
    async publish(events) {
      const result = await publisher.publish(events);
      if (kafkaDown && result.delivered.size < events.length) kafkaFailedDuringOutage++;
      return result;
    },
  };
}

function stepsOf(orderId: string, amount: number, kind: number): PaymentEvent[][] {
  const initiated = sampleEvent("PaymentInitiated", { orderId, amount, currency: "usd" });
  const screened = sampleEvent("PaymentScreened");
  const intent = sampleEvent("PaymentIntentCreated");
  const authorized = sampleEvent("PaymentAuthorized", { amountAuthorized: amount });
  const captured = sampleEvent("PaymentCaptured", { amount, totalCaptured: amount });
  const refunded = (n: number) =>
    sampleEvent("PaymentRefunded", { refundId: `rfd_${n}`, amount: 10, totalRefunded: 10 * n });
  if (kind === 0)
    return [[initiated], [screened, intent], [authorized], [captured], [refunded(1)], [refunded(2)]];
  if (kind === 1) return [[initiated, screened, intent, authorized], [captured]];
  return [
    [initiated, screened],
    [intent],
    [authorized],
    [sampleEvent("PaymentCanceled", { reason: "changed mind" })],
  ];
}

const appendPayment = (i: number): Promise<RecordedEvent[]> =>
  appendInSteps(store, `${prefix}${i}`, stepsOf(`ord-${prefix}${i}`, 1000 + i, i % 3));

describe("the outbox relay under faults", () => {
  it("delivers every event to both sinks at least once, in version order on Kafka, with nothing left pending", async () => {
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const phase = (name: string) => {
      phases[name] = Number(((Date.now() - t0) / 1000).toFixed(1));
    };
    const trace: string[] = [];
    const sent: RecordedEvent[] = [];
    let next = 0;
    const writers = Array.from({ length: 12 }, async () => {
      while (next < PAYMENTS) sent.push(...(await appendPayment(next++)));
    });
    // A third of the way in, the broker goes down for about ten seconds.
    const outage = (async () => {
      await eventually(() => (next >= PAYMENTS / 3 ? true : undefined), { timeoutMs: 120_000 });
      await kafka.stop();
      kafkaDown = true;
      await new Promise((r) => setTimeout(r, 10_000));
      kafkaDown = false;
      kafka = await startBroker();
    })();
    await Promise.all([...writers, outage]);
    phase("appended");
    // Each injected fault fired: relay crashes, failed entries and failed requests at the bus,
    // and Kafka publishes that failed while the broker was down.
    expect({
      crashes: crashes > 0,
      failedEntries: proxy.counts().failedEntries > 0,
      failedRequests: proxy.counts().failedRequests > 0,
      kafkaFailedDuringOutage: kafkaFailedDuringOutage > 0,
    }).toEqual({ crashes: true, failedEntries: true, failedRequests: true, kafkaFailedDuringOutage: true });

    // The faults clear; everything must then drain on its own (the stream path and the sweeper).
    proxy.faults.entryFailureRate = 0;
    proxy.faults.requestFailureRate = 0;
    crashRate = 0;
    const ids = new Set(sent.map((e) => e.id));
    const latest = new Map<string, number>();
    for (const e of sent) latest.set(e.paymentId, Math.max(latest.get(e.paymentId) ?? 0, e.version));
    await eventually(
      async () => {
        const cursors = await deliveries.getCursors(
          [...latest.keys()].flatMap((paymentId) => outboxSinks.map((sink) => ({ paymentId, sink }))),
        );
        const behind = [...latest].flatMap(([paymentId, version]) =>
          outboxSinks.filter((sink) => (cursors.get(`${paymentId}\u0000${sink}`)?.delivered ?? 0) < version),
        );
        trace.push(`${((Date.now() - t0) / 1000).toFixed(0)}s:${behind.length}`);
        return behind.length === 0 ? true : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1000, what: "every cursor to reach its payment's latest version" },
    );
    phase("allCursorsCurrent");
    for (const sink of outboxSinks) {
      expect((await deliveries.listByState("lagging", sink)).items).toEqual([]);
      expect((await deliveries.listByState("failed", sink)).items).toEqual([]);
    }

    // Kafka: every id at least once; per payment, first arrivals in version order.
    const consumer = await consumeTopic(kafka.brokers, "payments.events", (key) => key.startsWith(prefix));
    try {
      await eventually(
        () =>
          firstArrivals(consumer.arrivals.map((a) => a.envelope)).unique.size >= ids.size ? true : undefined,
        {
          timeoutMs: 120_000,
          what: `${ids.size} distinct events on the topic (seed ${seed})`,
        },
      );
    } finally {
      await consumer.stop();
    }
    phase("kafkaConsumed");
    const onKafka = firstArrivals(consumer.arrivals.map((a) => a.envelope));
    for (const [paymentId, versions] of onKafka.order) {
      expect(versions, `payment ${paymentId}, seed ${seed}`).toEqual([...versions].sort((a, b) => a - b));
    }
    expect([...ids].filter((id) => !onKafka.unique.has(id))).toEqual([]);

    // EventBridge: every public event reached the rule's queue (which matches every detail-type) at
    // least once, and no internal step did (SPEC §5).
    const publicIds = new Set(sent.filter((e) => SPEC_PUBLIC_EVENTS.has(e.type)).map((e) => e.id));
    expect(publicIds.size).toBeLessThan(ids.size);
    const onBus: RecordedEvent[] = [];
    await eventually(
      async () => {
        onBus.push(
          ...(await drainQueue(clients.sqs, queues.all.url, 1)).map(
            (b) => JSON.parse(b).detail as RecordedEvent,
          ),
        );
        return firstArrivals(onBus).unique.size >= publicIds.size ? true : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: `${publicIds.size} distinct events on the bus (seed ${seed})`,
      },
    );
    phase("busDrained");
    const busArrivals = firstArrivals(onBus);
    expect([...publicIds].filter((id) => !busArrivals.unique.has(id))).toEqual([]);
    expect(onBus.filter((e) => !publicIds.has(e.id)).map((e) => e.type)).toEqual([]);

    // order-status, fed the outcome events late, twice and shuffled: no order's status goes backwards.
    // The order service's orders exist before their outcomes arrive: order-status only updates.
    const paymentIds = [...latest.keys()];
    for (let i = 0; i < paymentIds.length; i += 25) {
      await Promise.all(
        paymentIds
          .slice(i, i + 25)
          .map((paymentId) =>
            doc.send(new PutCommand({ TableName: tables.orders, Item: { order_id: `ord-${paymentId}` } })),
          ),
      );
    }
    const writer = createOrderStatusWriter({ store, client: clients.dynamodb, ordersTable: tables.orders });
    const outcomes = onBus.filter((e) => outcomeTypes.has(e.type));
    const shuffled = [...outcomes, ...outcomes.filter(() => random() < 0.3)]
      .map((e) => ({ e, k: random() }))
      .sort((a, b) => a.k - b.k)
      .map(({ e }) => e);
    const seenVersion = new Map<string, number>();
    let backwards = 0;
    for (let i = 0; i < shuffled.length; i += 16) {
      await Promise.all(
        shuffled.slice(i, i + 16).map(async (event) => {
          await writer({ detail: event });
          const orderId = `ord-${event.paymentId}`;
          const { Item } = await doc.send(
            new GetCommand({ TableName: tables.orders, Key: { order_id: orderId }, ConsistentRead: true }),
          );
          const version = Item?.payment_version as number;
          if (version < (seenVersion.get(orderId) ?? 0)) backwards++;
          seenVersion.set(orderId, Math.max(version, seenVersion.get(orderId) ?? 0));
        }),
      );
    }
    phase("orderStatusApplied");
    expect(backwards).toBe(0);
    for (const [paymentId] of latest) {
      const lastOutcome = sent.filter((e) => e.paymentId === paymentId && outcomeTypes.has(e.type)).at(-1)!;
      const { Item } = await doc.send(
        new GetCommand({ TableName: tables.orders, Key: { order_id: `ord-${paymentId}` } }),
      );
      expect(Item?.payment_version, `order of ${paymentId}`).toBe(lastOutcome.version);
    }

    const accounting = {
      seed,
      payments: PAYMENTS,
      sent: ids.size,
      kafka: {
        received: consumer.arrivals.length,
        distinct: onKafka.unique.size,
        duplicates: onKafka.duplicates,
        duplicateRate: Number((onKafka.duplicates / ids.size).toFixed(4)),
        lost: ids.size - [...ids].filter((id) => onKafka.unique.has(id)).length,
      },
      eventbridge: {
        received: onBus.length,
        distinct: busArrivals.unique.size,
        duplicates: busArrivals.duplicates,
        public: publicIds.size,
        duplicateRate: Number((busArrivals.duplicates / publicIds.size).toFixed(4)),
        lost: publicIds.size - [...publicIds].filter((id) => busArrivals.unique.has(id)).length,
      },
      faults: {
        ...proxy.counts(),
        injectedCrashes: crashes,
        kafkaOutageSeconds: 10,
        kafkaFailedDuringOutage,
      },
      orderStatus: { applied: shuffled.length, backwards },
      secondsSinceStart: phases,
      behindOverTime: trace.filter((_, i) => i % 5 === 0).join(" "),
    };
    mkdirSync(join("test", ".output"), { recursive: true });
    writeFileSync(join("test", ".output", "outbox-chaos.json"), `${JSON.stringify(accounting, null, 2)}\n`);
    process.stdout.write(`outbox chaos accounting: ${JSON.stringify(accounting)}\n`);
    expect(accounting.kafka.lost).toBe(0);
    expect(accounting.eventbridge.lost).toBe(0);
  }, 600_000);
});
