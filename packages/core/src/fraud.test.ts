import { describe, expect, it } from "vitest";
import { knownCurrencies } from "./currencies";
import { ConfigurationError } from "./errors";
import {
  defaultFraudThresholds,
  type FraudInput,
  fraudThresholdsFromConfig,
  largeAmountThreshold,
  noActivity,
  scoreFraud,
} from "./fraud";
import { currenciesWithoutLargeAmount } from "./large-amounts";
import { toMinorUnits } from "./money";

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
    // About 1,000 US dollars, not 1,000 króna (7 dollars) as a flat default gave.
    expect(largeAmountThreshold("isk")).toBe(130_000);
    expect(largeAmountThreshold("chf")).toBe(85_000);
  });

  it("is deterministic", () => {
    const input = { ...ordinary, amount: 123_456, activity: { ...noActivity, paymentsLast10Minutes: 6 } };
    expect(scoreFraud(input)).toEqual(scoreFraud(structuredClone(input)));
  });
});

describe("large-amount thresholds for every currency", () => {
  it("has one for every currency the money module accepts", () => {
    expect(currenciesWithoutLargeAmount()).toEqual([]);
    for (const code of knownCurrencies()) {
      const threshold = largeAmountThreshold(code);
      expect(Number.isSafeInteger(threshold) && threshold! > 0, code).toBe(true);
    }
  });

  it.each([
    ["5000", "idr"],
    ["5000", "clp"],
    ["5000", "pyg"],
    ["5000", "ugx"],
    ["1000.00", "huf"],
    ["50000", "vnd"],
    ["100.000", "kwd"],
    ["25.99", "usd"],
  ])("approves an ordinary first payment of %s %s, under its currency's threshold", (amount, currency) => {
    const assessment = scoreFraud({ ...ordinary, amount: toMinorUnits(amount, currency), currency });
    expect(assessment).toEqual({ score: 0, decision: "approve", reasons: [] });
  });

  it("still flags a large first payment in a currency without decimals", () => {
    // About 1,400 US dollars in yen.
    const assessment = scoreFraud({ ...ordinary, amount: toMinorUnits("200000", "jpy"), currency: "jpy" });
    expect(assessment.reasons).toEqual(["amount_large", "first_payment_large_amount"]);
  });

  it("leaves the amount signals out for a currency with no threshold, rather than guessing one", () => {
    const assessment = scoreFraud(
      { ...ordinary, amount: 99_999_999, currency: "zzz" },
      defaultFraudThresholds,
    );
    expect(assessment).toEqual({ score: 0, decision: "approve", reasons: [] });
  });

  it("takes a configured threshold over the table", () => {
    const thresholds = { ...defaultFraudThresholds, largeAmount: { usd: 10_000 } };
    expect(scoreFraud({ ...ordinary, amount: 10_000 }, thresholds).reasons).toContain("amount_large");
  });
});

describe("fraud configuration", () => {
  it("reads the defaults, and whole numbers from 1 to 100", () => {
    expect(fraudThresholdsFromConfig({})).toEqual({ reviewAt: 60, rejectAt: 85 });
    expect(fraudThresholdsFromConfig({ FRAUD_REVIEW_AT: "50", FRAUD_REJECT_AT: " 90 " })).toEqual({
      reviewAt: 50,
      rejectAt: 90,
    });
  });

  it.each([
    [{ FRAUD_REVIEW_AT: "abc" }, 'FRAUD_REVIEW_AT is "abc"'],
    [{ FRAUD_REJECT_AT: "" }, 'FRAUD_REJECT_AT is ""'],
    [{ FRAUD_REVIEW_AT: "0" }, "from 1 to 100"],
    [{ FRAUD_REJECT_AT: "101" }, "from 1 to 100"],
    [{ FRAUD_REVIEW_AT: "60.5" }, "whole number"],
    [{ FRAUD_REVIEW_AT: "90", FRAUD_REJECT_AT: "80" }, "above FRAUD_REJECT_AT"],
  ])("refuses to start with %j", (config, reason) => {
    expect(() => fraudThresholdsFromConfig(config)).toThrow(ConfigurationError);
    expect(() => fraudThresholdsFromConfig(config)).toThrow(reason);
  });

  it("never lets NaN through scoring: a NaN count or threshold is an error, not an approval", () => {
    expect(() =>
      scoreFraud({ ...ordinary, activity: { ...noActivity, paymentsLast10Minutes: Number.NaN } }),
    ).toThrow(RangeError);
    expect(() => scoreFraud(ordinary, { reviewAt: Number.NaN, rejectAt: Number.NaN })).toThrow(RangeError);
    expect(() => scoreFraud(ordinary, { reviewAt: 0, rejectAt: 0 })).toThrow(RangeError);
  });
});
