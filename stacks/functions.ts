/** What every Lambda of the service shares (SPEC §8): arm64, an explicit Node.js runtime, ESM bundles. */
export const lambdaDefaults = {
  runtime: "nodejs20.x" as const,
  architecture: "arm64" as const,
  nodejs: { format: "esm" as const, minify: true },
};

/** Fraud screening's thresholds, set on every function that can screen a payment. */
export const fraudEnvironment = { DEFAULT_CURRENCY: "usd", FRAUD_REVIEW_AT: "60", FRAUD_REJECT_AT: "85" };
