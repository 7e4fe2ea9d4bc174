import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { logger, metrics, withColdStartMetric } from "../shared/observability";
import { batchItemFailures, readStreamBatch } from "../shared/stream-records";
import type { Relay } from "./relay";
import { createRelayWiring } from "./wiring";

/**
 * The outbox relay's stream batch (SPEC §5). A record that cannot be read is reported in
 * batchItemFailures (bisect, bounded retries, then the on-failure destination) and logged with its
 * reason. A sink that is down does not fail the batch: its payments are marked lagging, durably,
 * and the sweeper delivers them. Only when that record cannot be written (or the bus is missing)
 * does the batch fail, so the stream retries it.
 */
export function createRelayHandler(deps: { relay: () => Relay }) {
  return async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const { events, poison } = readStreamBatch(event.Records);
    const failed = new Set<string>();
    for (const { sequence, reason } of poison) {
      logger.error("poison record: cannot be read as an event", { sequence, reason });
      failed.add(sequence);
    }
    try {
      const report = await deps.relay().deliver(events.map((e) => e.event));
      for (const sink of ["eventbridge", "kafka"] as const) {
        metrics.addMetric(`OutboxPublished_${sink}`, MetricUnit.Count, report.delivered[sink]);
      }
      if (report.behind.length > 0) {
        metrics.addMetric("OutboxPaymentsLagging", MetricUnit.Count, report.behind.length);
        logger.warn("deliveries left lagging for the sweeper", { behind: report.behind.slice(0, 20) });
      }
    } catch (error) {
      logger.error("relay batch failed", { reason: (error as Error).message.slice(0, 500) });
      metrics.addMetric("OutboxRelayErrors", MetricUnit.Count, 1);
      for (const { sequence } of events) failed.add(sequence);
    } finally {
      metrics.publishStoredMetrics();
    }
    return { batchItemFailures: batchItemFailures(event.Records, failed) };
  };
}

const wiring = createRelayWiring();

/** The outbox relay: a DynamoDB Streams Lambda on the event table, filtered to event items. */
export const handler = withColdStartMetric(createRelayHandler({ relay: wiring.relay }));
