import {
  currencyExponent,
  InvalidAmountError,
  knownCurrencies,
  MAX_CHARGE_MINOR_UNITS,
  toMinorUnits,
} from "@payments/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { propertyRuns } from "../../../../test/helpers/property";
import { fromStripeAmount, stripeCurrencyRule, toStripeAmount } from "./stripe-amounts";

/**
 * Stripe's currency rules as its documentation lists them (docs.stripe.com/currencies), written out
 * here independently of the adapter's table, so that a slip in either shows up as a failing currency.
 */
const STRIPE_ZERO_DECIMAL = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(" ");
const STRIPE_THREE_DECIMAL = "bhd jod kwd omr tnd".split(" ");
/** Special cases: zero-decimal in practice, two-decimal in the API, in multiples of 100. */
const STRIPE_TWO_DECIMAL_WHOLE = ["isk", "ugx"];

function expectedRule(code: string) {
  if (STRIPE_TWO_DECIMAL_WHOLE.includes(code)) return { exponent: 2, multipleOf: 100 };
  if (STRIPE_ZERO_DECIMAL.includes(code)) return { exponent: 0, multipleOf: 1 };
  if (STRIPE_THREE_DECIMAL.includes(code)) return { exponent: 3, multipleOf: 10 };
  return { exponent: currencyExponent(code)!, multipleOf: 1 };
}

describe("Stripe's exponent for every currency", () => {
  it.each(knownCurrencies())("%s follows Stripe's documented rule", (code) => {
    const rule = stripeCurrencyRule(code);
    expect({ exponent: rule.exponent, multipleOf: rule.multipleOf }).toEqual(expectedRule(code));
    // One major unit, converted both ways.
    const oneMajor = 10 ** rule.isoExponent;
    const atStripe = toStripeAmount(oneMajor, code);
    expect(atStripe).toBe(10 ** rule.exponent);
    expect(fromStripeAmount(atStripe, code)).toBe(oneMajor);
  });
});

describe("Stripe amounts", () => {
  it("charges 100.00 MGA as 100, not 10000: MGA is zero-decimal at Stripe", () => {
    expect(toStripeAmount(toMinorUnits("100.00", "mga"), "mga")).toBe(100);
    expect(fromStripeAmount(100, "mga")).toBe(10_000);
  });

  it("refuses a fraction Stripe cannot take, saying which steps it takes", () => {
    expect(() => toStripeAmount(10_050, "mga")).toThrow("Stripe takes mga in steps of 1.00 mga");
    expect(() => toStripeAmount(1234, "kwd")).toThrow(InvalidAmountError);
    expect(() => toStripeAmount(1234, "kwd")).toThrow("steps of 0.010 kwd, so 1.234 kwd cannot be charged");
  });

  it("is case-insensitive", () => {
    expect(toStripeAmount(500, "ISK")).toBe(50_000);
    expect(toStripeAmount(10_000, "MGA")).toBe(100);
    expect(fromStripeAmount(50_000, "Isk")).toBe(500);
  });

  it("applies Stripe's ceiling after the conversion, with its own reason", () => {
    expect(toStripeAmount(999_999, "isk")).toBe(99_999_900);
    expect(() => toStripeAmount(1_000_000, "isk")).toThrow(
      "1000000 isk is over Stripe's limit for one charge (99999999 in its units of isk, 999999 isk)",
    );
    expect(toStripeAmount(MAX_CHARGE_MINOR_UNITS, "usd")).toBe(MAX_CHARGE_MINOR_UNITS);
  });

  it("never drops a fraction on the way back", () => {
    expect(() => fromStripeAmount(4010, "isk")).toThrow(InvalidAmountError);
    expect(() => fromStripeAmount(4010, "isk")).toThrow("refusing to drop it");
    expect(fromStripeAmount(4000, "isk")).toBe(40);
    expect(fromStripeAmount(0, "isk")).toBe(0);
  });

  it("converts every amount the money module accepts to Stripe and back exactly, or refuses it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...knownCurrencies()),
        fc.oneof(fc.integer({ min: 1, max: MAX_CHARGE_MINOR_UNITS }), fc.integer({ min: 1, max: 2_000 })),
        (currency, amount) => {
          // The oracle: Stripe's documented rule from this file, in our minor units (ISO 4217).
          const { step, stripeUnits } = chargeableInOurUnits(currency, amount);
          const chargeable = amount % step === 0 && stripeUnits <= MAX_CHARGE_MINOR_UNITS;
          let atStripe: number | undefined;
          try {
            atStripe = toStripeAmount(amount, currency);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidAmountError);
          }
          expect({ currency, amount, step, accepted: atStripe !== undefined }).toEqual({
            currency,
            amount,
            step,
            accepted: chargeable,
          });
          if (atStripe === undefined) return;
          expect(atStripe).toBe(stripeUnits);
          expect(fromStripeAmount(atStripe, currency)).toBe(amount);
        },
      ),
      propertyRuns(5000),
    );
  });

  it("takes ISK, UGX and JPY in steps of one of our minor units, and MGA and KWD in steps of 100 and 10", () => {
    expect(["isk", "ugx", "jpy", "mga", "kwd"].map((c) => chargeableInOurUnits(c, 1).step)).toEqual([
      1, 1, 1, 100, 10,
    ]);
  });
});

/**
 * The smallest step of our minor units (ISO 4217's exponent) that Stripe can charge, and `amount` in
 * Stripe's units, from the rule this file writes out: Stripe counts in 10^-exponent of the major
 * unit and takes multiples of `multipleOf` of those.
 */
function chargeableInOurUnits(currency: string, amount: number): { step: number; stripeUnits: number } {
  const { exponent, multipleOf } = expectedRule(currency);
  const iso = currencyExponent(currency)!;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  if (exponent >= iso) {
    const scale = 10 ** (exponent - iso);
    return { step: multipleOf / gcd(multipleOf, scale), stripeUnits: amount * scale };
  }
  const scale = 10 ** (iso - exponent);
  return { step: scale * multipleOf, stripeUnits: amount / scale };
}
