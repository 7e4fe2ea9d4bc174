import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { propertyRuns } from "../../../test/helpers/property";
import { knownCurrencies } from "./currencies";
import { InvalidAmountError, InvalidCurrencyError } from "./errors";
import {
  assertMinorUnits,
  formatMinorUnits,
  MAX_CHARGE_MINOR_UNITS,
  normalizeCurrency,
  toMinorUnits,
} from "./money";

describe("toMinorUnits", () => {
  it.each([
    ["25.99", "usd", 2599],
    [25.99, "usd", 2599],
    [19.99, "usd", 1999],
    ["19.990", "usd", 1999],
    [1000, "jpy", 1000],
    ["1.234", "kwd", 1234],
    ["0.01", "usd", 1],
    [999999.99, "usd", 99999999],
    ["1e2", "usd", 10000],
    [".5", "eur", 50],
    [50000, "vnd", 50000],
  ])("reads %j %s as %i minor units", (input, currency, expected) => {
    expect(toMinorUnits(input, currency)).toBe(expected);
  });

  it("converts every cent value from 0.01 to 99.99 exactly, as numbers and as strings", () => {
    for (let cents = 1; cents < 10_000; cents++) {
      const literal = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
      expect(toMinorUnits(literal, "usd")).toBe(cents);
      expect(toMinorUnits(Number(literal), "usd")).toBe(cents);
    }
  });

  it("refuses a float sum that drifted rather than rounding it", () => {
    // 0.1 + 0.2 is 0.30000000000000004: a sender's arithmetic error must not be silently rounded away.
    expect(() => toMinorUnits(0.1 + 0.2, "usd")).toThrow(InvalidAmountError);
  });

  it("says how many decimals the currency allows", () => {
    expect(() => toMinorUnits("25.999", "usd")).toThrow(
      "amount 25.999 has more decimals than usd allows (2, not 3)",
    );
    expect(() => toMinorUnits(100.5, "jpy")).toThrow("more decimals than jpy allows (0, not 1)");
  });

  it.each([
    [0, "greater than zero"],
    ["0.00", "greater than zero"],
    [-5, "must not be negative"],
    ["-0.01", "must not be negative"],
    [Number.POSITIVE_INFINITY, "not a finite number"],
    [Number.NaN, "not a finite number"],
    ["twelve", "not a decimal number"],
    ["", "not a decimal number"],
    ["1,000.00", "not a decimal number"],
    [null, "not null"],
    [true, "not boolean"],
    [{}, "not object"],
    [1_000_000, "over the limit of 999999.99 usd"],
    ["1e999999999", "over the limit"],
  ])("rejects %j with a reason (%s)", (input, reason) => {
    const attempt = () => toMinorUnits(input, "usd");
    expect(attempt).toThrow(InvalidAmountError);
    expect(attempt).toThrow(reason);
  });

  it("allows a larger ceiling for money already received", () => {
    expect(toMinorUnits("90071992547409.91", "usd", { max: Number.MAX_SAFE_INTEGER })).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it("rejects unknown currencies", () => {
    expect(() => toMinorUnits("1.00", "xyz")).toThrow(InvalidCurrencyError);
    expect(() => toMinorUnits("1.00", "us")).toThrow('currency "us" is not an ISO 4217 code');
  });
});

describe("assertMinorUnits", () => {
  it("accepts whole minor units and refuses fractions, zero and the over-ceiling", () => {
    expect(assertMinorUnits(2599, "usd")).toBe(2599);
    expect(() => assertMinorUnits(25.99, "usd")).toThrow("must be a whole number of usd's minor unit");
    expect(() => assertMinorUnits(0, "usd")).toThrow("greater than zero");
    expect(() => assertMinorUnits(100_000_000, "usd")).toThrow("over the limit");
    expect(() => assertMinorUnits("2599", "usd")).toThrow(InvalidAmountError);
  });
});

describe("currencies and formatting", () => {
  it("normalises codes to lower case", () => {
    expect(normalizeCurrency("USD")).toBe("usd");
  });

  it("formats minor units back into major units exactly", () => {
    expect(formatMinorUnits(2599, "usd")).toBe("25.99");
    expect(formatMinorUnits(5, "usd")).toBe("0.05");
    expect(formatMinorUnits(1234, "kwd")).toBe("1.234");
    expect(formatMinorUnits(1000, "jpy")).toBe("1000");
  });
});

describe("inputs that once slipped through or misled", () => {
  it("quotes at most a few dozen characters of a 200,000-digit amount in its error", () => {
    const huge = "9".repeat(200_000);
    let message = "";
    try {
      toMinorUnits(huge, "usd");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("over the limit");
    expect(message).toContain("(200000 characters)");
    expect(message.length).toBeLessThan(200);
  });

  it("calls zero zero however it is written, never 'more decimals'", () => {
    for (const zero of ["0e-9999", "0.000", "-0", "0E+5", ".0"]) {
      expect(() => toMinorUnits(zero, "usd"), zero).toThrow("must be greater than zero");
    }
  });

  it("refuses to format a fraction of a minor unit instead of printing '1..5'", () => {
    expect(() => formatMinorUnits(1.5, "usd")).toThrow(InvalidAmountError);
    expect(() => formatMinorUnits(Number.NaN, "usd")).toThrow("not a whole number of minor units");
    expect(formatMinorUnits(-1234, "kwd")).toBe("-1.234");
  });

  it("reads a number and the same digits as a string alike", () => {
    for (const [literal, currency] of [
      ["25.99", "usd"],
      ["1.234", "kwd"],
      ["1000", "jpy"],
      ["1e2", "usd"],
    ] as const) {
      expect(toMinorUnits(Number(literal), currency)).toBe(toMinorUnits(literal, currency));
    }
  });

  it("cuts an over-long currency in its error", () => {
    expect(() => normalizeCurrency("u".repeat(10_000))).toThrow(InvalidCurrencyError);
    let message = "";
    try {
      normalizeCurrency("u".repeat(10_000));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeLessThan(120);
  });
});

describe("money, as a property", () => {
  it("reads back exactly what it formats, in every currency, as a string and as a number", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...knownCurrencies()),
        fc.integer({ min: 1, max: MAX_CHARGE_MINOR_UNITS }),
        (currency, minor) => {
          const text = formatMinorUnits(minor, currency);
          expect(toMinorUnits(text, currency)).toBe(minor);
          expect(toMinorUnits(text.toUpperCase(), currency.toUpperCase())).toBe(minor);
          // A number is read through its shortest decimal form, which for these magnitudes is exact.
          expect(toMinorUnits(Number(text), currency)).toBe(minor);
        },
      ),
      propertyRuns(5_000),
    );
  });
});
