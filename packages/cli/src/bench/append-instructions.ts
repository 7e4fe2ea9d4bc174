import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { bundleTarget } from "@payments/topology";
import { build } from "esbuild";
import type { ScenarioName } from "./append-scenarios";

const run = promisify(execFile);

export interface AppendInstructionsResult {
  readonly warmUp: number;
  readonly operations: number;
  /** Instructions per append, of the client's own work. */
  readonly perAppend: Record<Counted, number>;
}

/** The scenarios with a target on the client's side; Castore's difference is on the server (its index item). */
const SCENARIOS = [
  "raw PutItem",
  "raw PutItem (control)",
  "store: single event",
  "raw TransactWriteItems",
  "store: transaction",
] as const satisfies readonly ScenarioName[];
type Counted = (typeof SCENARIOS)[number];

/**
 * The client's work per append in instructions: one configuration's count repeats to 0.1 %
 * whatever else the machine does, where throughput swings by 2×. Each scenario runs in a fresh `node --single-threaded`
 * (no background compiler or GC threads) under valgrind's callgrind, twice: after the same warm-up,
 * once with no further appends and once with `operations` more; the difference divided by
 * `operations` is one append's instructions, with start-up and warm-up cancelled out. The SDK answers
 * in process (append-instructions-harness.ts), so the figure is the store's or the raw path's code,
 * the SDK, marshalling and signing: the requests sent are the same for the store and the raw path.
 * @throws Error when valgrind is not installed
 */
export async function runAppendInstructionsBench(options: {
  warmUp: number;
  operations: number;
  log: (line: string) => void;
}): Promise<AppendInstructionsResult> {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "valgrind is not installed (Debian: apt-get install -y valgrind); it counts the instructions",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "append-instructions-"));
  const harness = join(dir, "harness.mjs");
  await build({
    entryPoints: [new URL("./append-instructions-harness.ts", import.meta.url).pathname],
    outfile: harness,
    bundle: true,
    platform: "node",
    format: "esm",
    target: bundleTarget,
    mainFields: ["module", "main"],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: "error",
  });

  const count = async (scenario: Counted, operations: number): Promise<number> => {
    const out = join(dir, `callgrind.${SCENARIOS.indexOf(scenario)}.${operations}.out`);
    const { stderr } = await run(
      "valgrind",
      [
        "--tool=callgrind",
        `--callgrind-out-file=${out}`,
        // V8 writes the code it runs: valgrind must notice code that changes anywhere.
        "--smc-check=all",
        process.execPath,
        "--single-threaded",
        harness,
        scenario,
        String(options.warmUp),
        String(operations),
      ],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const collected = /Collected : (\d+)/.exec(stderr);
    if (!collected) throw new Error(`callgrind reported no count for ${scenario}: ${stderr.slice(-500)}`);
    return Number(collected[1]);
  };

  const jobs = SCENARIOS.flatMap((scenario) => [0, options.operations].map((n) => ({ scenario, n })));
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { scenario, n } = jobs[next++]!;
      counts.set(`${scenario}|${n}`, await count(scenario, n));
      options.log(
        `instructions: ${scenario} after ${options.warmUp} + ${n} appends: ${counts.get(`${scenario}|${n}`)}`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cpus().length) }, worker));

  const perAppend = Object.fromEntries(
    SCENARIOS.map((s) => [
      s,
      (counts.get(`${s}|${options.operations}`)! - counts.get(`${s}|0`)!) / options.operations,
    ]),
  ) as Record<Counted, number>;
  return { warmUp: options.warmUp, operations: options.operations, perAppend };
}
