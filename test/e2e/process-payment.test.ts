import { randomUUID } from "node:crypto";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { foldPayment, isPayment, type RecordedEvent } from "@payments/core";
import {
  linkedEnvironment,
  type RunningDriver,
  type StripeProxy,
  startSqsDriver,
  startStripeProxy,
  toSqsRecord,
} from "@payments/local";
import type { Context, SQSEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually";
import { captureConsole, cardLikeNumbers, jsonLines, silenceConsole } from "../helpers/output";
import { freshQueues } from "../helpers/queues";
import { stackClients, testStack } from "../helpers/stack";

const stack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
const drivers: RunningDriver[] = [];
let proxy: StripeProxy;
let handler: (
  event: SQSEvent,
  context: Context,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

let restoreStdout: () => void;

beforeAll(async () => {
  restoreStdout = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  // Linked exactly as on AWS; only the Stripe API is the proxy in front of stripe-mock.
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
    POWERTOOLS_METRICS_DISABLED: "false",
  });
  ({ handler } = await import("@payments/functions/process-payment"));
});
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
  proxy.clearFaults();
});
afterAll(async () => {
  restoreStdout();
  await proxy.stop();
  for (const client of Object.values(clients)) client.destroy();
});

const context = {
  functionName: "process-payment",
  awsRequestId: "test",
  getRemainingTimeInMillis: () => 30_000,
} as Context;
const orderId = () => `ord-${randomUUID()}`;
const customerId = () => `cus-${randomUUID().slice(0, 8)}`;
const formatA = (order: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    order_id: order,
    customer_id: customerId(),
    amount: "25.99",
    payment_method_id: "pm_card_visa",
    ...extra,
  });

/** An SQSEvent as Lambda builds it, for messages that were (or were not) really on a queue. */
function sqsEvent(
  bodies: string[],
  { queueArn = stack.queues.orders.arn, messageIds = bodies.map(() => randomUUID()) } = {},
): SQSEvent {
  return {
    Records: bodies.map((body, i) =>
      toSqsRecord(
        {
          MessageId: messageIds[i],
          ReceiptHandle: `rh-${messageIds[i]}`,
          Body: body,
          Attributes: { ApproximateReceiveCount: "1" },
        },
        { name: queueArn.split(":").at(-1)!, url: "", arn: queueArn },
      ),
    ),
  };
}

async function paymentOf(order: string): Promise<{ paymentId: string; events: RecordedEvent[] } | undefined> {
  const paymentId = await store.findOwner({ kind: "orderId", value: order });
  if (!paymentId) return undefined;
  return { paymentId, events: await store.load(paymentId) };
}
const typesOf = (events: RecordedEvent[] | undefined) => events?.map((e) => e.type);
/** What Stripe did for an order, counted at the proxy whatever idempotency keys were used. */
const ledgerOf = (order: string) =>
  proxy.ledger().byOrder.get(order) ?? { intents: 0, authorizations: 0, charges: 0, refunds: 0 };

