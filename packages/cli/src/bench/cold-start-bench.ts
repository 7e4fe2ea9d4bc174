import { execFileSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { functionHandlers } from "@payments/topology";
import { build } from "esbuild";

/** Packages that a function should carry only if it calls them. */
const WATCHED = [
  "kafkajs",
  "hono",
  "stripe",
  "electrodb",
  "@aws-sdk/client-eventbridge",
  "@aws-sdk/client-sqs",
  "@aws-lambda-powertools/batch",
  "aws-msk-iam-sasl-signer-js",
] as const;

/** What each function must not bundle (SPEC §9: no function bundles code it never calls). */
const NEVER: Partial<Record<keyof typeof functionHandlers | "baseline", readonly string[]>> = {
  api: ["kafkajs", "@aws-sdk/client-eventbridge", "aws-msk-iam-sasl-signer-js"],
  processPayment: ["kafkajs", "hono", "@aws-sdk/client-eventbridge"],
  projector: ["kafkajs", "hono", "stripe"],
  outboxRelay: ["hono", "stripe"],
  outboxSweeper: ["hono", "stripe"],
  outboxCleanup: ["hono", "stripe", "kafkajs"],
  orderStatus: ["kafkajs", "hono", "stripe"],
  collectTask: ["kafkajs", "hono"],
  refundTask: ["kafkajs", "hono"],
};

export interface ColdStartRow {
  readonly name: string;
  readonly bytes: number;
  /** Median over rounds of a fresh `node` importing the bundle, minus a fresh bare `node`. */
  readonly importMs: number;
  readonly watched: readonly string[];
  readonly unwanted: readonly string[];
}

export interface ColdStartResult {
  readonly bareNodeMs: number;
  readonly rows: readonly ColdStartRow[];
  readonly rounds: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Wall time of a fresh node process running `script` (ms), as Lambda's init pays it. */
function timeNode(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, args, { env, stdio: "ignore" });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Each Lambda bundled as SST bundles a Node.js function (esbuild: bundled, minified ESM for the
 * runtime's Node version, `module` before `main`, a createRequire banner, nothing external), its
 * size, which watched packages it carries, and the time a fresh `node` takes to import it over a
 * bare `node`, beside a baseline handler that imports only @aws-sdk/client-dynamodb.
 */
export async function runColdStartBench(options: {
  rounds: number;
  log: (line: string) => void;
}): Promise<ColdStartResult> {
  const dir = mkdtempSync(join(tmpdir(), "cold-start-"));
  const baselineEntry = new URL("./cold-start-baseline.ts", import.meta.url).pathname;
  const entries: Array<[string, string]> = [
    ["baseline", baselineEntry],
    ...Object.entries(functionHandlers).map(([name, handler]): [string, string] => [
      name,
      `${handler.slice(0, handler.lastIndexOf("."))}.ts`,
    ]),
  ];
  // The tasks share one file: bundle it once.
  const unique = entries.filter(([, file], i) => entries.findIndex(([, f]) => f === file) === i);
  // The links and region a handler reads at import, as on Lambda (values do not matter: nothing is called).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
    POWERTOOLS_METRICS_DISABLED: "true",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };

  const bundles: Array<{ name: string; file: string; bytes: number; inputs: string[] }> = [];
  for (const [name, entry] of unique) {
    const outfile = join(dir, `${name}.mjs`);
    const result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      minify: true,
      format: "esm",
      platform: "node",
      target: "node20",
      mainFields: ["module", "main"],
      banner: {
        js: 'import { createRequire as topLevelCreateRequire } from "module"; const require = topLevelCreateRequire(import.meta.url);',
      },
      metafile: true,
      logLevel: "silent",
    });
    bundles.push({
      name,
      file: outfile,
      bytes: statSync(outfile).size,
      inputs: Object.keys(result.metafile.inputs),
    });
    options.log(`cold start: bundled ${name} (${(statSync(outfile).size / 1024).toFixed(0)} KiB)`);
  }

  const bare: number[] = [];
  const imports = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
  // Rounds interleave every bundle, so that a slow moment of the machine is shared, not one bundle's.
  for (let round = 0; round < options.rounds; round++) {
    bare.push(timeNode(["-e", ""], env));
    for (const b of bundles)
      imports
        .get(b.name)!
        .push(timeNode(["--input-type=module", "-e", `await import(${JSON.stringify(b.file)})`], env));
  }
  const bareNodeMs = median(bare);
  const rows = bundles.map((b) => {
    const has = (pkg: string) => b.inputs.some((input) => input.includes(`node_modules/${pkg}/`));
    const watched = WATCHED.filter(has);
    return {
      name: b.name,
      bytes: b.bytes,
      importMs: median(imports.get(b.name)!) - bareNodeMs,
      watched,
      unwanted: (NEVER[b.name as keyof typeof NEVER] ?? []).filter(has),
    };
  });
  return { bareNodeMs, rows, rounds: options.rounds };
}
