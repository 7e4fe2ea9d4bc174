import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createOutboxDeliveries } from "@payments/adapters/dynamodb";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger, metrics, traced, withColdStartMetric } from "../shared/observability";
import { cleanupResolvedFailures } from "./cleanup-job";
import { outboxConfig } from "./config";

// The delivery table only: the cleanup publishes nothing, so it bundles neither Kafka nor EventBridge.
const config = outboxConfig();
const deliveries = lazy(() =>
  createOutboxDeliveries({
    client: traced(new DynamoDBClient({})),
    tableName: Resource.OutboxDeliveries.name,
  }),
);

/** The cleanup job (daily, SPEC §5). */
export const handler = withColdStartMetric(async function cleanup() {
  try {
    const counts = await cleanupResolvedFailures({
      deliveries: deliveries(),
      retentionDays: config.retentionDays,
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
});
