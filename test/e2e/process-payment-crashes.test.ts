import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { createCustomerActivity, createDynamoEventStore } from "@payments/adapters/dynamodb";
import { createStripeGateway } from "@payments/adapters/stripe";
import {
  type CustomerActivityPort,
  createCommandHandler,
  defaultFraudThresholds,
  type EventStore,
  foldPayment,
  type PaymentGateway,
} from "@payments/core";
import type { PaymentEventType } from "@payments/events";
import { createBatchHandler } from "@payments/functions/process-payment/batch-handler";
import { createOrderProcessor } from "@payments/functions/process-payment/process-order";
import { type RunningDriver, type StripeProxy, startSqsDriver, startStripeProxy } from "@payments/local";
import { ulid } from "ulid";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { silenceConsole } from "../helpers/output";
import { freshQueues } from "../helpers/queues";
import { stackClients, testStack } from "../helpers/stack";

/**
 * The crash windows that matter for money, each ended by a real redelivery from SQS (the record
 * fails, the visibility timeout passes, the driver receives it again with receive count 2), and each
 * judged by the proxy's ledger: one charge per order, whatever idempotency keys were used.
 */
const stack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({
  client: clients.dynamodb,
  tableName: stack.tables.events,
  activityTableName: () => stack.tables.readModels,
});
const activity = createCustomerActivity({ client: clients.dynamodb, tableName: stack.tables.readModels });
const drivers: RunningDriver[] = [];
let proxy: StripeProxy;
let gateway: PaymentGateway;
let restoreConsole: () => void;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  gateway = createStripeGateway({
    secretKey: stack.secretValues.StripeSecretKey,
    apiUrl: proxy.url,
    timeoutMs: 1_000,
  });
});
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
  proxy.clearFaults();
});
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
  for (const client of Object.values(clients)) client.destroy();
});

/** A store that fails, once, the append that carries an event of `type`, as a DynamoDB outage would. */
function failingOnce(inner: EventStore, type: PaymentEventType): EventStore {
  let failed = false;
  return {
    ...inner,
    async append(input) {
      if (!failed && input.events.some((e) => e.type === type)) {
        failed = true;
        throw new Error(`injected: the append of ${type} was lost`);
      }
      return inner.append(input);
    },
  };
}

/** The process-payment Lambda with some of its parts replaced, driven from a fresh queue. */
async function drive(parts: {
  store?: EventStore;
  gateway?: PaymentGateway;
  activity?: CustomerActivityPort;
}) {
  const s = parts.store ?? store;
  const processor = createOrderProcessor({
    store: s,
    handle: createCommandHandler(s, { newId: ulid }),
    gateway: parts.gateway ?? gateway,
    activity: parts.activity ?? activity,
    fraudThresholds: defaultFraudThresholds,
    newPaymentId: () => `pay_${ulid()}`,
    now: () => new Date(),
  });
  const handler = createBatchHandler({
    processOrder: () => processor,
    defaultCurrency: "usd",
    logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "Test", serviceName: "test" }),
    maxReceiveCount: 3,
  });
  const queues = await freshQueues(clients.sqs);
  const seen: string[] = [];
  drivers.push(
    startSqsDriver({
      sqs: clients.sqs,
      queue: queues.main,
      fn: { name: "process-payment" },
      batchWindowMs: 200,
      handler: async (event, ctx) => {
        const response = await handler(event, ctx);
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        for (const r of event.Records)
          seen.push(`${r.attributes.ApproximateReceiveCount}${failed.has(r.messageId) ? "✗" : "✓"}`);
        return response;
      },
    }),
  );
  const send = (body: object) =>
    clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.main.url, MessageBody: JSON.stringify(body) }),
    );
  return { seen, send };
}

const order = () => ({
  order_id: `ord-${randomUUID()}`,
  customer_id: `cus-${randomUUID().slice(0, 8)}`,
  amount: "25.99",
  payment_method_id: "pm_card_visa",
});

async function settledPayment(orderId: string, status: string) {
  return eventually(
    async () => {
      const paymentId = await store.findOwner({ kind: "orderId", value: orderId });
      if (!paymentId) return undefined;
      const events = await store.load(paymentId);
      const { state } = foldPayment(events);
      return state.status === status ? { paymentId, events, state } : undefined;
    },
    { timeoutMs: 20_000, what: `order ${orderId} ${status}` },
  );
}

