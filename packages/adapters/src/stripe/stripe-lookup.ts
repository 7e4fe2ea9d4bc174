import type Stripe from "stripe";
import { call, type StripeGatewayOptions, stripeClient } from "./stripe-gateway";

/** A refund as a Stripe notice needs it: amounts in Stripe's units of `currency`. */
export interface StripeRefundFacts {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: string;
  readonly paymentIntentId?: string;
  /** Our refund id, kept in the refund's metadata when we made it. */
  readonly ourRefundId?: string;
}

/**
 * What a Stripe notice cannot say by itself, read back from Stripe (SPEC §4.3): which payment a
 * PaymentIntent belongs to (its `metadata.paymentId`, which we always set), and a charge's refunds
 * (events carry no `refunds` list since API version 2022-11-15).
 */
export interface StripeLookup {
  /** The PaymentIntent's own payment id and currency; undefined when Stripe has no such intent. */
  paymentIntent(id: string): Promise<{ readonly paymentId?: string; readonly currency: string } | undefined>;
  /** Every refund of a charge, all pages. */
  refundsOfCharge(chargeId: string): Promise<StripeRefundFacts[]>;
  /** Every refund of a PaymentIntent, all pages: what the reconciler settles refund holds by. */
  refundsOfPaymentIntent(intentId: string): Promise<StripeRefundFacts[]>;
  /** PaymentIntents created in [since, until), all pages (`npm run reconcile`). */
  paymentIntentsCreated(since: Date, until: Date): Promise<StripeIntentFacts[]>;
  /** Refunds created in [since, until), all pages. */
  refundsCreated(since: Date, until: Date): Promise<StripeRefundFacts[]>;
}

/** A PaymentIntent as reconciliation compares it: amounts in Stripe's units of `currency`. */
export interface StripeIntentFacts {
  readonly id: string;
  readonly status: string;
  readonly amount: number;
  readonly amountReceived: number;
  readonly currency: string;
  /** Our payment id, which we always set in the intent's metadata. */
  readonly paymentId?: string;
}

/** Reads a string field that the object holds itself (never one inherited from Object.prototype). */
export function ownString(object: unknown, key: string): string | undefined {
  if (object === null || typeof object !== "object" || !Object.hasOwn(object, key)) return undefined;
  const value = (object as Record<string, unknown>)[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** The facts of a Stripe refund object, from own properties only. */
export function refundFacts(refund: unknown): StripeRefundFacts | undefined {
  const id = ownString(refund, "id");
  const amount = (refund as { amount?: unknown } | null)?.amount;
  if (
    !id ||
    !Object.hasOwn(refund as object, "amount") ||
    !Number.isSafeInteger(amount) ||
    (amount as number) < 0
  )
    return undefined;
  const intent = Object.hasOwn(refund as object, "payment_intent")
    ? (refund as { payment_intent: unknown }).payment_intent
    : undefined;
  const metadata = Object.hasOwn(refund as object, "metadata")
    ? (refund as { metadata: unknown }).metadata
    : undefined;
  return {
    id,
    amount: amount as number,
    currency: (ownString(refund, "currency") ?? "").toLowerCase(),
    status: ownString(refund, "status") ?? "succeeded",
    paymentIntentId: typeof intent === "string" ? intent : ownString(intent, "id"),
    ourRefundId: ownString(metadata, "refundId"),
  };
}

/**
 * The lookups over the Stripe API, with the gateway's client settings.
 * @example createStripeLookup({ secretKey }).refundsOfCharge("ch_1")
 */
export function createStripeLookup(options: StripeGatewayOptions): StripeLookup {
  const stripe: Stripe = stripeClient(options);
  return {
    paymentIntent: (id) =>
      call(async () => {
        try {
          const intent = await stripe.paymentIntents.retrieve(id);
          return {
            paymentId: ownString(intent.metadata, "paymentId"),
            currency: intent.currency.toLowerCase(),
          };
        } catch (error) {
          // Stripe has no such intent (or no intent could have that id): the notice names no payment.
          const status = (error as { statusCode?: number }).statusCode;
          if (status === 404 || status === 400) return undefined;
          throw error;
        }
      }),
    refundsOfCharge: (chargeId) =>
      call(async () => {
        const refunds: StripeRefundFacts[] = [];
        for await (const refund of stripe.refunds.list({ charge: chargeId, limit: 100 })) {
          const facts = refundFacts(refund);
          if (facts) refunds.push(facts);
        }
        return refunds;
      }),
    refundsOfPaymentIntent: (intentId) =>
      call(async () => {
        const refunds: StripeRefundFacts[] = [];
        for await (const refund of stripe.refunds.list({ payment_intent: intentId, limit: 100 })) {
          const facts = refundFacts(refund);
          if (facts) refunds.push(facts);
        }
        return refunds;
      }),
    paymentIntentsCreated: (since, until) =>
      call(async () => {
        const intents: StripeIntentFacts[] = [];
        const created = { gte: Math.floor(since.getTime() / 1000), lt: Math.ceil(until.getTime() / 1000) };
        for await (const intent of stripe.paymentIntents.list({ created, limit: 100 })) {
          intents.push({
            id: intent.id,
            status: intent.status,
            amount: intent.amount,
            amountReceived: intent.amount_received,
            currency: intent.currency.toLowerCase(),
            paymentId: ownString(intent.metadata, "paymentId"),
          });
        }
        return intents;
      }),
    refundsCreated: (since, until) =>
      call(async () => {
        const refunds: StripeRefundFacts[] = [];
        const created = { gte: Math.floor(since.getTime() / 1000), lt: Math.ceil(until.getTime() / 1000) };
        for await (const refund of stripe.refunds.list({ created, limit: 100 })) {
          const facts = refundFacts(refund);
          if (facts) refunds.push(facts);
        }
        return refunds;
      }),
  };
}
