import { loadSamples } from "@payments/events/samples";
import { describe, expect, it } from "vitest";
import { MalformedMessageError, parseOrderMessage } from "./order-message";

describe("order-queue messages", () => {
  it("reads every sample of formats A and B", () => {
    const parsed = Object.fromEntries(
      loadSamples("sqs").map(({ variant, body }) => [
        variant,
        parseOrderMessage(JSON.stringify(body), "usd"),
      ]),
    );
    expect(parsed["format-a"]).toEqual({
      format: "A",
      orderId: "ord-10001",
      customerId: "cus-42",
      amount: 2599,
      currency: "usd",
      paymentMethod: { type: "card", token: "pm_card_visa" },
    });
    expect(parsed["format-a-default-currency"]).toMatchObject({
      amount: 120000,
      currency: "usd",
      customerId: undefined,
    });
    expect(parsed["format-b"]).toMatchObject({
      format: "B",
      paymentId: "legacy-pay-77",
      amount: 4250,
      billingAddress: { zip: "62701" },
      paymentMethod: { type: "card", token: "pm_card_visa" },
    });
    expect(parsed["format-b-no-payment-method"]).toMatchObject({ paymentMethod: { type: "bank_transfer" } });
  });

  it("uses DEFAULT_CURRENCY for format B and for format A without a currency", () => {
    expect(
      parseOrderMessage(JSON.stringify({ order_id: "o", amount: 1000, payment_method_id: "pm" }), "jpy"),
    ).toMatchObject({
      amount: 1000,
      currency: "jpy",
    });
  });

  it.each([
    ["{", "body is not JSON"],
    ["null", "not a JSON object"],
    [
      JSON.stringify({ order_id: "o", amount: "25.999", payment_method_id: "pm" }),
      "amount 25.999 has more decimals than usd allows (2, not 3)",
    ],
    [JSON.stringify({ order_id: "o", amount: 0, payment_method_id: "pm" }), "greater than zero"],
    [JSON.stringify({ order_id: "o", amount: "1e9", payment_method_id: "pm" }), "over the limit"],
    [JSON.stringify({ order_id: "", amount: 1, payment_method_id: "pm" }), "order_id"],
    [
      JSON.stringify({
        payment_id: "bad id!",
        order_id: "o",
        customer_id: "c",
        amount: 1,
        payment_method: "card",
      }),
      "payment_id",
    ],
    [
      JSON.stringify({ payment_id: "p", order_id: "o", amount: 1, payment_method: "card" }),
      "format B: customer_id",
    ],
  ])("refuses %s: %s", (body, reason) => {
    expect(() => parseOrderMessage(body, "usd")).toThrow(MalformedMessageError);
    expect(() => parseOrderMessage(body, "usd")).toThrow(reason);
  });
});
