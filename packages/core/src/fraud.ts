import type { BillingAddress, FraudDecision } from "@payments/events";
import { currencyExponent } from "./currencies";

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
  /** Every payment the customer ever started before this one. */
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
  /** Large-amount thresholds in minor units per currency; others use 1,000 major units. */
  readonly largeAmount?: Readonly<Record<string, number>>;
}

export const defaultFraudThresholds: FraudThresholds = { reviewAt: 60, rejectAt: 85 };

/** What a large payment is, in minor units: about 1,000 US dollars in each currency. */
const LARGE_AMOUNT: Readonly<Record<string, number>> = {
  usd: 1_000_00,
  eur: 1_000_00,
  gbp: 800_00,
  cad: 1_400_00,
  aud: 1_500_00,
  jpy: 150_000,
  krw: 1_300_000,
  vnd: 25_000_000,
  inr: 85_000_00,
};

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

/** The large-amount threshold of a currency, in minor units. */
export function largeAmountThreshold(
  currency: string,
  thresholds: FraudThresholds = defaultFraudThresholds,
): number {
  const configured = thresholds.largeAmount?.[currency] ?? LARGE_AMOUNT[currency];
  if (configured !== undefined) return configured;
  return 1_000 * 10 ** (currencyExponent(currency) ?? 2);
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
 */
export function scoreFraud(
  input: FraudInput,
  thresholds: FraudThresholds = defaultFraudThresholds,
): FraudAssessment {
  const reasons: FraudReason[] = [];
  let score = 0;
  const add = (points: number, reason: FraudReason) => {
    score += points;
    reasons.push(reason);
  };

  const large = largeAmountThreshold(input.currency, thresholds);
  if (input.amount >= large * 5) add(50, "amount_very_large");
  else if (input.amount >= large) add(30, "amount_large");
  if (input.activity.lifetimePayments === 0 && input.amount >= large / 2)
    add(25, "first_payment_large_amount");

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
