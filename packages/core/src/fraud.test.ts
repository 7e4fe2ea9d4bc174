import { describe, expect, it } from "vitest";
import {
  defaultFraudThresholds,
  type FraudInput,
  largeAmountThreshold,
  noActivity,
  scoreFraud,
} from "./fraud";

const address = { street: "1 Main St", city: "Springfield", state: "IL", zip: "62701" };
const ordinary: FraudInput = {
  amount: 2599,
  currency: "usd",
  customerId: "cus-42",
  billingAddress: address,
  activity: noActivity,
};

describe("scoreFraud", () => {
  it("approves a customer's ordinary first payment", () => {
    expect(scoreFraud(ordinary)).toEqual({ score: 0, decision: "approve", reasons: [] });
  });

  it("approves a first payment just under the large-amount threshold without an address", () => {
    const result = scoreFraud({
      ...ordinary,
      amount: 99_999,
      billingAddress: undefined,
      activity: { ...noActivity },
    });
    expect(result.decision).toBe("approve");
    expect(result.reasons).toEqual(["first_payment_large_amount", "billing_address_missing"]);
  });

  it("flags a large amount, more for a first-time customer", () => {
    expect(
      scoreFraud({ ...ordinary, amount: 100_000, activity: { ...noActivity, lifetimePayments: 3 } }),
    ).toMatchObject({
      score: 30,
      reasons: ["amount_large"],
    });
    expect(scoreFraud({ ...ordinary, amount: 100_000 })).toMatchObject({
      score: 55,
      decision: "approve",
      reasons: ["amount_large", "first_payment_large_amount"],
    });
    expect(scoreFraud({ ...ordinary, amount: 500_000 })).toMatchObject({ score: 75, decision: "review" });
  });

  it("sees a burst of payments and declines as card testing", () => {
    const burst = {
      ...noActivity,
      paymentsLast10Minutes: 15,
      paymentsLastHour: 25,
      declinesLastHour: 5,
      declinesLastDay: 5,
      lifetimePayments: 30,
    };
    expect(scoreFraud({ ...ordinary, activity: burst })).toEqual({
      score: 100,
      decision: "reject",
      reasons: ["velocity_extreme", "velocity_hourly", "many_recent_declines"],
    });
  });

  it("scores address quality and anonymous customers", () => {
    expect(scoreFraud({ ...ordinary, billingAddress: { ...address, zip: "" } }).reasons).toEqual([
      "billing_address_incomplete",
    ]);
    expect(scoreFraud({ ...ordinary, customerId: undefined }).reasons).toEqual(["anonymous_customer"]);
  });

  it("takes its thresholds as input", () => {
    const strict = { ...defaultFraudThresholds, reviewAt: 5, rejectAt: 10 };
    expect(scoreFraud({ ...ordinary, billingAddress: undefined }, strict).decision).toBe("review");
    expect(scoreFraud({ ...ordinary, customerId: undefined }, strict).decision).toBe("reject");
    expect(largeAmountThreshold("usd", { ...strict, largeAmount: { usd: 500 } })).toBe(500);
  });

  it("knows large amounts in currencies without decimals", () => {
    expect(largeAmountThreshold("jpy")).toBe(150_000);
    expect(largeAmountThreshold("isk")).toBe(1_000);
    expect(largeAmountThreshold("chf")).toBe(100_000);
  });

  it("is deterministic", () => {
    const input = { ...ordinary, amount: 123_456, activity: { ...noActivity, paymentsLast10Minutes: 6 } };
    expect(scoreFraud(input)).toEqual(scoreFraud(structuredClone(input)));
  });
});
