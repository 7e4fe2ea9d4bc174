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
const callsFor = (paymentId: string, step: string) =>
  proxy.effectiveCallsByKey().get(`${paymentId}:${step}`) ?? 0;

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
    expect(callsFor(payment!.paymentId, "create")).toBe(1);
    expect(callsFor(payment!.paymentId, "confirm")).toBe(1);
  });

  it("makes one payment of one order sent under two message ids, even in the same batch", async () => {
    const order = orderId();
    const body = formatA(order);
    const first = await handler(sqsEvent([body, body]), context);
    // The two records race; a loser is retried by SQS and then finds the payment done.
    const retried = sqsEvent(first.batchItemFailures.map(() => body));
    if (retried.Records.length > 0) expect((await handler(retried, context)).batchItemFailures).toEqual([]);
    const payment = await paymentOf(order);
    expect(foldPayment(payment!.events).state).toMatchObject({ status: "captured", amountCaptured: 2599 });
    expect(payment!.events.filter((e) => e.type === "PaymentInitiated")).toHaveLength(1);
    expect(callsFor(payment!.paymentId, "confirm")).toBe(1);
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
    expect(callsFor(payment!.paymentId, "confirm")).toBe(1);
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
    }
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
    const creates = proxy
      .calls()
      .filter((c) => c.orderId === order && c.path === "/v1/payment_intents" && !c.replayed);
    expect(creates).toHaveLength(1);
    expect(callsFor(after!.paymentId, "confirm")).toBe(1);
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
    await handler(sqsEvent(bodies.slice(24)), context);
    const outcomes = await Promise.all(orders.map(async (o) => (await paymentOf(o))!.events.at(-1)!));
    expect(outcomes[0]).toMatchObject({ type: "PaymentCaptured" });
    const last = outcomes.at(-1)!;
    expect(last).toMatchObject({
      type: "PaymentRejected",
      data: { reasons: expect.arrayContaining(["velocity_extreme", "velocity_hourly"]) },
    });
    expect(proxy.calls().filter((c) => c.paymentId === last.paymentId)).toEqual([]);
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

  it("writes no secret and no card data to its logs, and one summary line per batch", async () => {
    const { lines } = await captureConsole(() =>
      handler(
        sqsEvent([formatA(orderId()), formatA(orderId(), { payment_method_id: "pm_card_chargeDeclined" })]),
        context,
      ),
    );
    const text = lines.join("\n");
    expect(text).not.toContain(stack.secretValues.StripeSecretKey);
    expect(text).not.toContain("4242424242424242");
    expect(cardLikeNumbers(text)).toEqual([]);
    const summaries = jsonLines(lines).filter((l) => l.message === "batch done");
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      records: 2,
      processed: 2,
      failed: 0,
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
  const drive = (queue: Awaited<ReturnType<typeof freshQueues>>["main"]) => {
    const seen: Array<{ messageId: string; receiveCount: string; failed: boolean }> = [];
    drivers.push(
      startSqsDriver({
        sqs: clients.sqs,
        queue,
        fn: { name: "process-payment" },
        batchWindowMs: 300,
        handler: async (event, ctx) => {
          const response = await handler(event, ctx);
          const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          seen.push(
            ...event.Records.map((r) => ({
              messageId: r.messageId,
              receiveCount: r.attributes.ApproximateReceiveCount,
              failed: failed.has(r.messageId),
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
  });

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
  });
});
