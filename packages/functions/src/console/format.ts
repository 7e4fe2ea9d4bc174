import { currencyExponent, formatMinorUnits } from "@payments/core";

/**
 * An amount in minor units for people: the currency's major units with its symbol and grouping,
 * exact (the decimal string goes to Intl, never a float), with the currency's own number of
 * decimals. @example formatMoney(123456, "usd") // "$1,234.56"
 */
export function formatMoney(minor: number, currency: string): string {
  const exact = formatMinorUnits(minor, currency);
  const decimals = currencyExponent(currency.toLowerCase()) ?? 2;
  try {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: currency.toUpperCase(),
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      // A decimal string is formatted exactly (ECMA-402 NumberFormat v3).
    }).format(exact as unknown as number);
  } catch {
    // A code that Intl does not know: the exact decimal and the code.
    return `${exact} ${currency.toUpperCase()}`;
  }
}

/** How long ago, in the largest unit that fits. @example formatAge("…", now) // "3 min ago" */
export function formatAge(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return "unknown";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}
