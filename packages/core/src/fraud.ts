import type { BillingAddress, FraudDecision } from "@payments/events";
import { ConfigurationError } from "./errors";
import { defaultLargeAmount } from "./large-amounts";

/** The customer's recent activity, counted in the write path at initiation (SPEC §2). */
export interface CustomerActivity {
  /** Payments the customer started in the last 10 minutes, this one not included. */
  readonly paymentsLast10Minutes: number;
  /** Payments the customer started in the last hour, this one not included. */
  readonly paymentsLastHour: number;
  /** Declined payments of the customer in the last hour. */
  readonly declinesLastHour: number;
  /** Declined payments of the customer in the last 24 hours. */
  readonly declinesLastDay: number;
  /**
   * Payments the customer started before this one, as far as screening needs them: 0 for a first
   * payment. A store may keep only whether there was one (the DynamoDB store answers 0 or 1, or a
   * count it kept before 2026-12-06).
   */
  readonly lifetimePayments: number;
}

export const noActivity: CustomerActivity = {
  paymentsLast10Minutes: 0,
  paymentsLastHour: 0,
  declinesLastHour: 0,
  declinesLastDay: 0,
  lifetimePayments: 0,
};

export interface FraudInput {
  readonly amount: number;
  readonly currency: string;
  readonly customerId?: string;
  readonly billingAddress?: BillingAddress;
  readonly activity: CustomerActivity;
}

export interface FraudThresholds {
  /** Score from which a payment is held for review (FRAUD_REVIEW_AT, default 60). */
  readonly reviewAt: number;
  /** Score from which a payment is rejected (FRAUD_REJECT_AT, default 85). */
  readonly rejectAt: number;
  /** Large-amount thresholds in minor units per currency, over the defaults of large-amounts.ts. */
  readonly largeAmount?: Readonly<Record<string, number>>;
}

export const defaultFraudThresholds: FraudThresholds = { reviewAt: 60, rejectAt: 85 };

/**
 * Reads the fraud thresholds from configuration, once at start-up. A value that is not a whole
 * number from 1 to 100, or a review threshold above the reject one, stops the service from starting:
 * `Number("abc")` is NaN, which approves every score, and `Number("")` is 0, which rejects them all.
 *
 * @example fraudThresholdsFromConfig({ FRAUD_REVIEW_AT: "60" }) // { reviewAt: 60, rejectAt: 85 }
 * @throws ConfigurationError saying which variable is wrong and what would be right
 */
export function fraudThresholdsFromConfig(config: {
  readonly FRAUD_REVIEW_AT?: string;
  readonly FRAUD_REJECT_AT?: string;
}): FraudThresholds {
  const read = (name: "FRAUD_REVIEW_AT" | "FRAUD_REJECT_AT", fallback: number) => {
    const raw = config[name];
    if (raw === undefined) return fallback;
    if (!/^\s*\d{1,3}\s*$/.test(raw) || Number(raw) < 1 || Number(raw) > 100) {
      throw new ConfigurationError(
        `${name} is ${JSON.stringify(raw.slice(0, 20))}: it must be a whole number from 1 to 100 (unset it for the default ${fallback})`,
      );
    }
    return Number(raw);
  };
  const reviewAt = read("FRAUD_REVIEW_AT", defaultFraudThresholds.reviewAt);
  const rejectAt = read("FRAUD_REJECT_AT", defaultFraudThresholds.rejectAt);
  if (reviewAt > rejectAt) {
    throw new ConfigurationError(
      `FRAUD_REVIEW_AT (${reviewAt}) is above FRAUD_REJECT_AT (${rejectAt}): a payment would be rejected before it could be reviewed`,
    );
  }
  return { reviewAt, rejectAt };
}