describe("process-payment", () => {
  it("charges a format A request with automatic capture: initiated → screened → intent → authorized → captured", async () => {
    const order = orderId();
    const response = await handler(sqsEvent([formatA(order)]), context);
    expect(response.batchItemFailures).toEqual([]);
    const payment = await paymentOf(order);
    expect(typesOf(payment?.events)).toEqual([
      "PaymentInitiated",
      "PaymentScreened",
      "PaymentIntentCreated",
      "PaymentAuthorized",
      "PaymentCaptured",
    ]);
    expect(foldPayment(payment!.events).state).toMatchObject({
      status: "captured",
      amount: 2599,
      amountCaptured: 2599,
      currency: "usd",
    });
    expect(payment!.events[0]!.metadata).toMatchObject({ correlationId: order, source: "queue" });
  });

  it("charges once when the same message is delivered twice", async () => {
    const order = orderId();
    const event = sqsEvent([formatA(order)]);
    await handler(event, context);
    const again = await handler(event, context);
    expect(again.batchItemFailures).toEqual([]);
    const payment = await paymentOf(order);
    expect(typesOf(payment?.events)).toHaveLength(5);
    expect(ledgerOf(order)).toEqual({ intents: 1, authorizations: 0, charges: 1, refunds: 0 });
  });

  it("charges nothing more when the same order comes again for another amount, and does not retry it", async () => {
    const order = orderId();
    await handler(sqsEvent([formatA(order)]), context);
    const { result, lines } = await captureConsole(() =>
      handler(sqsEvent([formatA(order, { amount: "30.00" })]), context),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(jsonLines(lines).find((l) => l.outcome === "order_conflict")?.reason).toContain(
      "is for 2599 usd, not 3000 usd",
    );
    const payment = await paymentOf(order);
    expect(foldPayment(payment!.events).state).toMatchObject({ status: "captured", amountCaptured: 2599 });
    expect(ledgerOf(order)).toMatchObject({ intents: 1, charges: 1 });
  });

  it("reports exactly the 3 records of a 10-record batch that failed transiently", async () => {
    const orders = Array.from({ length: 10 }, orderId);
    const flaky = [orders[1]!, orders[4]!, orders[8]!];
    proxy.injectFaults(
      flaky.map((o, i) => ({ orderId: o, respond: ([500, 429, 503] as const)[i]!, times: 1 })),
    );
    const event = sqsEvent(orders.map((o) => formatA(o)));
    const response = await handler(event, context);
    const failedIds = response.batchItemFailures.map((f) => f.itemIdentifier).sort();
    expect(failedIds).toEqual(
      [event.Records[1]!.messageId, event.Records[4]!.messageId, event.Records[8]!.messageId].sort(),
    );
    for (const o of orders.filter((o) => !flaky.includes(o))) {
      expect(foldPayment((await paymentOf(o))!.events).state.status).toBe("captured");
      expect(ledgerOf(o).charges).toBe(1);
    }
    for (const o of flaky) expect(ledgerOf(o).charges).toBe(0);
  });

  it("continues a recorded PaymentIntent after the gateway's idempotency window instead of charging again", async () => {
    const order = orderId();
    proxy.injectFaults([{ orderId: order, pathIncludes: "/confirm", respond: 500, times: 1 }]);
    const event = sqsEvent([formatA(order)]);
    expect((await handler(event, context)).batchItemFailures).toHaveLength(1);
    const before = await paymentOf(order);
    expect(typesOf(before?.events)).toEqual(["PaymentInitiated", "PaymentScreened", "PaymentIntentCreated"]);
    proxy.forgetIdempotencyKeys(); // a late DLQ redrive, more than 24 h later
    expect((await handler(event, context)).batchItemFailures).toEqual([]);
    const after = await paymentOf(order);
    expect(foldPayment(after!.events).state.status).toBe("captured");
    expect(ledgerOf(order)).toEqual({ intents: 1, authorizations: 0, charges: 1, refunds: 0 });
  });

  it("records a decline as PaymentFailed and does not retry it", async () => {
    const order = orderId();
    const response = await handler(
      sqsEvent([formatA(order, { payment_method_id: "pm_card_chargeDeclined" })]),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    const payment = await paymentOf(order);
    expect(payment!.events.at(-1)).toMatchObject({
      type: "PaymentFailed",
      data: { code: "card_declined", retryable: false },
    });
    expect(ledgerOf(order).charges).toBe(0);
  });

  it("rejects a card-testing burst without calling the gateway", async () => {
    const customer = customerId();
    const orders = Array.from({ length: 25 }, orderId);
    const bodies = orders.map((o) =>
      JSON.stringify({
        order_id: o,
        customer_id: customer,
        amount: "1.00",
        payment_method_id: "pm_card_visa",
      }),
    );
    // Batches as a burst arrives; records of one batch run in parallel, so the last payment comes alone
    // and must see the 24 before it, counted at their initiation.
    for (let i = 0; i < 24; i += 8) await handler(sqsEvent(bodies.slice(i, i + 8)), context);
    // A fraud rejection is a business outcome: recorded, and not retried.
    expect((await handler(sqsEvent(bodies.slice(24)), context)).batchItemFailures).toEqual([]);
    const outcomes = await Promise.all(orders.map(async (o) => (await paymentOf(o))!.events.at(-1)!));
    expect(outcomes[0]).toMatchObject({ type: "PaymentCaptured" });
    const last = outcomes.at(-1)!;
    expect(last).toMatchObject({
      type: "PaymentRejected",
      data: { reasons: expect.arrayContaining(["velocity_extreme", "velocity_hourly"]) },
    });
    expect(proxy.calls().filter((c) => c.paymentId === last.paymentId)).toEqual([]);
  });

  it("stops a card-testing burst that arrives inside one batch", async () => {
    const customer = customerId();
    const orders = Array.from({ length: 25 }, orderId);
    const bodies = orders.map((o) =>
      JSON.stringify({
        order_id: o,
        customer_id: customer,
        amount: "1.00",
        payment_method_id: "pm_card_visa",
      }),
    );
    // All 25 records run at once. Each is counted before it is screened, so whatever the interleaving,
    // the payment counted k-th sees at least k-1 others: at most 10 (seeing under 10) can be approved,
    // and at least the last 5 (seeing 20 or more) are rejected.
    const response = await handler(sqsEvent(bodies), context);
    expect(response.batchItemFailures).toEqual([]);
    const statuses = await Promise.all(
      orders.map(async (o) => foldPayment((await paymentOf(o))!.events).state.status),
    );
    const count = (status: string) => statuses.filter((s) => s === status).length;
    expect(count("captured")).toBeLessThanOrEqual(10);
    expect(count("rejected")).toBeGreaterThanOrEqual(5);
    expect(count("captured") + count("authorized") + count("rejected")).toBe(25);
    const charged = orders.reduce((sum, o) => sum + ledgerOf(o).charges, 0);
    expect(charged).toBe(count("captured"));
  });

  it("holds a payment that screening sends to review: manual capture, status authorized", async () => {
    const order = orderId();
    // A first-time customer's large payment with no address: 30 + 25 + 5 = 60, the review threshold.
    const response = await handler(sqsEvent([formatA(order, { amount: 1200 })]), context);
    expect(response.batchItemFailures).toEqual([]);
    const { state } = foldPayment((await paymentOf(order))!.events);
    expect(state).toMatchObject({
      status: "authorized",
      amountAuthorized: 120000,
      amountCaptured: 0,
      fraud: { decision: "review" },
    });
  });

  it("takes format B with its payment id and billing address, and fails B without a payment method", async () => {
    const paymentId = `ext_${randomUUID().slice(0, 8)}`;
    const order = orderId();
    const b = (id: string, o: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        payment_id: id,
        order_id: o,
        customer_id: customerId(),
        amount: 42.5,
        payment_method: "card",
        billing_address: { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" },
        ...extra,
      });
    const withoutMethod = orderId();
    const response = await handler(
      sqsEvent([
        b(paymentId, order, { payment_method_id: "pm_card_visa" }),
        b(`ext_${randomUUID().slice(0, 8)}`, withoutMethod),
      ]),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(foldPayment(await store.load(paymentId)).state).toMatchObject({
      status: "captured",
      amount: 4250,
      fraud: { score: 0 },
    });
    expect((await paymentOf(withoutMethod))!.events.at(-1)).toMatchObject({
      type: "PaymentFailed",
      data: { code: "payment_method_required" },
    });
  });

  it("charges format B in the currency it names: 1000 jpy, not 1000.00 usd", async () => {
    const order = orderId();
    const body = JSON.stringify({
      payment_id: `ext_${randomUUID().slice(0, 8)}`,
      order_id: order,
      customer_id: customerId(),
      amount: 1000,
      currency: "jpy",
      payment_method: "card",
      payment_method_id: "pm_card_visa",
      billing_address: { street: "1-1 Chiyoda", city: "Tokyo", state: "Tokyo", zip: "100-0001" },
    });
    expect((await handler(sqsEvent([body]), context)).batchItemFailures).toEqual([]);
    expect(foldPayment((await paymentOf(order))!.events).state).toMatchObject({
      status: "captured",
      amount: 1000,
      currency: "jpy",
    });
    const create = proxy.calls().find((c) => c.orderId === order && c.path === "/v1/payment_intents");
    expect(create?.params).toMatchObject({ amount: "1000", currency: "jpy" });
  });

  it("refuses, without retrying or appending, what the domain or the gateway can never take", async () => {
    const kwd = orderId();
    const hugeStreet = orderId();
    const bodies = [
      JSON.stringify({ order_id: kwd, amount: "1.234", currency: "kwd", payment_method_id: "pm_card_visa" }),
      JSON.stringify({
        payment_id: `ext_${randomUUID().slice(0, 8)}`,
        order_id: hugeStreet,
        customer_id: customerId(),
        amount: "10.00",
        payment_method: "card",
        payment_method_id: "pm_card_visa",
        billing_address: { street: "s".repeat(300_000), city: "c", state: "s", zip: "12345" },
      }),
    ];
    const { result, lines } = await captureConsole(() => handler(sqsEvent(bodies), context));
    expect(result.batchItemFailures).toEqual([]);
    const reasons = jsonLines(lines)
      .filter((l) => l.message === "malformed order message: not retried")
      .map((l) => String(l.reason));
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringContaining("Stripe takes kwd in steps of 0.010 kwd"),
        expect.stringContaining("billing_address.street: Too big"),
      ]),
    );
    expect(await paymentOf(kwd)).toBeUndefined();
    expect(await paymentOf(hugeStreet)).toBeUndefined();
  });

  it("logs each malformed variant with a clear reason, retries none, and appends nothing", async () => {
    const variants: Array<[string, string, string]> = [
      ["not JSON", "{order_id: 1", "body is not JSON"],
      ["missing fields", JSON.stringify({ amount: "1.00" }), "order_id"],
      [
        "too many decimals",
        JSON.stringify({
          order_id: orderId(),
          amount: "25.999",
          currency: "usd",
          payment_method_id: "pm_card_visa",
        }),
        "more decimals than usd allows",
      ],
      [
        "negative",
        JSON.stringify({ order_id: orderId(), amount: -5, payment_method_id: "pm_card_visa" }),
        "must not be negative",
      ],
      [
        "huge",
        JSON.stringify({ order_id: orderId(), amount: 1e12, payment_method_id: "pm_card_visa" }),
        "over the limit",
      ],
      ["wrong types", JSON.stringify({ order_id: 42, amount: true, payment_method_id: ["pm"] }), "format A"],
      [
        "unknown currency",
        JSON.stringify({
          order_id: orderId(),
          amount: "1.00",
          currency: "xyz",
          payment_method_id: "pm_card_visa",
        }),
        "not an ISO 4217 code",
      ],
      ["a JSON array", "[1,2]", "not a JSON object"],
    ];
    const event = sqsEvent(variants.map(([, body]) => body));
    const { result, lines } = await captureConsole(() => handler(event, context));
    expect(result.batchItemFailures).toEqual([]);
    const errors = jsonLines(lines).filter((l) => l.message === "malformed order message: not retried");
    expect(errors).toHaveLength(variants.length);
    for (const [name, , reason] of variants) {
      expect(
        errors.some((l) => String(l.reason).includes(reason)),
        `${name}: ${reason}`,
      ).toBe(true);
    }
    for (const [, body] of variants) {
      const order = (() => {
        try {
          return JSON.parse(body).order_id;
        } catch {
          return undefined;
        }
      })();
      if (typeof order === "string") expect(await paymentOf(order)).toBeUndefined();
    }
  });

  it("writes no secret and no card data to its logs, on every path, and one summary line per batch", async () => {
    const card = "4242424242424242";
    const transient = orderId();
    proxy.injectFaults([{ orderId: transient, respond: 503, times: 1 }]);
    const { lines } = await captureConsole(() =>
      handler(
        sqsEvent([
          // Card data where it does not belong: an extra field, the token itself, a malformed body.
          formatA(orderId(), { card_number: card, cvc: "123" }),
          formatA(orderId(), { payment_method_id: card }),
          `{"order_id": "x", "card": "${card}"`,
          formatA(orderId(), { payment_method_id: "pm_card_chargeDeclined" }),
          formatA(transient),
        ]),
        context,
      ),
    );
    const text = lines.join("\n");
    expect(text).not.toContain(stack.secretValues.StripeSecretKey);
    expect(text).not.toContain(card);
    expect(cardLikeNumbers(text)).toEqual([]);
    // The paths above were really taken: a charge, a refusal, a malformed body, a decline, a retry.
    const messages = jsonLines(lines).map((l) => l.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        "payment captured",
        "malformed order message: not retried",
        "payment failed: recorded, not retried",
        "transient failure: the message will be retried",
      ]),
    );
    const summaries = jsonLines(lines).filter((l) => l.message === "batch done");
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      records: 5,
      processed: 4,
      failed: 1,
      coldStart: expect.any(Boolean),
      durationMs: expect.any(Number),
    });
    const metrics = jsonLines(lines).filter((l) => l._aws);
    const names = metrics.flatMap((m) =>
      (
        m._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }
      ).CloudWatchMetrics[0]!.Metrics.map((x) => x.Name),
    );
    expect(names).toEqual(expect.arrayContaining(["PaymentsProcessed", "PaymentsFailed", "PaymentAmount"]));
    // PaymentAmount carries its currency, so that a sum never mixes currencies.
    const amounts = metrics.filter((m) => "PaymentAmount" in m);
    expect(amounts.length).toBeGreaterThan(0);
    for (const m of amounts) {
      expect(m.currency).toBe("usd");
      const dimensions = (m._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> })
        .CloudWatchMetrics[0]!.Dimensions;
      expect(dimensions.flat()).toContain("currency");
    }
  });
});

