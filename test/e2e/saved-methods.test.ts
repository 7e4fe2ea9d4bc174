import { randomUUID } from "node:crypto";
import { createDynamoEventStore } from "@payments/adapters/dynamodb";
import { foldPayment, isPayment } from "@payments/core";
import {
  type LocalStack,
  linkedEnvironment,
  type StripeProxy,
  startStripeProxy,
  toSqsRecord,
} from "@payments/local";
import type { Context, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silenceConsole } from "../helpers/output";
import { stackClients, testStack } from "../helpers/stack";

/**
 * Format B as CloudCafe sends it (SPEC §4.1): `payment_method: "credit_card"` and no card token. The
 * customer's saved default payment method is charged off session, through the API's
 * `POST /customers/{id}/payment-methods` and Stripe Customers kept by our proxy; what Stripe did is
 * counted at the proxy.
 */
const stack: LocalStack = testStack();
const clients = stackClients();
const store = createDynamoEventStore({ client: clients.dynamodb, tableName: stack.tables.events });
let proxy: StripeProxy;
let handler: (
  event: SQSEvent,
  context: Context,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
let app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
let token: string;
let restoreConsole: () => void;
const run = randomUUID().slice(0, 8);
const context = {
  functionName: "process-payment",
  awsRequestId: "test",
  getRemainingTimeInMillis: () => 30_000,
} as Context;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  Object.assign(process.env, linkedEnvironment(stack, { stripeApiUrl: proxy.url }), {
    POWERTOOLS_DEV: "true",
    // Four payments a customer within a minute would be velocity for fraud screening; what this file
    // tests is which card is charged, so screening approves (its rules have their own tests).
    FRAUD_REVIEW_AT: "100",
    FRAUD_REJECT_AT: "100",
  });
  ({ handler } = await import("@payments/functions/process-payment"));
  ({ app } = await import("@payments/functions/api"));
  const { issueToken } = await import("@payments/functions/api/auth");
  token = await issueToken(stack.secretValues.JwtSecret);
});
afterAll(async () => {
  restoreConsole();
  await proxy.stop();
  for (const client of Object.values(clients)) client.destroy();
});

const save = async (customerId: string, paymentMethodId: string, extra: Record<string, unknown> = {}) => {
  const response = await app.request(`/customers/${encodeURIComponent(customerId)}/payment-methods`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ paymentMethodId, ...extra }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
/** A CloudCafe message: its own payment id, a customer, an amount in major units, no card token. */
const cloudCafe = (i: number, customerId: string) =>
  JSON.stringify({
    payment_id: `pay-cc-${run}-${i}`,
    order_id: `ord-cc-${run}-${i}`,
    customer_id: customerId,
    amount: 25.99,
    payment_method: "credit_card",
    billing_address: { street: "123 Main St", city: "Seattle", state: "WA", zip: "98101" },
  });
const sqsEvent = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body) => {
    const id = randomUUID();
    return toSqsRecord(
      { MessageId: id, ReceiptHandle: `rh-${id}`, Body: body, Attributes: { ApproximateReceiveCount: "1" } },
      { name: "OrderQueue", url: "", arn: stack.queues.orders.arn },
    );
  }),
});
const stateOf = async (paymentId: string) => {
  const { state } = foldPayment(await store.load(paymentId));
  return isPayment(state) ? state : undefined;
};

