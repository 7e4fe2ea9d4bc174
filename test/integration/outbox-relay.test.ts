import {
  DeleteRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { createDynamoEventStore, createOutboxDeliveries, deliveryKey } from "@payments/adapters/dynamodb";
import type { RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import {
  type RunningDriver,
  startDynamoDbStreamDriver,
  startSqsDriver,
  tableStreamArn,
} from "@payments/local";
import { eventItemFilter, orderStatusSubscription, streamSubscriptions } from "@payments/topology";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { sampleEvent } from "../helpers/fixtures";
import { silenceConsole } from "../helpers/output";
import { freshQueues } from "../helpers/queues";
import {
  appendInSteps,
  consumeTopic,
  drainQueue,
  firstArrivals,
  outcomeTypes,
  SPEC_PUBLIC_EVENTS,
} from "../helpers/relay";
import { stackClients, testStack } from "../helpers/stack";

const stack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const doc = DynamoDBDocumentClient.from(clients.dynamodb);
const drivers: RunningDriver[] = [];
/** This file's payments only: other files append to the same table while it runs. */
const prefix = `pay_relay${ulid().slice(-6)}_`;
let restoreConsole: () => void;
/** The ids of the outcome events order-status handled successfully. */
const handledOutcomes = new Set<string>();

beforeAll(async () => {
  process.env.POWERTOOLS_DEV = "true";
  restoreConsole = silenceConsole();
  const relay = await import("@payments/functions/outbox-relay");
  const orderStatus = await import("@payments/functions/order-status");
  drivers.push(
    startDynamoDbStreamDriver({
      streams: clients.streams,
      streamArn: await tableStreamArn(clients.dynamodb, stack.tables.events),
      handler: relay.handler,
      fn: { name: "outbox-relay" },
      filters: [{ ...eventItemFilter, dynamodb: { NewImage: { pk: { S: [{ prefix }] } } } }],
      ...streamSubscriptions.relay,
    }),
    startSqsDriver({
      sqs: clients.sqs,
      queue: stack.queues.orderStatus,
      // Records which outcome events order-status handled without failing them.
      handler: async (event, context) => {
        const response = await orderStatus.handler(event, context);
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        for (const record of event.Records)
          if (!failed.has(record.messageId)) handledOutcomes.add(JSON.parse(record.body).detail.id);
        return response;
      },
      fn: { name: "order-status" },
      batchSize: orderStatusSubscription.batchSize,
      batchWindowMs: 100,
    }),
  );
  // The stream driver starts at LATEST: let it take its shard iterators first.
  await new Promise((r) => setTimeout(r, 1500));
});
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.stop()));
  restoreConsole();
  for (const client of Object.values(clients)) client.destroy();
});

const histories = (orderId: string, amount: number): PaymentEvent[][][] => {
  const initiated = sampleEvent("PaymentInitiated", { orderId, amount, currency: "usd" });
  const authorized = [
    sampleEvent("PaymentScreened"),
    sampleEvent("PaymentIntentCreated"),
    sampleEvent("PaymentAuthorized", { amountAuthorized: amount }),
  ];
  const captured = sampleEvent("PaymentCaptured", { amount, totalCaptured: amount });
  return [
    // Captured in one go, then partly refunded.
    [
      [initiated, ...authorized, captured],
      [sampleEvent("PaymentRefunded", { refundId: "rfd_1", amount: 100, totalRefunded: 100 })],
    ],
    // Authorized, then captured later.
    [[initiated], authorized, [captured]],
    // Declined.
    [
      [initiated, sampleEvent("PaymentScreened")],
      [sampleEvent("PaymentFailed", { code: "card_declined", message: "declined", retryable: false })],
    ],
    // Authorized and canceled.
    [[initiated, ...authorized], [sampleEvent("PaymentCanceled", { reason: "customer asked" })]],
  ];
};

