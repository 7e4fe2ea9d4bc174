import { randomUUID } from "node:crypto";
import { createStripeGateway } from "@payments/adapters/stripe";
import { GatewayDeclinedError, GatewayRequestError, GatewayUnavailableError } from "@payments/core";
import { type StripeProxy, startStripeProxy } from "@payments/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testStack } from "../helpers/stack";

const stack = testStack();
let proxy: StripeProxy;
let gateway: ReturnType<typeof createStripeGateway>;

beforeAll(async () => {
  proxy = await startStripeProxy({ stripeMockUrl: stack.stripeMockUrl });
  gateway = createStripeGateway({
    secretKey: stack.secretValues.StripeSecretKey,
    apiUrl: proxy.url,
    timeoutMs: 1_000,
  });
});
afterAll(() => proxy.stop());

const newPayment = (overrides: Partial<Parameters<typeof gateway.create>[0]> = {}) => {
  const paymentId = `pay_${randomUUID().slice(0, 12)}`;
  return {
    paymentId,
    orderId: `ord-${paymentId}`,
    amount: 5000,
    currency: "usd",
    paymentMethodToken: "pm_card_visa",
    captureMethod: "manual" as const,
    idempotencyKey: `${paymentId}:create`,
    ...overrides,
  };
};

describe("the Stripe gateway (stripe-node against stripe-mock, through the proxy)", () => {
  it("pre-authorizes, captures part of the hold and refunds part of the capture", async () => {
    const input = newPayment();
    const created = await gateway.create(input);
    expect(created).toMatchObject({ status: "requires_confirmation", amount: 5000 });
    const held = await gateway.confirm({
      gatewayPaymentId: created.gatewayPaymentId,
      paymentMethodToken: "pm_card_visa",
      idempotencyKey: `${input.paymentId}:confirm`,
    });
    expect(held).toMatchObject({
      status: "requires_capture",
      amountCaptured: 0,
      authorizationCode: "123456",
    });
    const captured = await gateway.capture({
      gatewayPaymentId: held.gatewayPaymentId,
      amount: 3000,
      currency: "usd",
      idempotencyKey: `${input.paymentId}:capture`,
    });
    expect(captured).toMatchObject({ status: "succeeded", amountCaptured: 3000 });
    const refund = await gateway.refund({
      gatewayPaymentId: held.gatewayPaymentId,
      refundId: "rfd_1",
      amount: 1000,
      currency: "usd",
      idempotencyKey: `${input.paymentId}:refund:1`,
    });
    expect(refund).toMatchObject({ amount: 1000, gatewayRefundId: expect.stringMatching(/^re_/) });
    // Our refund id travels with Stripe's refund, so its notices of it match ours.
    const sent = proxy.calls().find((c) => c.path === "/v1/refunds" && c.paymentId === input.paymentId);
    expect(sent?.params).toMatchObject({ "metadata[refundId]": "rfd_1", amount: "1000" });
    const intent = proxy
      .calls()
      .find((c) => c.paymentId === input.paymentId && c.path === "/v1/payment_intents");
    expect(intent).toMatchObject({ orderId: input.orderId, idempotencyKey: `${input.paymentId}:create` });
  });

  it("cancels an uncaptured hold", async () => {
    const input = newPayment();
    const created = await gateway.create(input);
    await gateway.confirm({
      gatewayPaymentId: created.gatewayPaymentId,
      paymentMethodToken: "pm_card_visa",
      idempotencyKey: `${input.paymentId}:confirm`,
    });
    const canceled = await gateway.cancel({
      gatewayPaymentId: created.gatewayPaymentId,
      idempotencyKey: `${input.paymentId}:cancel`,
    });
    expect(canceled.status).toBe("canceled");
    expect((await gateway.retrieve(created.gatewayPaymentId)).status).toBe("canceled");
  });

  it.each([
    // [our minor units, currency, the amount Stripe must receive]
    [500, "isk", 50_000],
    [10_000, "mga", 100],
    [7_000, "ugx", 700_000],
    [1_230, "kwd", 1_230],
    [2_599, "usd", 2_599],
  ])("sends %i %s to Stripe as %i, and reads it back", async (amount, currency, stripeAmount) => {
    const input = newPayment({ amount, currency, captureMethod: "automatic" });
    const created = await gateway.create(input);
    const [request] = proxy.calls().filter((c) => c.paymentId === input.paymentId);
    // What reached Stripe, not what came back: an adapter that never converted would send `amount`.
    expect(request?.params).toMatchObject({ amount: String(stripeAmount), currency });
    expect(created.amount).toBe(amount);
    const paid = await gateway.confirm({
      gatewayPaymentId: created.gatewayPaymentId,
      paymentMethodToken: "pm_card_visa",
      idempotencyKey: `${input.paymentId}:confirm`,
    });
    expect(paid).toMatchObject({ status: "succeeded", amount, amountCaptured: amount });
  });

  it("sends a partial capture and a partial refund in Stripe's units", async () => {
    const input = newPayment({ amount: 1_000, currency: "isk" });
    const created = await gateway.create(input);
    await gateway.confirm({
      gatewayPaymentId: created.gatewayPaymentId,
      paymentMethodToken: "pm_card_visa",
      idempotencyKey: `${input.paymentId}:confirm`,
    });
    await gateway.capture({
      gatewayPaymentId: created.gatewayPaymentId,
      amount: 600,
      currency: "isk",
      idempotencyKey: `${input.paymentId}:capture`,
    });
    const refund = await gateway.refund({
      gatewayPaymentId: created.gatewayPaymentId,
      refundId: "rfd_isk",
      amount: 200,
      currency: "isk",
      idempotencyKey: `${input.paymentId}:refund`,
    });
    expect(refund.amount).toBe(200);
    const sent = (path: string) =>
      proxy.calls().find((c) => c.paymentId === input.paymentId && c.path.endsWith(path));
    expect(sent("/capture")?.params).toMatchObject({ amount_to_capture: "60000" });
    expect(sent("/v1/refunds")?.params).toMatchObject({ amount: "20000" });
  });

  it("answers a second request with a key whose first is still running with 409, as Stripe does", async () => {
    const input = newPayment();
    proxy.injectFaults([{ orderId: input.orderId, respond: "slow", delayMs: 400, times: 1 }]);
    const [first, second] = await Promise.allSettled([
      gateway.create(input),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => gateway.create(input)),
    ]);
    expect(first.status).toBe("fulfilled");
    // idempotency_key_in_use: Stripe is still working on it, so the caller tries again later.
    expect(second).toMatchObject({ status: "rejected", reason: expect.any(GatewayUnavailableError) });
    expect(proxy.ledger().byOrder.get(input.orderId)).toMatchObject({ intents: 1 });
  });

  it("answers a repeated create with the same idempotency key by the same PaymentIntent", async () => {
    const input = newPayment();
    const first = await gateway.create(input);
    const again = await gateway.create(input);
    expect(again.gatewayPaymentId).toBe(first.gatewayPaymentId);
    expect(proxy.effectiveCallsByKey().get(input.idempotencyKey)).toBe(1);
  });

  it("maps a decline, an outage, a timeout and a refused request to the port's errors", async () => {
    const declined = newPayment();
    const intent = await gateway.create(declined);
    await expect(
      gateway.confirm({
        gatewayPaymentId: intent.gatewayPaymentId,
        paymentMethodToken: "pm_card_chargeDeclinedInsufficientFunds",
        idempotencyKey: `${declined.paymentId}:confirm`,
      }),
    ).rejects.toMatchObject(
      new GatewayDeclinedError("card_declined", "Your card has insufficient funds.", "insufficient_funds"),
    );

    const outage = newPayment();
    proxy.injectFaults([{ orderId: outage.orderId, respond: 503, times: 1 }]);
    await expect(gateway.create(outage)).rejects.toBeInstanceOf(GatewayUnavailableError);

    const slow = newPayment();
    proxy.injectFaults([{ orderId: slow.orderId, respond: "timeout", delayMs: 1_500, times: 1 }]);
    await expect(gateway.create(slow)).rejects.toBeInstanceOf(GatewayUnavailableError);

    await expect(gateway.retrieve("pi_does_not_exist")).rejects.toBeInstanceOf(GatewayRequestError);
  });
});