describe("format B with saved payment methods", () => {
  it("charges 200 CloudCafe messages of 50 customers once each, with each customer's saved default method, off session", async () => {
    const customers = Array.from({ length: 50 }, (_, i) => `cust-${run}-${i}`);
    const saved = new Map<string, string>();
    for (const customerId of customers) {
      const first = await save(customerId, "pm_card_visa");
      expect(first).toMatchObject({
        status: 200,
        body: { customerId, paymentMethodId: "pm_card_visa", default: true },
      });
      saved.set(customerId, String(first.body.gatewayCustomerId));
    }
    // One Stripe Customer per customer, kept: saving another method finds the same one.
    const again = await save(customers[0]!, "pm_card_mastercard", { default: false });
    expect(again.body).toMatchObject({ gatewayCustomerId: saved.get(customers[0]!), default: false });

    const bodies = Array.from({ length: 200 }, (_, i) => cloudCafe(i, customers[i % 50]!));
    for (let i = 0; i < bodies.length; i += 10) {
      expect((await handler(sqsEvent(bodies.slice(i, i + 10)), context)).batchItemFailures).toEqual([]);
    }
    for (let i = 0; i < 200; i++) {
      const state = await stateOf(`pay-cc-${run}-${i}`);
      expect({ i, status: state?.status, captured: state?.amountCaptured }).toEqual({
        i,
        status: "captured",
        captured: 2599,
      });
    }
    // Counted at the proxy: one intent and one charge per order, each on its customer's Customer and
    // default method, confirmed off session.
    const orders = Array.from({ length: 200 }, (_, i) => `ord-cc-${run}-${i}`);
    expect(orders.filter((o) => proxy.ledger().byOrder.get(o)?.charges !== 1)).toEqual([]);
    const creates = proxy
      .calls()
      .filter(
        (c) =>
          c.method === "POST" && c.path === "/v1/payment_intents" && c.orderId?.startsWith(`ord-cc-${run}-`),
      );
    expect(creates).toHaveLength(200);
    for (const create of creates) {
      const i = Number(create.orderId!.split("-").at(-1));
      expect({ customer: create.params.customer, pm: create.params.payment_method }).toEqual({
        customer: saved.get(customers[i % 50]!),
        pm: "pm_card_visa",
      });
    }
    const confirms = proxy
      .calls()
      .filter((c) => c.path.endsWith("/confirm") && c.orderId?.startsWith(`ord-cc-${run}-`));
    expect(confirms.map((c) => c.params.off_session)).toEqual(Array(200).fill("true"));
  }, 300_000);

  it("fails a customer with no saved method with payment_method_required, and charges nothing", async () => {
    const customerId = `cust-${run}-none`;
    expect((await handler(sqsEvent([cloudCafe(900, customerId)]), context)).batchItemFailures).toEqual([]);
    const state = await stateOf(`pay-cc-${run}-900`);
    expect(state).toMatchObject({
      status: "failed",
      failure: { code: "payment_method_required", retryable: false },
    });
    expect(proxy.ledger().byOrder.get(`ord-cc-${run}-900`)).toBeUndefined();
  });

  it("fails a card that needs the customer to authenticate with authentication_required, and cancels its intent at Stripe", async () => {
    const customerId = `cust-${run}-3ds`;
    expect((await save(customerId, "pm_card_authenticationRequired")).status).toBe(200);
    expect((await handler(sqsEvent([cloudCafe(901, customerId)]), context)).batchItemFailures).toEqual([]);
    const state = await stateOf(`pay-cc-${run}-901`);
    expect(state).toMatchObject({ status: "failed", failure: { code: "authentication_required" } });
    const calls = proxy.calls().filter((c) => c.orderId === `ord-cc-${run}-901`);
    expect(calls.find((c) => c.path.endsWith("/confirm"))).toMatchObject({ status: 402 });
    expect(calls.find((c) => c.path.endsWith("/cancel"))).toMatchObject({ status: 200 });
    expect(proxy.ledger().byOrder.get(`ord-cc-${run}-901`)).toMatchObject({ charges: 0 });
  });

  it("refuses a body that is not a payment method, and a read-only token", async () => {
    expect((await save(`cust-${run}-x`, "card_4242")).status).toBe(400);
    const { issueToken } = await import("@payments/functions/api/auth");
    const reader = await issueToken(stack.secretValues.JwtSecret, { scopes: ["payments:read"] });
    const response = await app.request(`/customers/cust-${run}-x/payment-methods`, {
      method: "POST",
      headers: { authorization: `Bearer ${reader}`, "content-type": "application/json" },
      body: JSON.stringify({ paymentMethodId: "pm_card_visa" }),
    });
    expect(response.status).toBe(403);
  });
});
