/** One timed run: wall time, each operation's latency, and this process's CPU time. */
export interface Run {
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly cpuMicros: number;
}

/** Runs `total` operations with `concurrency` in flight and records each one's latency. */
export async function measure(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Run> {
  const latenciesMs: number[] = new Array(total);
  let next = 0;
  const cpu = process.cpuUsage();
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
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, latenciesMs, cpuMicros: used.user + used.system };
}

/** Several runs of one scenario as one: their operations, wall time and CPU added up. */
export function joinRuns(runs: readonly Run[]): Run {
  return {
    seconds: runs.reduce((s, r) => s + r.seconds, 0),
    latenciesMs: runs.flatMap((r) => r.latenciesMs),
    cpuMicros: runs.reduce((s, r) => s + r.cpuMicros, 0),
  };
}

/** A copy in random order (Fisher–Yates). */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
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
  /** The client's own CPU per operation (SDK, marshalling, the store's code), in µs. */
  readonly clientCpuMicros: number;
}

/** Pools the rounds of one scenario into one set of figures. */
export function summarize(rounds: readonly Run[]): Figures {
  const latencies = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
  const cpu = rounds.reduce((s, r) => s + r.cpuMicros, 0);
  return {
    opsPerSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    count: latencies.length,
    clientCpuMicros: cpu / latencies.length,
  };
}
