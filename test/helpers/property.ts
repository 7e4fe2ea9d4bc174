/**
 * fast-check settings for the property suites: seeded from FC_SEED when given, else from the clock.
 * fast-check puts the seed and the shrunk counterexample's path in every failure's message, so a
 * failure is replayed with `FC_SEED=<seed> npx vitest run <file>`.
 */
export function propertyRuns(numRuns: number) {
  const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
  return { seed, numRuns, verbose: 1 as const };
}