describe("process-payment on the real queue, through the SQS driver", () => {
  const send = (url: string, body: string, groupId?: string) =>
    clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        ...(groupId ? { MessageGroupId: groupId } : {}),
      }),
    );
  /** Each record an invocation handled: its receive, its outcome, and when that invocation ran (ms). */
  type Seen = Array<{ messageId: string; receiveCount: string; failed: boolean; from: number; to: number }>;
  const drive = (queue: Awaited<ReturnType<typeof freshQueues>>["main"], into?: Seen) => {
    const seen: Seen = into ?? [];
    drivers.push(
      startSqsDriver({
        sqs: clients.sqs,
        queue,
        fn: { name: "process-payment" },
        batchWindowMs: 300,
        handler: async (event, ctx) => {
          const from = performance.now();
          const response = await handler(event, ctx);
          const to = performance.now();
          const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          seen.push(
            ...event.Records.map((r) => ({
              messageId: r.messageId,
              receiveCount: r.attributes.ApproximateReceiveCount,
              failed: failed.has(r.messageId),
              from,
              to,
            })),
          );
          return response;
        },
      }),
    );
    return seen;
  };
  const dlqMessages = async (url: string) => {
    const { Messages } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
    );
    return Messages ?? [];
  };

  it("classifies failures as SPEC §4.1 says: malformed and business failures are not retried, transient ones are, then the DLQ", async () => {
    const queues = await freshQueues(clients.sqs);
    const seen = drive(queues.main);
    const declined = orderId();
    const flaky = orderId();
    const broken = orderId();
    proxy.injectFaults([
      { orderId: flaky, respond: 500, times: 1 },
      { orderId: broken, respond: 503 },
    ]);
    const ids = {
      malformed: (await send(queues.main.url, "not json at all")).MessageId!,
      declined: (
        await send(queues.main.url, formatA(declined, { payment_method_id: "pm_card_chargeDeclined" }))
      ).MessageId!,
      flaky: (await send(queues.main.url, formatA(flaky))).MessageId!,
      broken: (await send(queues.main.url, formatA(broken))).MessageId!,
    };
    const dead = await eventually(
      async () => {
        const messages = await dlqMessages(queues.dlq.url);
        return messages.length > 0 ? messages : undefined;
      },
      { timeoutMs: 40_000, what: "the always-failing message in the DLQ" },
    );
    const receives = (id: string) =>
      seen.filter((s) => s.messageId === id).map((s) => `${s.receiveCount}${s.failed ? "✗" : "✓"}`);
    expect(dead.map((m) => m.MessageId)).toEqual([ids.broken]);
    expect(receives(ids.malformed)).toEqual(["1✓"]);
    expect(receives(ids.declined)).toEqual(["1✓"]);
    expect(receives(ids.flaky)).toEqual(["1✗", "2✓"]);
    expect(receives(ids.broken)).toEqual(["1✗", "2✗", "3✗"]);
    expect(foldPayment((await paymentOf(declined))!.events).state.status).toBe("failed");
    expect(foldPayment((await paymentOf(flaky))!.events).state.status).toBe("captured");
    const stuck = foldPayment((await paymentOf(broken))!.events).state;
    expect(isPayment(stuck) && stuck.status).toBe("initiated");
  }, 60_000);

  it("makes one payment, and one charge, of one order sent twice at once, with Stripe's 409 for a key in flight", async () => {
    // Redeliveries that meet the slowed confirm fail until it is done: room for them before the DLQ.
    const queues = await freshQueues(clients.sqs, { maxReceiveCount: 10 });
    // Two concurrent pollers, as Lambda scales out: while one invocation waits on Stripe, the
    // other takes the message SQS makes visible again.
    const seen = drive(queues.main);
    drive(queues.main, seen);
    const order = orderId();
    const body = formatA(order);
    // Stripe slows the first confirm down well past the visibility timeout (2 s here), so that a
    // redelivery handled by the other poller continues the same payment while that confirm is still
    // in flight; a later one finds it charged.
    proxy.injectFaults([
      { orderId: order, pathIncludes: "/confirm", respond: "slow", delayMs: 6_000, times: 1 },
    ]);
    const ids = [
      (await send(queues.main.url, body)).MessageId!,
      (await send(queues.main.url, body)).MessageId!,
    ];
    // Each delivery ends done: the winner charges; the others are retried by SQS and find it charged.
    await eventually(
      () => (ids.every((id) => seen.some((s) => s.messageId === id && !s.failed)) ? true : undefined),
      { timeoutMs: 40_000, what: "both deliveries done" },
    );
    const payment = await paymentOf(order);
    expect(foldPayment(payment!.events).state).toMatchObject({ status: "captured", amountCaptured: 2599 });
    expect(payment!.events.filter((e) => e.type === "PaymentInitiated")).toHaveLength(1);
    expect(ledgerOf(order)).toEqual({ intents: 1, authorizations: 0, charges: 1, refunds: 0 });
    // The race happened: Stripe answered 409 to a request whose idempotency key was still in flight,
    // and the invocation that got it overlapped the one whose confirm was slowed.
    const conflicts = proxy.calls().filter((c) => c.orderId === order && c.status === 409);
    expect(conflicts.length).toBeGreaterThan(0);
    const confirmed = proxy
      .calls()
      .filter((c) => c.orderId === order && c.path.endsWith("/confirm") && c.status === 200);
    expect(confirmed).toHaveLength(1);
    // Every 409 was for a key of this payment's own steps: the confirm in flight, or its intent's
    // create when both deliveries reach Stripe at once (a CI run had a 409 that was not the
    // confirm's). Either way, one intent and one charge (above).
    const paymentId = payment!.events[0]!.paymentId;
    const ownKey = new RegExp(`^${paymentId}:(create|confirm)$`);
    expect(
      conflicts
        .filter((c) => !ownKey.test(c.idempotencyKey ?? ""))
        .map((c) => `${c.path} key=${c.idempotencyKey}`),
    ).toEqual([]);
    const winner = seen.find((s) => !s.failed && s.receiveCount === "1");
    const overlapping = seen.filter((s) => s.failed && winner && s.from < winner.to && winner.from < s.to);
    expect(overlapping.length).toBeGreaterThan(0);
  }, 60_000);

  it("keeps one message group's payments in order on a FIFO queue, even when one fails and is retried", async () => {
    const queues = await freshQueues(clients.sqs, { fifo: true });
    drive(queues.main);
    const group = customerId();
    const orders = Array.from({ length: 4 }, orderId);
    proxy.injectFaults([{ orderId: orders[1]!, respond: 500, times: 1 }]);
    for (const o of orders) await send(queues.main.url, formatA(o), group);
    const captured = await eventually(
      async () => {
        const payments = await Promise.all(orders.map(paymentOf));
        const at = payments.map((p) => p?.events.find((e) => e.type === "PaymentCaptured")?.occurredAt);
        return at.every(Boolean) ? (at as string[]) : undefined;
      },
      { timeoutMs: 30_000, what: "all four payments captured" },
    );
    expect([...captured].sort()).toEqual(captured);
    expect(proxy.calls().some((c) => c.orderId === orders[1] && c.fault === 500)).toBe(true);
  }, 45_000);
});
