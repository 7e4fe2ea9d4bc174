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

  const formatB = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      payment_id: "legacy-1",
      order_id: "o",
      customer_id: "c",
      amount: 1000,
      payment_method: "card",
      payment_method_id: "pm_card_visa",
      ...extra,
    });

  it("uses DEFAULT_CURRENCY for format A without a currency", () => {
    expect(
      parseOrderMessage(JSON.stringify({ order_id: "o", amount: 1000, payment_method_id: "pm" }), "jpy"),
    ).toMatchObject({ format: "A", amount: 1000, currency: "jpy" });
  });

  it("uses DEFAULT_CURRENCY for format B without a currency", () => {
    expect(parseOrderMessage(formatB(), "jpy")).toMatchObject({ format: "B", amount: 1000, currency: "jpy" });
  });

  it("uses format B's currency when it has one: 1000 jpy is not 1000.00 usd", () => {
    expect(parseOrderMessage(formatB({ currency: "JPY" }), "usd")).toMatchObject({
      format: "B",
      amount: 1000,
      currency: "jpy",
    });
    expect(() => parseOrderMessage(formatB({ currency: "yen" }), "usd")).toThrow(MalformedMessageError);
  });

  it("refuses at parse time, with its reason, an amount Stripe cannot charge (1.234 kwd)", () => {
    const body = JSON.stringify({ order_id: "o", amount: "1.234", currency: "kwd", payment_method_id: "pm" });
    expect(() => parseOrderMessage(body, "usd")).toThrow(MalformedMessageError);
    expect(() => parseOrderMessage(body, "usd")).toThrow("Stripe takes kwd in steps of 0.010 kwd");
    expect(
      parseOrderMessage(
        JSON.stringify({ order_id: "o", amount: "1.230", currency: "kwd", payment_method_id: "pm" }),
        "usd",
      ),
    ).toMatchObject({ amount: 1230, currency: "kwd" });
  });

  it("refuses a billing address too long to store, instead of failing later as if it were transient", () => {
    expect(() =>
      parseOrderMessage(
        formatB({ billing_address: { street: "s".repeat(300_000), city: "c", state: "s", zip: "1" } }),
        "usd",
      ),
    ).toThrow("format B: billing_address.street: Too big");
  });

  it("bounds every string of both formats", () => {
    const long = "x".repeat(10_000);
    for (const field of ["order_id", "customer_id", "payment_method_id", "currency"]) {
      const body = JSON.stringify({ order_id: "o", amount: "1.00", payment_method_id: "pm", [field]: long });
      expect(() => parseOrderMessage(body, "usd"), field).toThrow(MalformedMessageError);
    }
    for (const field of ["order_id", "customer_id", "payment_method", "payment_method_id", "currency"]) {
      expect(() => parseOrderMessage(formatB({ [field]: long }), "usd"), field).toThrow(
        MalformedMessageError,
      );
    }
    expect(() => parseOrderMessage(formatB({ amount: "1".repeat(65) }), "usd")).toThrow(
      MalformedMessageError,
    );
  });

  it("reads a JSON number as the literal it is: 25.9999999999999999 is refused like the same string", () => {
    const asNumber = '{"order_id":"o","amount":25.9999999999999999,"payment_method_id":"pm"}';
    const asString = '{"order_id":"o","amount":"25.9999999999999999","payment_method_id":"pm"}';
    expect(() => parseOrderMessage(asString, "usd")).toThrow("more decimals than usd allows");
    expect(() => parseOrderMessage(asNumber, "usd")).toThrow("more decimals than usd allows");
    expect(parseOrderMessage('{"order_id":"o","amount":19.99,"payment_method_id":"pm"}', "usd").amount).toBe(
      1999,
    );
  });

  it("quotes a 200,000-digit amount in a few dozen characters", () => {
    let reason = "";
    try {
      parseOrderMessage(
        JSON.stringify({ order_id: "o", amount: 9, payment_method_id: "pm" }).replace(
          "9",
          "9".repeat(200_000),
        ),
        "usd",
      );
    } catch (error) {
      reason = (error as Error).message;
    }
    expect(reason).toContain("amount: Too big");
    expect(reason.length).toBeLessThan(200);
  });

  it.each([
    ["order_id", { order_id: "ord\u0000-1" }],
    ["customer_id", { customer_id: "cus\n42" }],
    ["payment_method_id", { payment_method_id: "pm\u001b[31m" }],
  ])("refuses control characters in %s", (field, extra) => {
    const body = JSON.stringify({ order_id: "o", amount: "1.00", payment_method_id: "pm", ...extra });
    expect(() => parseOrderMessage(body, "usd")).toThrow(`${field}: must not contain control characters`);
  });

  it("refuses a card number where a payment method token belongs, without repeating it", () => {
    const body = JSON.stringify({ order_id: "o", amount: "1.00", payment_method_id: "4242 4242 4242 4242" });
    let reason = "";
    try {
      parseOrderMessage(body, "usd");
    } catch (error) {
      reason = (error as Error).message;
    }
    expect(reason).toContain("looks like a card number");
    expect(reason).not.toMatch(/4242/);
  });

  it("refuses a body with the same key twice: which amount would count is ambiguous", () => {
    expect(() =>
      parseOrderMessage(
        '{"order_id":"o","amount":"1.00","amount":"1000.00","payment_method_id":"pm"}',
        "usd",
      ),
    ).toThrow("body is not JSON");
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
