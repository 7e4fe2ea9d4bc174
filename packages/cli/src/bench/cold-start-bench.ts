import { execFileSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleTarget, functionHandlers, nodeMajor } from "@payments/topology";
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
  reconciler: ["kafkajs", "hono", "@aws-sdk/client-eventbridge"],
};

export interface ColdStartRow {
  readonly name: string;
  /** The bundle built for the runtime's Node ({@link bundleTarget}). */
  readonly bytes: number;
  /** Per Node measured, as in {@link ColdStartResult.nodes}: median over rounds of a fresh `node` importing the bundle, minus a fresh bare `node`. */
  readonly importMs: readonly number[];
  /**
   * On the runtime's Node, with active tracing on (POWERTOOLS_TRACE_ENABLED, as stacks/ sets it):
   * the X-Ray SDK is loaded, through Powertools' Tracer. Same rounds, minus the same bare `node`.
   */
  readonly tracedImportMs: number;
  readonly watched: readonly string[];
  readonly unwanted: readonly string[];
}

/** A Node the bundles are imported by: the project's own (Lambda's major), and any other to compare. */
export interface ColdStartNode {
  readonly execPath: string;
  readonly version: string;
  /** esbuild's target for this Node's bundles: each Node gets what SST would build for its runtime. */
  readonly target: string;
  readonly bareNodeMs: number;
}

export interface ColdStartResult {
  readonly nodes: readonly ColdStartNode[];
  readonly rows: readonly ColdStartRow[];
  readonly rounds: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Wall time of a fresh `node` process running `args` (ms), as Lambda's init pays it. */
function timeNode(execPath: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  execFileSync(execPath, args, { env, stdio: "ignore" });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The banner SST's Node.js builder puts on every ESM bundle (pkg/runtime/node/build.go). */
const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  "const require = topLevelCreateRequire(import.meta.url);",
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  "const __filename = topLevelFileUrlToPath(import.meta.url)",
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/**
 * Each Lambda bundled as SST bundles a Node.js function for a deploy (esbuild: bundled, minified ESM,
 * names kept, `module` before `main`, its banner, nothing external, the target stacks/ sets), its
 * size, which watched packages it carries, and the time a fresh `node` takes to import it over a
 * bare `node`, beside a baseline handler that imports only @aws-sdk/client-dynamodb. The project's
 * Node is always measured; `compareWith` adds other Node binaries, each importing bundles built for
 * its own major, in the same interleaved rounds so that the versions compare like with like.
 */
export async function runColdStartBench(options: {
  rounds: number;
  compareWith?: readonly string[];
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
    // SST sets the app's link on every function; the API reads its stage when it is built (the
    // providers' /{stage}/webhook paths).
    SST_RESOURCE_App: JSON.stringify({ name: "payments", stage: "bench" }),
  };

  const runtimes = [process.execPath, ...(options.compareWith ?? [])].map((execPath) => {
    const version = execFileSync(execPath, ["-p", "process.version"], { env }).toString().trim();
    const major = Number(/^v(\d+)/.exec(version)?.[1]);
    return { execPath, version, target: major === nodeMajor ? bundleTarget : `node${major}` };
  });
  if (runtimes[0]!.target !== bundleTarget)
    throw new Error(
      `the bench runs on Node ${process.version}, not Lambda's Node ${nodeMajor}: run it with npm run bench`,
    );

  const bundles: Array<{ name: string; files: string[]; bytes: number; inputs: string[] }> = [];
  for (const [name, entry] of unique) {
    const files: string[] = [];
    let bytes = 0;
    let inputs: string[] = [];
    for (const [i, runtime] of runtimes.entries()) {
      const outfile = join(dir, `${name}.${runtime.target}.mjs`);
      const result = await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        minify: true,
        keepNames: true,
        format: "esm",
        platform: "node",
        target: runtime.target,
        mainFields: ["module", "main"],
        banner: { js: SST_BANNER },
        metafile: true,
        logLevel: "silent",
      });
      files.push(outfile);
      if (i === 0) {
        bytes = statSync(outfile).size;
        inputs = Object.keys(result.metafile.inputs);
      }
    }
    bundles.push({ name, files, bytes, inputs });
    options.log(`cold start: bundled ${name} (${(bytes / 1024).toFixed(0)} KiB for ${bundleTarget})`);
  }

  const bare: number[][] = runtimes.map(() => []);
  const imports = new Map<string, number[][]>(bundles.map((b) => [b.name, runtimes.map(() => [])]));
  const traced = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
  const tracingEnv = { ...env, POWERTOOLS_TRACE_ENABLED: "true", AWS_XRAY_CONTEXT_MISSING: "IGNORE_ERROR" };
  // Rounds interleave every bundle and every Node, so that a slow moment of the machine is shared.
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, runtime] of runtimes.entries()) {
      bare[i]!.push(timeNode(runtime.execPath, ["-e", ""], env));
      for (const b of bundles)
        imports
          .get(b.name)!
          [i]!.push(
            timeNode(
              runtime.execPath,
              ["--input-type=module", "-e", `await import(${JSON.stringify(b.files[i])})`],
              env,
            ),
          );
    }
    for (const b of bundles)
      traced
        .get(b.name)!
        .push(
          timeNode(
            runtimes[0]!.execPath,
            ["--input-type=module", "-e", `await import(${JSON.stringify(b.files[0])})`],
            tracingEnv,
          ),
        );
  }
  const nodes = runtimes.map((runtime, i) => ({ ...runtime, bareNodeMs: median(bare[i]!) }));
  const rows = bundles.map((b) => {
    const has = (pkg: string) => b.inputs.some((input) => input.includes(`node_modules/${pkg}/`));
    const watched = WATCHED.filter(has);
    return {
      name: b.name,
      bytes: b.bytes,
      importMs: nodes.map((node, i) => median(imports.get(b.name)![i]!) - node.bareNodeMs),
      tracedImportMs: median(traced.get(b.name)!) - nodes[0]!.bareNodeMs,
      watched,
      unwanted: (NEVER[b.name as keyof typeof NEVER] ?? []).filter(has),
    };
  });
  return { nodes, rows, rounds: options.rounds };
}
