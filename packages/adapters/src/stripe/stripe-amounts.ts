import {
  currencyExponent,
  formatMinorUnits,
  InvalidAmountError,
  MAX_CHARGE_MINOR_UNITS,
  normalizeCurrency,
} from "@payments/core";

/**
 * How Stripe counts a currency's `amount`, where that differs from ISO 4217's minor unit
 * (https://docs.stripe.com/currencies: "Zero-decimal currencies", "Three-decimal currencies" and
 * "Special cases"). One table; every other currency is taken at its ISO 4217 exponent.
 *
 * - Zero-decimal at Stripe: bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf. All
 *   but MGA are zero-decimal in ISO 4217 too; MGA has two ISO decimals, so 100.00 MGA (10000 of our
 *   minor units) is `amount` 100 at Stripe.
 * - ISK and UGX (special cases): effectively zero-decimal, but Stripe keeps them two-decimal for
 *   backwards compatibility, in multiples of 100 (5 ISK is `amount` 500). UGX is also in Stripe's
 *   zero-decimal list; the special case is the rule its API applies to charges.
 * - Three-decimal (bhd jod kwd omr tnd): three decimals, but the last digit must be 0.
 * - HUF and TWD (special cases): two-decimal for charges; only payouts are whole units.
 */
interface StripeCurrencyRule {
  /** Decimals of Stripe's `amount` for the currency. */
  readonly exponent: number;
  /** Stripe's `amount` must be a multiple of this. */
  readonly multipleOf: number;
}

const STRIPE_RULES: Readonly<Record<string, StripeCurrencyRule>> = {
  ...Object.fromEntries(
    "bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf"
      .split(" ")
      .map((code) => [code, { exponent: 0, multipleOf: 1 }]),
  ),
  isk: { exponent: 2, multipleOf: 100 },
  ugx: { exponent: 2, multipleOf: 100 },
  ...Object.fromEntries(
    "bhd jod kwd omr tnd".split(" ").map((code) => [code, { exponent: 3, multipleOf: 10 }]),
  ),
};

/**
 * Stripe's rule for a currency: its exponent, and what its amounts must be a multiple of.
 * @example stripeCurrencyRule("MGA") // { exponent: 0, multipleOf: 1 }
 * @throws InvalidCurrencyError for a code that is not ISO 4217
 */
export function stripeCurrencyRule(currency: string): StripeCurrencyRule & { readonly isoExponent: number } {
  const code = normalizeCurrency(currency);
  const isoExponent = currencyExponent(code)!;
  return { isoExponent, ...(STRIPE_RULES[code] ?? { exponent: isoExponent, multipleOf: 1 }) };
}

/**
 * Our minor units (ISO 4217) → Stripe's `amount`, exactly, or a clear refusal. Stripe's ceiling of
 * 99,999,999 applies to its own `amount`, so it is checked after the conversion.
 *
 * @example toStripeAmount(500, "isk")    // 50000
 * @example toStripeAmount(10000, "MGA")  // 100
 * @throws InvalidAmountError for an amount Stripe cannot represent (100.50 MGA, 1.234 KWD, 0.5 ISK)
 *   or that is over its ceiling once converted (1,000,000 ISK)
 */
export function toStripeAmount(amount: number, currency: string): number {
  const code = normalizeCurrency(currency);
  const { exponent, multipleOf, isoExponent } = stripeCurrencyRule(code);
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new InvalidAmountError(
      `amount ${amount} is not a positive whole number of minor units`,
      amount,
      code,
    );
  }
  const shift = exponent - isoExponent;
  const divisor = shift < 0 ? 10 ** -shift : 1;
  const scaled = shift >= 0 ? amount * 10 ** shift : amount / divisor;
  const stripeAmount = Number.isSafeInteger(scaled) ? scaled : Number.NaN;
  if (!Number.isSafeInteger(stripeAmount) || stripeAmount % multipleOf !== 0) {
    const step = formatMinorUnits((multipleOf * divisor) / 10 ** Math.max(shift, 0), code);
    throw new InvalidAmountError(
      `Stripe takes ${code} in steps of ${step} ${code}, so ${formatMinorUnits(amount, code)} ${code} cannot be charged`,
      amount,
      code,
    );
  }
  if (stripeAmount > MAX_CHARGE_MINOR_UNITS) {
    throw new InvalidAmountError(
      `${formatMinorUnits(amount, code)} ${code} is over Stripe's limit for one charge (${MAX_CHARGE_MINOR_UNITS} in its units of ${code}, ${formatMinorUnits(maxChargeable(code), code)} ${code})`,
      amount,
      code,
    );
  }
  return stripeAmount;
}

/** The largest amount of a currency, in our minor units, that Stripe takes in one charge. */
function maxChargeable(code: string): number {
  const { exponent, multipleOf, isoExponent } = stripeCurrencyRule(code);
  const maxStripe = MAX_CHARGE_MINOR_UNITS - (MAX_CHARGE_MINOR_UNITS % multipleOf);
  const shift = exponent - isoExponent;
  return shift >= 0 ? Math.floor(maxStripe / 10 ** shift) : maxStripe * 10 ** -shift;
}

/**
 * Stripe's `amount` → our minor units (ISO 4217), exactly. A Stripe amount that our units cannot
 * hold (4010 ISK-hundredths is 40.10 ISK, and ISK has no decimals) is refused, never rounded.
 *
 * @example fromStripeAmount(50000, "isk") // 500
 * @example fromStripeAmount(100, "mga")   // 10000
 * @throws InvalidAmountError for an amount with a fraction our minor units cannot hold
 */
export function fromStripeAmount(amount: number, currency: string): number {
  const code = normalizeCurrency(currency);
  const { exponent, isoExponent } = stripeCurrencyRule(code);
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new InvalidAmountError(`Stripe amount ${amount} is not a whole number`, amount, code);
  }
  const shift = isoExponent - exponent;
  if (shift >= 0) {
    const ours = amount * 10 ** shift;
    if (!Number.isSafeInteger(ours))
      throw new InvalidAmountError(`Stripe amount ${amount} ${code} is too large`, amount, code);
    return ours;
  }
  const divisor = 10 ** -shift;
  if (amount % divisor !== 0) {
    throw new InvalidAmountError(
      `Stripe amount ${amount} ${code} has a fraction of a ${code} minor unit (it is not a multiple of ${divisor}); refusing to drop it`,
      amount,
      code,
    );
  }
  return amount / divisor;
}

/**
 * Whether Stripe can take this amount in one charge: the same checks as {@link toStripeAmount}, for
 * callers that must refuse a request before anything is recorded.
 * @throws InvalidAmountError
 */
export function assertStripeChargeable(amount: number, currency: string): void {
  toStripeAmount(amount, currency);
}
