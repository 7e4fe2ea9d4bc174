/** Runs `total` operations with `concurrency` in flight and records each one's latency. */
export async function measure(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ seconds: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = new Array(total);
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await op(i);
      latenciesMs[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latenciesMs };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface Figures {
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

/** Pools the rounds of one scenario into one set of figures. */
export function summarize(rounds: ReadonlyArray<{ seconds: number; latenciesMs: number[] }>): Figures {
  const latencies = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
  return {
    opsPerSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    count: latencies.length,
  };
}