describe("a downstream service subscribed to the bus and the topic", () => {
  it("gets every event on Kafka in version order, the captures on the example rule's queue unchanged, and creates no order that the order service does not have", async () => {
    const consumer = await consumeTopic(stack.kafka.brokers, stack.kafka.topic, (key) =>
      key.startsWith(prefix),
    );
    try {
      const payments = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const paymentId = `${prefix}${i}`;
          const orderId = `ord-${paymentId}`;
          const events = await appendInSteps(store, paymentId, histories(orderId, 2000 + i)[i % 4]!);
          return { paymentId, orderId, events };
        }),
      );
      const all = payments.flatMap((p) => p.events);

      // Kafka: every envelope, unchanged, with its headers; first arrivals in version order.
      await eventually(
        () =>
          firstArrivals(consumer.arrivals.map((a) => a.envelope)).unique.size >= all.length
            ? true
            : undefined,
        {
          timeoutMs: 60_000,
          what: `${all.length} events on the topic`,
        },
      );
      const { order } = firstArrivals(consumer.arrivals.map((a) => a.envelope));
      for (const p of payments) {
        expect(order.get(p.paymentId)).toEqual(p.events.map((e) => e.version));
      }
      for (const arrival of consumer.arrivals) {
        const stored = all.find((e) => e.id === arrival.envelope.id)!;
        expect(arrival.envelope).toEqual(stored);
        expect(arrival.key).toBe(stored.paymentId);
        expect(arrival.headers).toEqual({
          type: stored.type,
          id: stored.id,
          schemaVersion: String(stored.schemaVersion),
        });
      }

      // EventBridge: the example rule's queue gets each PaymentCaptured event, its detail the envelope.
      const captured = all.filter((e) => e.type === "PaymentCaptured");
      const downstream: Array<{ source: string; "detail-type": string; detail: RecordedEvent }> = [];
      await eventually(
        async () => {
          const bodies = await drainQueue(clients.sqs, stack.queues.downstream.url, 1);
          downstream.push(
            ...bodies.map((b) => JSON.parse(b)).filter((e) => String(e.detail?.paymentId).startsWith(prefix)),
          );
          return new Set(downstream.map((e) => e.detail.id)).size >= captured.length ? true : undefined;
        },
        { timeoutMs: 60_000, what: `${captured.length} captures on the downstream queue` },
      );
      for (const event of downstream) {
        expect(event.source).toBe("payments");
        expect(event["detail-type"]).toBe("PaymentCaptured");
        expect(event.detail).toEqual(captured.find((e) => e.id === event.detail.id));
      }

      // order-status never invents orders: these orders are not in the order service's table. Once
      // it has handled every outcome event of these payments (without failing them), there is still
      // no item for any of them. Updating an existing order is order-status's own test, and the dev
      // stack's end to end.
      const outcomeIds = all.filter((e) => outcomeTypes.has(e.type)).map((e) => e.id);
      expect(outcomeIds.length).toBeGreaterThan(0);
      await eventually(() => (outcomeIds.every((id) => handledOutcomes.has(id)) ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `order-status to handle the ${outcomeIds.length} outcome events`,
      });
      for (const p of payments) {
        const { Item } = await doc.send(
          new GetCommand({
            TableName: stack.tables.orders,
            Key: { order_id: p.orderId },
            ConsistentRead: true,
          }),
        );
        expect({ order: p.orderId, item: Item }).toEqual({ order: p.orderId, item: undefined });
      }
    } finally {
      await consumer.stop();
    }
  }, 180_000);
});

describe("the bus", () => {
  it("carries the public events only, and a payment whose last event is internal is not left lagging there", async () => {
    // A rule of this test's own on the stack's bus, matching every detail-type from the service.
    const queues = await freshQueues(clients.sqs);
    const rule = `all-${prefix}`.replaceAll("_", "-");
    await clients.eventBridge.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: stack.bus.name,
        EventPattern: JSON.stringify({ source: ["payments"] }),
      }),
    );
    await clients.eventBridge.send(
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: stack.bus.name,
        Targets: [{ Id: "q", Arn: queues.main.arn }],
      }),
    );
    try {
      const paymentId = `${prefix}internal-last`;
      const initiated = sampleEvent("PaymentInitiated", { orderId: `ord-${paymentId}`, currency: "usd" });
      // Initiated, then screened and an intent created: the last two are internal steps.
      const events = await appendInSteps(store, paymentId, [
        [initiated],
        [sampleEvent("PaymentScreened"), sampleEvent("PaymentIntentCreated")],
      ]);
      const deliveries = createOutboxDeliveries({ client: clients.dynamodb, tableName: stack.tables.outbox });
      const cursorOf = async (sink: "eventbridge" | "kafka") =>
        (await deliveries.getCursors([{ paymentId, sink }])).get(deliveryKey(paymentId, sink));
      await eventually(
        async () => {
          const [bus, kafka] = await Promise.all([cursorOf("eventbridge"), cursorOf("kafka")]);
          return bus?.delivered === 3 && kafka?.delivered === 3 ? { bus, kafka } : undefined;
        },
        { timeoutMs: 60_000, what: "both cursors at version 3" },
      );
      expect(await cursorOf("eventbridge")).toMatchObject({ state: "current", delivered: 3, latest: 3 });
      const onBus: RecordedEvent[] = [];
      await eventually(
        async () => {
          onBus.push(
            ...(await drainQueue(clients.sqs, queues.main.url, 1))
              .map((b) => JSON.parse(b).detail as RecordedEvent)
              .filter((e) => e.paymentId === paymentId),
          );
          return onBus.length > 0 ? true : undefined;
        },
        { timeoutMs: 30_000, what: "the payment's events on the bus" },
      );
      // A little longer, for anything that should not come.
      await new Promise((r) => setTimeout(r, 2_000));
      onBus.push(
        ...(await drainQueue(clients.sqs, queues.main.url, 1))
          .map((b) => JSON.parse(b).detail as RecordedEvent)
          .filter((e) => e.paymentId === paymentId),
      );
      expect(events.filter((e) => SPEC_PUBLIC_EVENTS.has(e.type)).map((e) => e.type)).toEqual([
        "PaymentInitiated",
      ]);
      expect([...new Set(onBus.map((e) => e.type))]).toEqual(["PaymentInitiated"]);
    } finally {
      await clients.eventBridge.send(
        new RemoveTargetsCommand({ Rule: rule, EventBusName: stack.bus.name, Ids: ["q"] }),
      );
      await clients.eventBridge.send(new DeleteRuleCommand({ Name: rule, EventBusName: stack.bus.name }));
    }
  }, 120_000);
});
