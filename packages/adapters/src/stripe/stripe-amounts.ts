import { currencyExponent, InvalidAmountError } from "@payments/core";

/**
 * Where Stripe's minor units differ from ISO 4217's. ISK and UGX have no decimals in ISO 4217,
 * but Stripe takes them as two-decimal integers ending in 00 (5 ISK → 500). Three-decimal
 * currencies keep three decimals at Stripe, but the last digit must be 0.
 */
const STRIPE_TWO_DECIMAL_ZERO_ISO = new Set(["isk", "ugx"]);
const THREE_DECIMALS = 3;

/**
 * Our minor units (ISO 4217) → Stripe's `amount`.
 * @example toStripeAmount(500, "isk") // 50000
 * @throws InvalidAmountError for a three-decimal amount Stripe cannot take (not a multiple of 10)
 */
export function toStripeAmount(amount: number, currency: string): number {
  if (STRIPE_TWO_DECIMAL_ZERO_ISO.has(currency)) return amount * 100;
  if (currencyExponent(currency) === THREE_DECIMALS && amount % 10 !== 0) {
    throw new InvalidAmountError(
      `Stripe takes ${currency} amounts in multiples of 0.010, not ${amount / 1000} (${amount} minor units)`,
      amount,
      currency,
    );
  }
  return amount;
}

/**
 * Stripe's `amount` → our minor units (ISO 4217).
 * @example fromStripeAmount(50000, "isk") // 500
 */
export function fromStripeAmount(amount: number, currency: string): number {
  return STRIPE_TWO_DECIMAL_ZERO_ISO.has(currency) ? Math.round(amount / 100) : amount;
}
