import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { monotonicFactory } from "ulid";
import { lazy } from "../shared/lazy";
import { logger, metrics, withColdStartMetric } from "../shared/observability";
import { createReconciler, reconcilerConfigFromEnv } from "./reconciler";
import { createReconcileWiring } from "./wiring";

const ulid = monotonicFactory();
const wiring = createReconcileWiring();
const config = reconcilerConfigFromEnv();

const reconcile = lazy(() =>
  createReconciler({
    readModels: wiring.readModels(),
    settle: wiring.settle(),
    config,
    newRunId: ulid,
    onError: (paymentId, error) =>
      logger.error("reconcile failed for a payment; it is looked at again on the next run", {
        paymentId,
        reason: error.message.slice(0, 500),
      }),
  }),
);

/**
 * The reconciler (every 5 minutes on AWS, every 15 s under `npm run dev`; SPEC §6.1): one bounded run
 * over the payments open longer than RECONCILE_AFTER, one log line with what it did, and the metrics
 * `ReconcilerProviderErrors` (a provider that did not answer) and `ReconciliationDrift` (class
 * `missing_in_ledger`: money a provider moved that the ledger had not recorded, now recorded).
 */
export const handler = withColdStartMetric(async () => {
  try {
    const report = await reconcile()();
    metrics.addMetric("ReconcilerProviderErrors", MetricUnit.Count, report.providerErrors);
    metrics.addMetric("ReconcilerPaymentsSettled", MetricUnit.Count, report.settled);
    if (report.drift > 0) {
      // By class (SPEC §6.1), on a metric of its own so the dimension touches nothing else.
      const drift = metrics.singleMetric();
      drift.addDimension("class", "missing_in_ledger");
      drift.addMetric("ReconciliationDrift", MetricUnit.Count, report.drift);
    }
    logger.info("reconcile run", { ...report });
    return report;
  } finally {
    metrics.publishStoredMetrics();
  }
});
