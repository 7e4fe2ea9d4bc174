import { vi } from "vitest";

const methods = ["log", "info", "warn", "error", "debug"] as const;

/**
 * Powertools' logger and metrics write through the global console when POWERTOOLS_DEV is set
 * (set it before the function's module is imported). This turns that output off for a test file,
 * so that test output stays readable, and returns what puts it back.
 */
export function silenceConsole(): () => void {
  const spies = methods.map((m) => vi.spyOn(console, m).mockImplementation(() => undefined));
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}

/** Each console call made while `work` runs, as text (Powertools writes one JSON document per call). */
export async function captureConsole<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const saved = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    return { result: await work(), lines };
  } finally {
    for (const [m, fn] of saved) console[m] = fn;
  }
}

/** The JSON documents among captured output. */
export function jsonLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Digit runs that pass the Luhn check, as a card number would: a log must never hold one. */
export function cardLikeNumbers(text: string): string[] {
  return (text.match(/\d{15,19}/g) ?? []).filter((digits) => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  });
}
