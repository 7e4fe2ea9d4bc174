import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { createMemoryEventStore } from "@payments/adapters/memory";
import {
  createCommandHandler,
  type EventStore,
  foldPayment,
  InvalidCommandError,
  isPayment,
  LifecycleRuleError,
  type PaymentCommand,
  PaymentNotFoundError,
  parseRecordedEvent,
} from "@payments/core";
import fc from "fast-check";
import { ulid } from "ulid";
import { describe, expect, it } from "vitest";
import { freshEventStoreTable } from "../helpers/dynamo";
import { propertyRuns } from "../helpers/property";

/**
 * Random command sequences, ordinary and hostile, run through the command handler against each
 * store. After every step:
 * - refunded ≤ captured ≤ authorized ≤ the payment's amount;
 * - every stored event loads with its schema;
 * - a refused command appended nothing;
 * - the fold of the stored stream is the state the handler returned.
 */

/** Amounts as callers send them: mostly ordinary, sometimes zero, negative, fractional, NaN or huge. */
const amount = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 12_000 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -1,
      -5_000,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53,
      100_000_000,
    ),
  },
);
const text = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("customer asked", "duplicate", "") },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(501), "bad\u0000byte") },
);

const command: fc.Arbitrary<PaymentCommand> = fc.oneof(
  fc.record({
    type: fc.constant("InitiatePayment" as const),
    orderId: fc.constantFrom("ord-1", "ord-2", "", "ord\n3"),
    amount,
    currency: fc.constantFrom("usd", "jpy", "kwd", "USD", "xyz"),
    paymentMethod: fc.constant({ type: "card", token: "pm_card_visa" }),
    captureMethod: fc.constantFrom("automatic" as const, "manual" as const),
    source: fc.constantFrom("api" as const, "queue" as const, "webhook" as const),
    provider: fc.constantFrom("stripe" as const, "zalopay" as const),
  }),
  fc.record({
    type: fc.constant("ScreenPayment" as const),
    activity: fc.record({
      paymentsLast10Minutes: fc.oneof(fc.nat(15), fc.constant(Number.NaN)),
      paymentsLastHour: fc.nat(25),
      declinesLastHour: fc.nat(4),
      declinesLastDay: fc.nat(4),
      lifetimePayments: fc.nat(3),
    }),
    thresholds: fc.constantFrom({ reviewAt: 60, rejectAt: 85 }, { reviewAt: 0, rejectAt: 0 }),
  }),
  fc.record({
    type: fc.constant("RecordPaymentIntent" as const),
    gateway: fc.constant("stripe" as const),
    gatewayPaymentId: fc.constantFrom("pi_1", "pi_2", ""),
  }),
  fc.record({
    type: fc.constant("AuthorizePayment" as const),
    gateway: fc.constant("stripe" as const),
    gatewayPaymentId: fc.constantFrom("pi_1", "pi_2"),
    amountAuthorized: amount,
    captured: fc.boolean(),
  }),
  fc.record({ type: fc.constant("CapturePayment" as const), amount: fc.option(amount, { nil: undefined }) }),
  fc.record({
    type: fc.constant("RefundPayment" as const),
    refundId: fc.constantFrom("re_1", "re_2", "re_3", "re_4", ""),
    amount: fc.option(amount, { nil: undefined }),
    reason: fc.option(text, { nil: undefined }),
  }),
  fc.record({ type: fc.constant("CancelPayment" as const), reason: text }),
  fc.record({
    type: fc.constant("FailPayment" as const),
    code: fc.constantFrom("card_declined", ""),
    message: text,
    retryable: fc.boolean(),
  }),
) as fc.Arbitrary<PaymentCommand>;

/** A sequence that starts by initiating a payment, so that most of it exercises the lifecycle. */
const sequence = fc
  .tuple(
    fc.record({
      type: fc.constant("InitiatePayment" as const),
      orderId: fc.constant("ord-1"),
      amount: fc.integer({ min: 1, max: 12_000 }),
      currency: fc.constantFrom("usd", "jpy", "kwd"),
      paymentMethod: fc.constant({ type: "card", token: "pm_card_visa" }),
      captureMethod: fc.constantFrom("automatic" as const, "manual" as const),
      source: fc.constant("api" as const),
      provider: fc.constant("stripe" as const),
    }),
    fc.array(command, { minLength: 1, maxLength: 12 }),
  )
  .map(([first, rest]) => [first as PaymentCommand, ...rest]);

const REFUSALS = [InvalidCommandError, LifecycleRuleError, PaymentNotFoundError];
const metadata = { correlationId: "prop", causationId: "prop", source: "property-test" };

async function runSequence(store: EventStore, commands: readonly PaymentCommand[]) {
  const paymentId = `pay_${ulid()}`;
  const handle = createCommandHandler(store, { newId: ulid });
  for (const cmd of commands) {
    const before = await store.load(paymentId);
    let returned: Awaited<ReturnType<typeof handle>> | undefined;
    try {
      returned = await handle({ paymentId, metadata, command: cmd });
    } catch (error) {
      expect(
        REFUSALS.some((type) => error instanceof type),
        `unexpected ${String(error)}`,
      ).toBe(true);
    }
    // load() parses each stored event with its schema: one it could not load would throw here.
    const after = await store.load(paymentId);
    for (const event of after) expect(() => parseRecordedEvent(structuredClone(event))).not.toThrow();
    if (returned === undefined) {
      expect(after, `refused ${cmd.type} appended nothing`).toHaveLength(before.length);
    } else {
      const folded = foldPayment(after);
      expect(folded.version).toBe(returned.version);
      expect(folded.state).toEqual(returned.state);
    }
    const { state } = foldPayment(after);
    if (isPayment(state)) {
      expect(state.amountRefunded).toBeLessThanOrEqual(state.amountCaptured);
      expect(state.amountCaptured).toBeLessThanOrEqual(state.amountAuthorized);
      expect(state.amountAuthorized).toBeLessThanOrEqual(state.amount);
      for (const n of [state.amountRefunded, state.amountCaptured, state.amountAuthorized]) {
        expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
      }
    }
  }
}

const stores: Array<{ name: string; runs: number; create: () => Promise<EventStore> }> = [
  { name: "in-memory", runs: 3_000, create: async () => createMemoryEventStore() },
  {
    name: "DynamoDB Local",
    runs: 600,
    create: async () => createDynamoEventStore(await freshEventStoreTable("props")),
  },
];

describe.each(stores)("the payment lifecycle under random command sequences: $name", ({ runs, create }) => {
  it(`keeps money and the stream consistent over ${runs} sequences`, async () => {
    const store = await create();
    await fc.assert(
      fc.asyncProperty(sequence, (commands) => runSequence(store, commands)),
      propertyRuns(runs),
    );
  }, 300_000);
});
