import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger, metrics, traced, withColdStartMetric } from "../shared/observability";
import type { Relay, SweepReport } from "./relay";
import { type DrainReport, drainStreamFailures } from "./stream-failures";
import { createRelayWiring } from "./wiring";

/** Leaves this much of the invocation's time unused, so a sweep never runs into the timeout. */
const SAFETY_MS = 10_000;

/**
 * The sweeper (every minute, SPEC §5): first the batches the stream subscription gave up on (their
 * payments are marked lagging), then the lagging payments, OUTBOX_BATCH_SIZE at a time, one after
 * another. A delivery still behind after OUTBOX_MAX_RETRIES sweeps is marked failed and counted in
 * the `OutboxDeliveriesFailed` metric.
 */
export function createSweeperHandler(deps: {
  relay: () => Relay;
  batchSize: number;
  drain: () => Promise<DrainReport>;
  /** Deliveries in the failed state (open failure records), up to a bound: the alarm's gauge (SPEC §8). */
  openFailures?: () => Promise<number>;
}) {
  return async function handler(
    _event: unknown,
    context?: Context,
  ): Promise<{ drained: DrainReport; swept: SweepReport }> {
    const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
    const drained = await deps.drain();
    if (drained.expired.length > 0) {
      logger.error("stream records past retention: send them with `npm run replay -- bus --since …`", {
        expired: drained.expired,
      });
    }
    const swept = await deps.relay().sweep({
      batchSize: deps.batchSize,
      deadline: Date.now() + Math.max(1000, remaining - SAFETY_MS),
    });
    metrics.addMetric("OutboxPaymentsSwept", MetricUnit.Count, swept.swept);
    metrics.addMetric("OutboxDeliveriesFailed", MetricUnit.Count, swept.failed);
    if (deps.openFailures)
      metrics.addMetric("OutboxOpenFailures", MetricUnit.Count, await deps.openFailures());
    metrics.publishStoredMetrics();
    if (drained.messages > 0 || swept.swept > 0) logger.info("sweep done", { drained, swept });
    return { drained, swept };
  };
}

const wiring = createRelayWiring();
const sqs = lazy(() => traced(new SQSClient({})));
const streams = lazy(() => new DynamoDBStreamsClient({}));

export const handler = withColdStartMetric(
  createSweeperHandler({
    relay: wiring.relay,
    batchSize: wiring.config.batchSize,
    openFailures: async () => (await wiring.deliveries().listFailures("open", { limit: 1000 })).length,
    drain: () =>
      drainStreamFailures({
        sqs: sqs(),
        queueUrl: Resource.RelayFailures.url,
        streams: streams(),
        relay: wiring.relay(),
      }),
  }),
);
