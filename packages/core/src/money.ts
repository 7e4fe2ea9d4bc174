import { currencyExponent } from "./currencies";
import { InvalidAmountError, InvalidCurrencyError } from "./errors";

/** Money is an integer number of the currency's minor unit, with a lower-case ISO 4217 code. */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

/** Stripe's ceiling for one charge, in minor units (SPEC §2). */
export const MAX_CHARGE_MINOR_UNITS = 99_999_999;

/**
 * Checks and normalises a currency code to lower case.
 * @example normalizeCurrency("USD") // "usd"
 * @throws InvalidCurrencyError for anything that is not a known ISO 4217 code
 */
export function normalizeCurrency(currency: unknown): string {
  if (typeof currency !== "string" || !/^[A-Za-z]{3}$/.test(currency))
    throw new InvalidCurrencyError(currency);
  const code = currency.toLowerCase();
  if (currencyExponent(code) === undefined) throw new InvalidCurrencyError(currency);
  return code;
}

function exponentOf(currency: string): number {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new InvalidCurrencyError(currency);
  return exponent;
}

/** How much of a caller's input an error message quotes: enough to recognise it, never a 200 KB echo. */
const QUOTE_LIMIT = 40;

/**
 * Shows an input in an error message: a short plain literal as it is, anything else quoted, and
 * anything long cut to {@link QUOTE_LIMIT} characters with its full length named.
 * @example quoteInput("25.999") // '25.999'
 * @example quoteInput("1".repeat(200000)) // '"1111…" (200000 characters)'
 */
export function quoteInput(input: unknown): string {
  const text = typeof input === "string" ? input : (JSON.stringify(input) ?? String(input));
  if (text.length > QUOTE_LIMIT)
    return `${JSON.stringify(`${text.slice(0, QUOTE_LIMIT)}…`)} (${text.length} characters)`;
  return /^[\w.+-]+$/.test(text) ? text : JSON.stringify(text);
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/;

/** Splits a decimal literal into sign, digits and a power of ten, with no floating-point step. */
function parseDecimal(text: string): { negative: boolean; digits: string; exponent: number } | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m) return undefined;
  const [sign, whole, fraction, exp] =
    m[2] !== undefined ? [m[1], m[2], m[3] ?? "", m[4]] : [m[5], "0", m[6]!, m[7]];
  return {
    negative: sign === "-",
    digits: `${whole}${fraction}`,
    exponent: Number(exp ?? 0) - fraction.length,
  };
}

/**
 * Converts an amount in major units ("25.99" or 25.99) into integer minor units, exactly.
 * A number is read through its shortest decimal form (25.99 → "25.99"), the literal the sender wrote,
 * so no binary floating-point error reaches the result.
 *
 * @example toMinorUnits("25.99", "usd") // 2599
 * @example toMinorUnits(1000, "jpy")    // 1000
 * @throws InvalidAmountError for more decimals than the currency has, zero, negative, non-finite
 *   or non-numeric input, and amounts over {@link MAX_CHARGE_MINOR_UNITS}
 */
export function toMinorUnits(
  input: unknown,
  currency: string,
  { max = MAX_CHARGE_MINOR_UNITS }: { max?: number } = {},
): number {
  const code = normalizeCurrency(currency);
  const decimals = exponentOf(code);
  let text: string;
  if (typeof input === "number") {
    if (!Number.isFinite(input))
      throw new InvalidAmountError(`amount ${input} is not a finite number`, input, code);
    // A JSON number's literal is gone once parsed: 25.9999999999999999 arrives as 26. Callers that
    // read JSON keep the literal (see order-message.ts); here the number is all there is.
    text = String(input);
  } else if (typeof input === "string") {
    text = input;
  } else {
    throw new InvalidAmountError(
      `amount must be a number or a decimal string, not ${input === null ? "null" : typeof input}`,
      input,
      code,
    );
  }
  const parsed = parseDecimal(text);
  const shown = quoteInput(text);
  if (!parsed) throw new InvalidAmountError(`amount ${shown} is not a decimal number`, input, code);

  // Zero is zero however it is written ("0e-9999", "-0.000"): say so before counting its decimals.
  if (/^0*$/.test(parsed.digits))
    throw new InvalidAmountError(`amount ${shown} must be greater than zero`, input, code);
  if (parsed.negative) throw new InvalidAmountError(`amount ${shown} must not be negative`, input, code);
  // Drop trailing zeros of the fraction ("25.990" is 25.99) before counting decimals.
  let { digits, exponent } = parsed;
  while (exponent < 0 && digits.endsWith("0")) {
    digits = digits.slice(0, -1);
    exponent += 1;
  }
  const shift = exponent + decimals;
  if (shift < 0) {
    const places = -exponent;
    throw new InvalidAmountError(
      `amount ${shown} has more decimals than ${code} allows (${decimals}, not ${places})`,
      input,
      code,
    );
  }
  digits = digits.replace(/^0+/, "");
  // More than 17 digits is over any limit; checking first keeps "1e999999999" from building a huge BigInt.
  const minor =
    digits === ""
      ? 0n
      : digits.length + shift > 17
        ? BigInt(max) + 1n
        : BigInt(digits) * 10n ** BigInt(shift);
  if (minor > BigInt(max)) {
    throw new InvalidAmountError(
      `amount ${shown} ${code} is over the limit of ${formatMinorUnits(max, code)} ${code}`,
      input,
      code,
    );
  }
  return Number(minor);
}

/**
 * Checks an amount that is already in minor units (the REST API's input).
 * @example assertMinorUnits(2599, "usd") // 2599
 */
export function assertMinorUnits(
  amount: unknown,
  currency: string,
  { max = MAX_CHARGE_MINOR_UNITS }: { max?: number } = {},
): number {
  const code = normalizeCurrency(currency);
  if (typeof amount !== "number" || !Number.isSafeInteger(amount)) {
    throw new InvalidAmountError(
      `amount ${quoteInput(amount)} must be a whole number of ${code}'s minor unit`,
      amount,
      code,
    );
  }
  if (amount <= 0) throw new InvalidAmountError(`amount ${amount} must be greater than zero`, amount, code);
  if (amount > max)
    throw new InvalidAmountError(`amount ${amount} is over the limit of ${max}`, amount, code);
  return amount;
}

/**
 * Formats minor units as a major-unit decimal string, exactly.
 * @example formatMinorUnits(2599, "usd") // "25.99"
 * @throws InvalidAmountError for anything but a safe integer: minor units have no fractions
 */
export function formatMinorUnits(amount: number, currency: string): string {
  const decimals = exponentOf(currency.toLowerCase());
  if (!Number.isSafeInteger(amount)) {
    throw new InvalidAmountError(
      `amount ${quoteInput(amount)} is not a whole number of minor units`,
      amount,
      currency,
    );
  }
  const negative = amount < 0;
  const digits = String(Math.abs(amount)).padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? "-" : ""}${whole}${decimals ? `.${fraction}` : ""}`;
}
