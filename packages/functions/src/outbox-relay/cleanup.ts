import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logger, metrics } from "../shared/observability";
import { cleanupResolvedFailures } from "./cleanup-job";
import { createRelayWiring } from "./wiring";

const wiring = createRelayWiring();

/** The cleanup job (daily, SPEC §5). */
export async function handler() {
  try {
    const counts = await cleanupResolvedFailures({
      deliveries: wiring.deliveries(),
      retentionDays: wiring.config.retentionDays,
    });
    metrics.addMetric("OutboxFailuresDeleted", MetricUnit.Count, counts.deleted);
    logger.info("outbox cleanup done", counts);
    return counts;
  } catch (error) {
    metrics.addMetric("OutboxCleanupErrors", MetricUnit.Count, 1);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
