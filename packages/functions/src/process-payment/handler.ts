import { createOrderFailureNotes } from "@payments/adapters/dynamodb";
import { fraudThresholdsFromConfig, normalizeCurrency } from "@payments/core";
import { queues } from "@payments/topology";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger, metrics, withColdStartMetric } from "../shared/observability";
import { createProcessorWiring } from "../shared/processor-wiring";
import { createBatchHandler } from "./batch-handler";

/** Checked at cold start: a threshold that is not a whole number from 1 to 100 stops the function here. */
const wiring = createProcessorWiring({ fraudThresholds: fraudThresholdsFromConfig(process.env) });

export const handler = withColdStartMetric(
  createBatchHandler({
    processOrder: wiring.processOrder,
    // Checked at cold start too: an unknown DEFAULT_CURRENCY would refuse every message as malformed.
    defaultCurrency: normalizeCurrency(process.env.DEFAULT_CURRENCY ?? "usd"),
    logger,
    metrics,
    maxReceiveCount: queues.orders.deadLetter.maxReceiveCount,
    noteFailure: lazy(() => {
      const notes = createOrderFailureNotes({
        client: wiring.dynamodb(),
        tableName: Resource.ReadModels.name,
      });
      return notes.note;
    }),
  }),
);
