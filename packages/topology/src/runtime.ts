/**
 * The Node.js every function runs on: on Lambda (stacks/), in the bundles (SST's esbuild target and
 * the cold-start bench) and locally (package.json pins the `node` package of the same major, so that
 * `npm test` and `npm run dev` run what Lambda runs, whatever Node the machine has).
 */
export const nodeMajor = 24;

/** The Lambda runtime identifier of {@link nodeMajor}, the one every function in stacks/ names. */
export const lambdaRuntime = `nodejs${nodeMajor}.x` as const;

/** esbuild's target for every bundle: the runtime's own Node, so nothing is transpiled for an older one. */
export const bundleTarget = `node${nodeMajor}` as const;

/**
 * What every Lambda of the service shares (SPEC §8), spread into each function by stacks/: arm64,
 * the runtime above, ESM bundles built for that runtime's Node (SST's esbuild target is otherwise
 * `esnext`).
 */
export const lambdaDefaults = {
  runtime: lambdaRuntime,
  architecture: "arm64",
  nodejs: { format: "esm", minify: true, esbuild: { target: bundleTarget } },
} as const;

/** One row of AWS Lambda's runtime table: ISO dates, UTC. */
export interface LambdaRuntimeDates {
  /** No more security patches or support; functions still run. */
  readonly deprecation: string;
  /** `CreateFunction` with this runtime is refused from this day. */
  readonly blockCreate: string;
  /** `UpdateFunctionCode`/`UpdateFunctionConfiguration` is refused from this day. */
  readonly blockUpdate: string;
}

/**
 * AWS Lambda's published dates for the Node.js runtimes this service has named or may name, as the
 * Lambda Developer Guide's "Building Lambda functions with Node.js" table gives them (read on
 * 2026-12-04). A runtime that is not here cannot be checked, and the check refuses it: add its row.
 */
export const lambdaRuntimeDates: Readonly<Record<string, LambdaRuntimeDates>> = {
  "nodejs20.x": { deprecation: "2026-04-30", blockCreate: "2026-08-31", blockUpdate: "2026-09-30" },
  "nodejs22.x": { deprecation: "2027-04-30", blockCreate: "2027-06-01", blockUpdate: "2027-07-01" },
  "nodejs24.x": { deprecation: "2028-04-30", blockCreate: "2028-06-01", blockUpdate: "2028-07-01" },
};

/** How long before a runtime's deprecation date it is reported, so the move is planned, not forced. */
export const RUNTIME_WARNING_MONTHS = 12;

export type RuntimeStanding =
  | { readonly runtime: string; readonly status: "supported"; readonly deprecation: string }
  | {
      readonly runtime: string;
      readonly status: "deprecating";
      readonly deprecation: string;
      readonly daysLeft: number;
    }
  | {
      readonly runtime: string;
      readonly status: "deprecated";
      readonly deprecation: string;
      readonly blockCreate: string;
    }
  | { readonly runtime: string; readonly status: "unknown" };

const DAY_MS = 86_400_000;

/**
 * Where `runtime` stands on `now` by {@link lambdaRuntimeDates}: deprecated from its deprecation day
 * on, deprecating within {@link RUNTIME_WARNING_MONTHS} months of it, unknown when it has no row.
 *
 * @example
 * runtimeStanding("nodejs20.x", new Date("2026-12-04")).status; // "deprecated"
 * runtimeStanding("nodejs22.x", new Date("2026-12-04")).status; // "deprecating"
 */
export function runtimeStanding(runtime: string, now: Date): RuntimeStanding {
  const dates = Object.hasOwn(lambdaRuntimeDates, runtime) ? lambdaRuntimeDates[runtime] : undefined;
  if (!dates) return { runtime, status: "unknown" };
  const deprecation = new Date(`${dates.deprecation}T00:00:00Z`);
  if (now.getTime() >= deprecation.getTime())
    return { runtime, status: "deprecated", deprecation: dates.deprecation, blockCreate: dates.blockCreate };
  const warnFrom = new Date(deprecation);
  warnFrom.setUTCMonth(warnFrom.getUTCMonth() - RUNTIME_WARNING_MONTHS);
  if (now.getTime() >= warnFrom.getTime()) {
    const daysLeft = Math.ceil((deprecation.getTime() - now.getTime()) / DAY_MS);
    return { runtime, status: "deprecating", deprecation: dates.deprecation, daysLeft };
  }
  return { runtime, status: "supported", deprecation: dates.deprecation };
}
