/**
 * Lambda event filtering (the subset used by event-source mappings): a pattern is an object whose
 * leaves are arrays of allowed values, or of matchers `{prefix}`, `{exists}`, `{"anything-but"}`,
 * `{numeric}`. A record passes when every key of the pattern matches; several patterns are ORed.
 */
export type FilterPattern = { readonly [key: string]: FilterPattern | readonly FilterValue[] };
type FilterValue =
  | string
  | number
  | boolean
  | null
  | { readonly prefix: string }
  | { readonly exists: boolean }
  | { readonly "anything-but": string | number | ReadonlyArray<string | number> }
  | { readonly numeric: ReadonlyArray<string | number> };

export function matchesAny(patterns: readonly FilterPattern[] | undefined, value: unknown): boolean {
  return !patterns || patterns.length === 0 || patterns.some((p) => matches(p, value));
}

export function matches(pattern: FilterPattern, value: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    const actual =
      value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) {
      if (!(expected as FilterValue[]).some((rule) => leafMatches(rule, actual))) return false;
    } else if (!matches(expected as FilterPattern, actual)) {
      return false;
    }
  }
  return true;
}

function leafMatches(rule: FilterValue, actual: unknown): boolean {
  if (rule === null || typeof rule !== "object") return actual === rule;
  if ("exists" in rule) return rule.exists === (actual !== undefined);
  if (actual === undefined) return false;
  if ("prefix" in rule) return typeof actual === "string" && actual.startsWith(rule.prefix);
  if ("anything-but" in rule) {
    const excluded = [rule["anything-but"]].flat();
    return !excluded.includes(actual as string | number);
  }
  if ("numeric" in rule) {
    const n = Number(actual);
    const ops = rule.numeric;
    for (let i = 0; i + 1 < ops.length; i += 2) {
      const bound = Number(ops[i + 1]);
      const ok = { "=": n === bound, "<": n < bound, "<=": n <= bound, ">": n > bound, ">=": n >= bound }[
        ops[i] as string
      ];
      if (!ok) return false;
    }
    return true;
  }
  return false;
}