const ledgerOf = (orderId: string) =>
  proxy.ledger().byOrder.get(orderId) ?? { intents: 0, authorizations: 0, charges: 0, refunds: 0 };

/** Waits until the handler has seen the second receive: its outcome is pushed after it returns. */
const secondReceive = (seen: readonly string[]) =>
  eventually(() => (seen.length >= 2 ? true : undefined), { what: "the second receive" });

describe("process-payment across crash windows, redelivered by SQS", () => {
  it("Stripe confirmed but the answer was lost: the redelivery records the charge, and charges nothing more", async () => {
    const { seen, send } = await drive({});
    const o = order();
    proxy.injectFaults([
      { orderId: o.order_id, pathIncludes: "/confirm", respond: "lost", delayMs: 1_500, times: 1 },
    ]);
    await send(o);
    const { events } = await settledPayment(o.order_id, "captured");
    await eventually(() => (seen.length >= 2 ? true : undefined), { what: "the redelivery" });
    await secondReceive(seen);
    expect(seen).toEqual(["1✗", "2✓"]);
    expect(events.map((e) => e.type)).toEqual([
      "PaymentInitiated",
      "PaymentScreened",
      "PaymentIntentCreated",
      "PaymentAuthorized",
      "PaymentCaptured",
    ]);
    expect(ledgerOf(o.order_id)).toEqual({ intents: 1, authorizations: 0, charges: 1, refunds: 0 });
  }, 40_000);

  it("the same, after Stripe forgot the idempotency keys: the recorded intent is read, not confirmed again", async () => {
    const { seen, send } = await drive({});
    const o = order();
    proxy.injectFaults([
      { orderId: o.order_id, pathIncludes: "/confirm", respond: "lost", delayMs: 1_500, times: 1 },
    ]);
    await send(o);
    await eventually(() => (seen.length >= 1 ? true : undefined), { what: "the first delivery" });
    proxy.forgetIdempotencyKeys();
    await settledPayment(o.order_id, "captured");
    await secondReceive(seen);
    expect(seen).toEqual(["1✗", "2✓"]);
    expect(ledgerOf(o.order_id)).toMatchObject({ intents: 1, charges: 1 });
    // Confirmed once, by the first receive (whose answer was lost): the second read the intent.
    const confirms = proxy.calls().filter((c) => c.orderId === o.order_id && c.path.endsWith("/confirm"));
    expect(confirms.map((c) => c.fault)).toEqual(["lost"]);
  }, 40_000);

  it("the intent was created but recording it failed: the redelivery continues that intent, one charge", async () => {
    const { seen, send } = await drive({ store: failingOnce(store, "PaymentIntentCreated") });
    const o = order();
    await send(o);
    const { state } = await settledPayment(o.order_id, "captured");
    await secondReceive(seen);
    expect(seen).toEqual(["1✗", "2✓"]);
    expect(state).toMatchObject({ amountCaptured: 2599 });
    // Stripe answered the second create from its idempotency cache: one intent, one charge.
    expect(ledgerOf(o.order_id)).toEqual({ intents: 1, authorizations: 0, charges: 1, refunds: 0 });
  }, 40_000);

  it("the payment was counted but screening was not recorded: the redelivery counts nothing more, and still finds it the customer's first", async () => {
    const { seen, send } = await drive({ store: failingOnce(store, "PaymentScreened") });
    // A new customer's payment of at least half the large-amount threshold (1,000.00 usd): SPEC §2's
    // first payment of a large amount. The first attempt wrote the customer's lifetime item, naming
    // this payment, before its screening failed to append.
    const o = { ...order(), amount: "600.00" };
    await send(o);
    const { events } = await settledPayment(o.order_id, "captured");
    await secondReceive(seen);
    expect(seen).toEqual(["1✗", "2✓"]);
    const screened = events.find((e) => e.type === "PaymentScreened")?.data as { reasons: string[] };
    expect(screened.reasons).toContain("first_payment_large_amount");
    expect(await activity.read(o.customer_id, new Date())).toMatchObject({
      paymentsLastHour: 1,
      lifetimePayments: 1,
    });
  }, 40_000);

  it("the process died right after the initiation, which counted the payment: the redelivery counts nothing more", async () => {
    // The count is in the initiation's own transaction: the first boundary after it is the read.
    let crashed = false;
    const crashingAfterInitiation: CustomerActivityPort = {
      ...activity,
      async before(...args) {
        if (!crashed) {
          crashed = true;
          throw new Error("injected: the process died after initiating");
        }
        return activity.before(...args);
      },
    };
    const { seen, send } = await drive({ activity: crashingAfterInitiation });
    const o = order();
    await send(o);
    await settledPayment(o.order_id, "captured");
    await secondReceive(seen);
    expect(seen).toEqual(["1✗", "2✓"]);
    expect(crashed).toBe(true);
    expect(await activity.read(o.customer_id, new Date())).toMatchObject({
      paymentsLastHour: 1,
      lifetimePayments: 1,
    });
    expect(ledgerOf(o.order_id).charges).toBe(1);
  }, 40_000);

  it("a payment initiated without its count (as before counts moved into the initiation) is counted once by its redelivery", async () => {
    // The first attempt initiates through a store that drops the count, then dies before screening.
    let crashed = false;
    const uncounted: EventStore = {
      ...store,
      append: ({ countPayment: _dropped, ...input }) => store.append(input),
    };
    const diesBeforeScreening: CustomerActivityPort = {
      ...activity,
      async before() {
        crashed = true;
        throw new Error("injected: the process died after initiating");
      },
    };
    const first = await drive({ store: uncounted, activity: diesBeforeScreening });
    const o = order();
    await first.send(o);
    await eventually(async () => (crashed ? true : undefined), { what: "the first attempt's crash" });
    await Promise.all(drivers.splice(0).map((d) => d.stop()));
    expect(await activity.read(o.customer_id, new Date())).toMatchObject({ lifetimePayments: 0 });
    // The redelivery, by the process as it is now: it finds the payment initiated and counts it.
    const { send } = await drive({});
    await send(o);
    await settledPayment(o.order_id, "captured");
    expect(await activity.read(o.customer_id, new Date())).toMatchObject({
      paymentsLastHour: 1,
      lifetimePayments: 1,
    });
    expect(ledgerOf(o.order_id).charges).toBe(1);
  }, 40_000);

  it("a decline was counted but its failure was not recorded: the redelivery counts it once", async () => {
    const { seen, send } = await drive({ store: failingOnce(store, "PaymentFailed") });
    const o = { ...order(), payment_method_id: "pm_card_chargeDeclined" };
    await send(o);
    const { events } = await settledPayment(o.order_id, "failed");
    await secondReceive(seen);
    expect(seen).toEqual(["1✗", "2✓"]);
    expect(events.at(-1)).toMatchObject({ type: "PaymentFailed", data: { code: "card_declined" } });
    expect(await activity.read(o.customer_id, new Date())).toMatchObject({ declinesLastDay: 1 });
    expect(ledgerOf(o.order_id).charges).toBe(0);
  }, 40_000);

  it("another delivery confirmed the intent first: Stripe's 'unexpected state' is resolved by reading the intent, not recorded as a failure", async () => {
    // Another delivery of the same order confirms the intent, under a key of its own, just before
    // this one does; this one's confirm is then refused with payment_intent_unexpected_state.
    const racing: PaymentGateway = {
      ...gateway,
      async confirm(input) {
        await gateway.confirm({ ...input, idempotencyKey: `${input.idempotencyKey}:other-delivery` });
        return gateway.confirm(input);
      },
    };
    const { seen, send } = await drive({ gateway: racing });
    const o = order();
    await send(o);
    const { state } = await settledPayment(o.order_id, "captured");
    expect(seen).toEqual(["1✓"]);
    expect(state).toMatchObject({ status: "captured", amountCaptured: 2599 });
    const refused = proxy.calls().filter((c) => c.orderId === o.order_id && c.status === 400);
    expect(refused).toHaveLength(1);
    expect(ledgerOf(o.order_id).charges).toBe(1);
  }, 40_000);
});
