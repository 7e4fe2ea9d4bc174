import { currencyExponent, formatMinorUnits, knownCurrencies } from "@payments/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { propertyRuns } from "../../../../test/helpers/property";
import { formatAge, formatMoney } from "./format";

const digits = (s: string) => s.replace(/\D/g, "").replace(/^0+/, "");

describe("formatMoney", () => {
  it("shows major units with the currency's symbol and its own decimals", () => {
    expect(formatMoney(123456, "usd")).toBe("$1,234.56");
    expect(formatMoney(5, "usd")).toBe("$0.05");
    expect(formatMoney(1235, "jpy")).toBe("¥1,235");
    expect(formatMoney(1235, "kwd")).toBe("KWD\u00a01.235");
    expect(formatMoney(Number.MAX_SAFE_INTEGER, "usd")).toBe("$90,071,992,547,409.91");
  });

  it("is exact for every whole amount of minor units and every known currency: the same digits as the decimal string", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(...knownCurrencies()),
        (minor, currency) => {
          const shown = formatMoney(minor, currency);
          expect(digits(shown)).toBe(digits(formatMinorUnits(minor, currency)));
          const decimals = currencyExponent(currency) ?? 0;
          const fraction = shown.match(/\.(\d+)/)?.[1] ?? "";
          expect(fraction.length).toBe(decimals);
        },
      ),
      propertyRuns(500),
    );
  });
});

describe("formatAge", () => {
  const now = new Date("2026-11-23T12:00:00Z");
  it.each([
    ["2026-11-23T11:59:30Z", "30 s ago"],
    ["2026-11-23T11:57:00Z", "3 min ago"],
    ["2026-11-23T09:00:00Z", "3 h ago"],
    ["2026-11-20T12:00:00Z", "3 d ago"],
    ["2026-11-23T12:00:05Z", "0 s ago"],
    ["not a time", "unknown"],
  ])("%s is %s", (iso, expected) => {
    expect(formatAge(iso, now)).toBe(expected);
  });
});