export type FraudReason =
  | "amount_large"
  | "amount_very_large"
  | "first_payment_large_amount"
  | "velocity_burst"
  | "velocity_extreme"
  | "velocity_hourly"
  | "recent_declines"
  | "many_recent_declines"
  | "billing_address_missing"
  | "billing_address_incomplete"
  | "anonymous_customer";

export interface FraudAssessment {
  readonly score: number;
  readonly decision: FraudDecision;
  readonly reasons: FraudReason[];
}

/**
 * The large-amount threshold of a currency, in minor units, or undefined when none is known: then
 * the amount signals are left out, so a missing figure never pushes a payment to review or reject.
 * @example largeAmountThreshold("usd") // 100000
 */
export function largeAmountThreshold(
  currency: string,
  thresholds: FraudThresholds = defaultFraudThresholds,
): number | undefined {
  return thresholds.largeAmount?.[currency] ?? defaultLargeAmount(currency);
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** Scoring must never let NaN through: a NaN count adds nothing, and a NaN threshold approves everything. */
function assertScorable(input: FraudInput, thresholds: FraudThresholds): void {
  const bad = Object.entries(input.activity).find(([, n]) => !isCount(n));
  if (bad) throw new RangeError(`activity ${bad[0]} is ${bad[1]}, not a count`);
  if (!isCount(input.amount) || input.amount === 0)
    throw new RangeError(`amount ${input.amount} is not a positive whole number of minor units`);
  for (const name of ["reviewAt", "rejectAt"] as const) {
    const t = thresholds[name];
    if (!Number.isInteger(t) || t < 1 || t > 100)
      throw new RangeError(`threshold ${name} is ${t}, not a whole number from 1 to 100`);
  }
}

function addressIsIncomplete(address: BillingAddress): boolean {
  const blank = (s: string) => s.trim().length === 0;
  return (
    blank(address.street) ||
    blank(address.city) ||
    blank(address.zip) ||
    !/^[A-Za-z0-9 -]{3,10}$/.test(address.zip)
  );
}

/**
 * Scores a payment 0–100 for fraud with reason codes. Pure and deterministic: the same input
 * always gives the same assessment, and nothing is read from outside.
 *
 * @example
 * scoreFraud({ amount: 2599, currency: "usd", customerId: "c1", activity: noActivity })
 * // { score: 5, decision: "approve", reasons: ["billing_address_missing"] }
 * @throws RangeError for an activity count, amount or threshold that is not a whole number in range
 */
export function scoreFraud(
  input: FraudInput,
  thresholds: FraudThresholds = defaultFraudThresholds,
): FraudAssessment {
  assertScorable(input, thresholds);
  const reasons: FraudReason[] = [];
  let score = 0;
  const add = (points: number, reason: FraudReason) => {
    score += points;
    reasons.push(reason);
  };

  const large = largeAmountThreshold(input.currency, thresholds);
  if (large !== undefined) {
    if (input.amount >= large * 5) add(50, "amount_very_large");
    else if (input.amount >= large) add(30, "amount_large");
    if (input.activity.lifetimePayments === 0 && input.amount * 2 >= large)
      add(25, "first_payment_large_amount");
  }

  const { activity } = input;
  if (activity.paymentsLast10Minutes >= 10) add(70, "velocity_extreme");
  else if (activity.paymentsLast10Minutes >= 5) add(40, "velocity_burst");
  if (activity.paymentsLastHour >= 20) add(25, "velocity_hourly");
  if (activity.declinesLastHour >= 3) add(45, "many_recent_declines");
  else if (activity.declinesLastDay >= 1) add(15, "recent_declines");

  if (!input.billingAddress) add(5, "billing_address_missing");
  else if (addressIsIncomplete(input.billingAddress)) add(15, "billing_address_incomplete");
  if (!input.customerId) add(10, "anonymous_customer");

  score = Math.min(100, score);
  const decision: FraudDecision =
    score >= thresholds.rejectAt ? "reject" : score >= thresholds.reviewAt ? "review" : "approve";
  return { score, decision, reasons };
}
